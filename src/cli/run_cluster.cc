// `volley run --cluster NODE[,NODE...] plan.yaml` (issue 13 §1): a thin client over a
// cluster's control API. It submits the plan (POST /cluster/config), shows the run's
// progress once a second (GET /cluster/run, and GET /cluster/live when a node answers it),
// fetches GET /cluster/report at the end and exits with its code, as a local `volley run`
// would. The node it talks to may die: it moves on to the next address given.
#include "run_cluster.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "volley/common/env.h"
#include "volley/common/http_client.h"
#include "volley/common/signals.h"
#include "volley/common/strings.h"

namespace volley::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Reply {
  int status = 0;  // 0: no HTTP answer (then `error` says why)
  json body;
  std::string error;
};

// The control API of the cluster's nodes, one address at a time: `current` is the one that
// answered last. Confined to the client's main thread.
class Nodes {
 public:
  // `plan_name` goes with a plan (X-Volley-Plan-Name) so positions name the user's file.
  Nodes(std::vector<std::string> addresses, std::string token, std::string plan_name)
      : addresses_(std::move(addresses)),
        token_(std::move(token)),
        plan_name_(std::move(plan_name)) {}

  Reply Call(size_t i, const std::string& method, const std::string& path, Nanos timeout,
             const std::string& body = "") {
    http::HttpClient client;
    http::ClientRequest req;
    req.method = method;
    req.url = "http://" + addresses_[i] + path;
    req.body = body;
    req.timeout = timeout;
    req.connect_timeout = seconds(1);
    if (!token_.empty()) req.headers.Add("Authorization", "Bearer " + token_);
    if (!body.empty()) {
      req.headers.Add("Content-Type", "application/yaml");
      req.headers.Add("X-Volley-Plan-Name", plan_name_);
    }
    auto res = client.Send(req);
    if (!res) return Reply{0, json(), res.error().message};
    auto j = json::parse(res->body, nullptr, false);
    return Reply{res->status, j.is_discarded() ? json() : std::move(j), ""};
  }

  // `method path` on the current node, then on each next one until one answers HTTP.
  Reply Any(const std::string& method, const std::string& path, Nanos timeout) {
    Reply last;
    for (size_t tried = 0; tried < addresses_.size(); ++tried) {
      last = Call(current_, method, path, timeout);
      if (last.status != 0) return last;
      Next(last.error);
    }
    return last;
  }

  void Next(const std::string& why) {
    const size_t from = current_;
    current_ = (current_ + 1) % addresses_.size();
    if (addresses_.size() > 1 && warned_ != from) {
      fprintf(stderr, "\nvolley: %s does not answer (%s); trying %s\n", addresses_[from].c_str(),
              why.c_str(), addresses_[current_].c_str());
      warned_ = from;
    }
  }

  size_t current() const { return current_; }
  size_t size() const { return addresses_.size(); }
  const std::string& address(size_t i) const { return addresses_[i]; }

 private:
  const std::vector<std::string> addresses_;
  const std::string token_;
  const std::string plan_name_;
  size_t current_ = 0;
  size_t warned_ = SIZE_MAX;
};

// The problems of a refused plan, one per line, as `volley run` prints them.
int PrintRefused(const Reply& r) {
  fprintf(stderr, "volley: the cluster refused the plan; nothing started:\n");
  if (r.body.is_object() && r.body.contains("problems") && r.body["problems"].is_array()) {
    for (const auto& p : r.body["problems"]) {
      fprintf(stderr, "  %s\n", p.is_string() ? p.get<std::string>().c_str() : p.dump().c_str());
    }
  } else {
    fprintf(stderr, "  %s\n", r.body.dump().c_str());
  }
  return kExitConfig;
}

// A number of an untrusted document, or `fallback` when absent or not a number.
double Num(const json& j, const char* key, double fallback = 0) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return fallback;
  return j[key].get<double>();
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// "started | n0 running, n1 done, n2 lost": what changes rarely.
std::string StateText(const json& run) {
  std::string nodes;
  if (run.contains("participants") && run["participants"].is_array()) {
    for (const auto& p : run["participants"]) {
      nodes += (nodes.empty() ? "" : ", ") + Str(p, "node_id") + " " + Str(p, "outcome");
    }
  }
  return Str(run, "phase") + " | " + nodes;
}

// "run ID 12s started | n0 running, n1 done | 1234 req 456/s 0 err p95 3.2ms".
std::string ProgressText(const json& run, const Reply& live, Nanos since) {
  char buf[96];
  snprintf(buf, sizeof buf, "run %s %.0fs ", Str(run, "run_id").c_str(),
           static_cast<double>(since.count()) / 1e9);
  std::string out = buf + StateText(run);
  if (live.status == 200 && live.body.is_object()) {
    const json& l = live.body;
    snprintf(buf, sizeof buf, " | %.0f req %.0f/s %.0f err p95 %.1fms", Num(l, "requests"),
             Num(l, "rps"), Num(l, "errors"), Num(l, "p95_ms"));
    out += buf;
    if (l.contains("degraded") && l["degraded"].is_array() && !l["degraded"].empty()) {
      out += " degraded: " + l["degraded"].dump();
    }
  }
  return out;
}

// Sleeps `d` or until `wake` is notified (a Ctrl-C).
class Pause {
 public:
  void For(Nanos d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d, [&] { return woken_; });
    woken_ = false;
  }
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
};

}  // namespace

Result<std::vector<std::string>> ParseClusterAddresses(std::string_view list) {
  std::vector<std::string> out;
  std::string problems;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    if (comma == std::string_view::npos) comma = list.size();
    std::string one(Trim(list.substr(at, comma - at)));
    at = comma + 1;
    if (one.rfind("http://", 0) == 0) one = one.substr(7);
    while (!one.empty() && one.back() == '/') one.pop_back();
    const size_t colon = one.rfind(':');
    if (one.empty() || colon == std::string::npos || colon == 0 || colon + 1 == one.size() ||
        one.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      problems += (problems.empty() ? "" : "\n") + std::string("--cluster: '") + one +
                  "' is not HOST:PORT (a node's control address, its --listen)";
      continue;
    }
    out.push_back(one);
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return out;
}

int RunCluster(const ClusterRunOptions& options) {
  auto addresses = ParseClusterAddresses(options.nodes);
  if (!addresses) return ReportError(addresses.error(), "flags");
  if (options.plan_path.empty()) {
    return ReportError(Error{ErrorCode::kInvalidArgument,
                             "--cluster needs a plan file: volley run --cluster NODE plan.yaml"},
                       "flags");
  }
  std::ifstream file(options.plan_path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    return ReportError(
        Error{ErrorCode::kInvalidArgument, "cannot read the plan " + options.plan_path}, "plan");
  }
  const std::string plan = text.str();
  const EnvLookup env = ProcessEnv();
  std::string token = EnvOr(env, "VOLLEY_API_TOKEN", "");
  if (token.empty()) token = EnvOr(env, "CLUSTER_TOKEN", "");
  Nodes nodes(std::move(*addresses), token, options.plan_path);

  Pause pause;
  ShutdownSignals::Options on_signal;
  on_signal.first_message =
      "\nvolley: stopping the cluster's run (POST /cluster/stop); Ctrl-C again to quit now\n";
  on_signal.second_exit_code = kExitInterrupted;
  on_signal.on_first = [&pause] { pause.Wake(); };
  ShutdownSignals signals(std::move(on_signal));

  // The run before ours, to recognize ours if a submission's answer was lost.
  const Reply before = nodes.Any("GET", "/cluster/run", seconds(3));
  const std::string previous = Str(before.body, "run_id");
  std::string run_id;
  const Nanos give_up_at = MonotonicNow() + options.unreachable_after;
  while (run_id.empty()) {
    if (signals.interrupted()) return kExitInterrupted;  // nothing was submitted
    const size_t i = nodes.current();
    Reply r = nodes.Call(i, "POST", "/cluster/config", seconds(40), plan);
    if (r.status == 200 && !Str(r.body, "run_id").empty()) {
      run_id = Str(r.body, "run_id");
      break;
    }
    if (r.status == 400) return PrintRefused(r);
    if (r.status == 401) {
      return ReportError(
          Error{ErrorCode::kInvalidArgument,
                nodes.address(i) + " refused the token: set VOLLEY_API_TOKEN to the nodes' "
                                   "VOLLEY_API_TOKEN (or their CLUSTER_TOKEN)"},
          "cluster");
    }
    // No answer or 503: was it committed anyway? A new run under another node's id is ours.
    const Reply now = nodes.Any("GET", "/cluster/run", seconds(3));
    const std::string seen = Str(now.body, "run_id");
    if (r.status == 0 && !seen.empty() && seen != previous &&
        Str(now.body, "plan_name") == options.plan_path) {
      run_id = seen;
      break;
    }
    if (MonotonicNow() >= give_up_at) {
      return ReportError(Error{ErrorCode::kIo, "no node of --cluster took the plan: " +
                                                   (r.status ? "HTTP " + std::to_string(r.status) +
                                                                   " " + r.body.dump()
                                                             : r.error)},
                         "cluster");
    }
    if (r.status == 0) nodes.Next(r.error);
    pause.For(milliseconds(500));
  }
  fprintf(stderr, "volley: run %s submitted to the cluster via %s\n", run_id.c_str(),
          nodes.address(nodes.current()).c_str());

  const bool tty = isatty(STDERR_FILENO) == 1;
  const Nanos started = MonotonicNow();
  Nanos last_answer = MonotonicNow();
  Nanos stop_deadline{0};
  bool stop_sent = false;
  std::string last_state;
  Nanos last_printed{0};
  for (;;) {
    if (signals.interrupted() && !stop_sent) {
      const Reply s = nodes.Any("POST", "/cluster/stop", seconds(10));
      // 409: no active run on that node: ended already (then the loop ends below), or its
      // log has not applied our submit yet: ask again at the next tick.
      stop_sent = s.status == 200;
      if (stop_deadline == Nanos(0)) stop_deadline = MonotonicNow() + options.stop_wait;
    }
    const Reply run = nodes.Any("GET", "/cluster/run", seconds(3));
    if (run.status == 200 && run.body.is_object()) {
      const std::string seen = Str(run.body, "run_id");
      if (seen != run_id && !seen.empty() && seen != previous) {
        return ReportError(
            Error{ErrorCode::kIo, "the cluster's current run is now " + seen + ", not " + run_id},
            "cluster");
      }
      // Ours, or a node whose log has not applied our submit yet (it shows the run before):
      // it counts as an answer only once it knows the run; lagging 5 s, try the next one.
      if (seen == run_id) {
        last_answer = MonotonicNow();
        if (Str(run.body, "phase") == "ended") break;
      } else if (MonotonicNow() - last_answer > seconds(5)) {
        nodes.Next("its log does not show run " + run_id + " yet");
      }
      if (!options.quiet && seen == run_id) {
        const Reply live = nodes.Call(nodes.current(), "GET", "/cluster/live", seconds(2));
        const std::string line = ProgressText(run.body, live, MonotonicNow() - started);
        if (tty) {
          fprintf(stderr, "\r\033[K%s", line.c_str());
        } else if (StateText(run.body) != last_state ||
                   MonotonicNow() - last_printed >= seconds(10)) {
          // Not a terminal: a line when a node's outcome changes, else every 10 s.
          fprintf(stderr, "%s\n", line.c_str());
          last_state = StateText(run.body);
          last_printed = MonotonicNow();
        }
      }
    } else if (MonotonicNow() - last_answer > options.unreachable_after) {
      if (tty) fprintf(stderr, "\n");
      return ReportError(
          Error{ErrorCode::kIo,
                "no node of --cluster answered GET /cluster/run for " +
                    std::to_string(
                        std::chrono::duration_cast<seconds>(options.unreachable_after).count()) +
                    " s (last: " + run.error + "); the run may go on"},
          "cluster");
    }
    if (stop_deadline != Nanos(0) && MonotonicNow() >= stop_deadline) {
      if (tty) fprintf(stderr, "\n");
      fprintf(
          stderr, "volley: run %s had not ended %lld s after the stop; not waiting longer\n",
          run_id.c_str(),
          static_cast<long long>(std::chrono::duration_cast<seconds>(options.stop_wait).count()));
      return kExitInterrupted;
    }
    pause.For(seconds(1));
  }
  if (tty && !options.quiet) fprintf(stderr, "\n");

  Reply report;
  const Nanos report_by = MonotonicNow() + options.unreachable_after;
  for (;;) {
    report = nodes.Any("GET", "/cluster/report", seconds(10));
    // Another run's report: a node behind the one that said "ended"; ask again.
    if (report.status == 200 && report.body.is_object() && Str(report.body, "run_id") == run_id) {
      break;
    }
    if (MonotonicNow() >= report_by) {
      return ReportError(
          Error{ErrorCode::kIo, "no node gave the report of run " + run_id + ": " +
                                    (report.status ? report.body.dump() : report.error)},
          "cluster");
    }
    pause.For(milliseconds(500));
  }
  fputs(Str(report.body, "text").c_str(), stdout);
  fflush(stdout);
  if (!options.summary_export.empty()) {
    std::ofstream out(options.summary_export);
    out << report.body["summary"].dump(2) << "\n";
    out.close();
    if (!out) {
      fprintf(stderr, "volley: cannot write the summary to %s\n", options.summary_export.c_str());
      return kExitRuntime;
    }
  }
  if (signals.interrupted()) return kExitInterrupted;
  const double code = Num(report.body, "exit_code", kExitRuntime);
  return code == kExitThresholds ? kExitThresholds : code == kExitOk ? kExitOk : kExitRuntime;
}

}  // namespace volley::cli
