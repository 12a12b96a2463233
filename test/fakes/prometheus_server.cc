#include "fakes/prometheus_server.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <fstream>

#include "fakes/otlp_test_receiver.h"
#include "fakes/raw_http.h"

namespace volley::testing {

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::pair<double, double> QuantileBounds(const metrics::Histogram& h, double q,
                                         const std::vector<double>& bounds) {
  const double step = 100.0 / static_cast<double>(h.count());  // one rank, in percent
  const double low_value = h.Percentile(q * 100 - step);
  const double high_value = h.Percentile(q * 100 + step);
  const auto fine_upper = [&](double v) {
    const auto units = static_cast<uint64_t>(std::ceil(v / h.min_resolution() - 1e-9));
    return static_cast<double>(
               metrics::Histogram::BucketUpperUnits(metrics::Histogram::BucketIndex(units))) *
           h.min_resolution();
  };
  double lower = 0;  // the largest le below the value, 0 below the first bound
  for (double le : bounds) {
    if (le < low_value) lower = le;
  }
  double upper = bounds.back();  // for the +Inf bucket Prometheus answers the last bound
  for (double le : bounds) {
    if (le >= fine_upper(high_value)) {
      upper = le;
      break;
    }
  }
  return {lower, upper};
}

std::unique_ptr<PrometheusServer> PrometheusServer::Start(const PrometheusOptions& options,
                                                          std::string* error) {
  std::unique_ptr<PrometheusServer> p(new PrometheusServer);
  if (!p->dir_.ok()) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  {
    std::ofstream config(p->dir_.File("prometheus.yml"));
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n";
    if (options.scrape_port != 0) {
      config << "scrape_configs:\n  - job_name: volley\n    static_configs:\n"
                "      - targets: ['127.0.0.1:"
             << options.scrape_port << "']\n";
    }
  }
  // The port is probed free, then handed over: another process may take it in between,
  // so a Prometheus that exits at once is retried on a new port.
  for (int attempt = 0; attempt < 3; ++attempt) {
    p->port_ = output::testing::FreeLoopbackPort();
    std::vector<std::string> argv = {
        kPrometheusBinary, "--config.file=" + p->dir_.File("prometheus.yml"),
        "--storage.tsdb.path=" + p->dir_.File("data"),
        "--web.listen-address=127.0.0.1:" + std::to_string(p->port_), "--log.level=warn"};
    if (options.remote_write_receiver) argv.push_back("--web.enable-remote-write-receiver");
    p->process_ = Subprocess::Spawn(argv, Env{}, error);
    if (!p->process_) return nullptr;
    const bool ready = PollUntil(
        [&] {
          if (!p->process_->running()) return true;
          fakes::LoopbackClient c(p->port_);
          c.set_timeout(std::chrono::milliseconds(1000));
          auto r = c.Get("/-/ready");
          return r && r->status == 200;
        },
        milliseconds(20'000), milliseconds(50));
    if (ready && p->process_->running()) return p;
    *error = "prometheus did not become ready:\n" + p->process_->Diagnostics();
    p->process_.reset();  // kills and reaps it
  }
  return nullptr;
}

PrometheusServer::~PrometheusServer() {
  if (process_ && process_->Signal(SIGTERM)) process_->Wait(milliseconds(10'000));
}

std::string PrometheusServer::WriteUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write";
}

std::optional<std::vector<std::pair<nlohmann::json, double>>> PrometheusServer::Query(
    const std::string& promql, std::optional<double> time_s) {
  fakes::LoopbackClient c(port_);
  c.set_timeout(std::chrono::milliseconds(5000));
  std::string target = "/api/v1/query?query=" + UrlEncode(promql);
  if (time_s) {
    char t[64];
    snprintf(t, sizeof t, "%.3f", *time_s);
    target += std::string("&time=") + t;
  }
  auto r = c.Get(target.c_str());
  if (!r || r->status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  std::vector<std::pair<nlohmann::json, double>> out;
  for (const auto& e : j["data"]["result"]) {
    out.emplace_back(e["metric"], std::stod(e["value"][1].get<std::string>()));
  }
  return out;
}

std::optional<double> PrometheusServer::Scalar(const std::string& promql,
                                               std::optional<double> time_s) {
  auto v = Query(promql, time_s);
  if (!v || v->size() != 1) return std::nullopt;
  return v->front().second;
}

}  // namespace volley::testing
