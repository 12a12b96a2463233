// Scenario mode of the worker: each connection carries one virtual user that runs a
// scenario's steps one after another (worker.h has the contract).
#include <cstdio>
#include <ctime>

#include "volley/common/strings.h"
#include "worker.h"

namespace volley::engine {
namespace {

// Bodies kept for extraction and assertions (the rest is counted, not kept).
constexpr size_t kMaxBodyCapture = 1 << 20;

int64_t UnixSeconds() { return static_cast<int64_t>(time(nullptr)); }

inline uint64_t Micros(Nanos d) {
  return d.count() <= 0 ? 0 : static_cast<uint64_t>((d.count() + 999) / 1000);
}

}  // namespace

void VirtualUser::OnTimer() { worker->OnUserTimer(*this); }

void Worker::BindScenarioMetrics() {
  using metrics::SeriesKey;
  const ScenarioProgram& p = *shared_.program;
  for (const CompiledScenario& sc : p.scenarios) {
    const metrics::Labels s{{names::kScenarioLabel, sc.name}};
    ScenarioMetrics m;
    m.requests = shard_.GetCounter(SeriesKey(names::kScenarioRequests, s));
    m.succeeded =
        shard_.GetCounter(SeriesKey(names::kScenarioExecutions, {s[0], {"status", "success"}}));
    m.failed =
        shard_.GetCounter(SeriesKey(names::kScenarioExecutions, {s[0], {"status", "failure"}}));
    m.exhausted = shard_.GetCounter(SeriesKey(names::kDataExhausted, s));
    m.duration = shard_.GetTrend(SeriesKey(names::kScenarioDuration, s));
    for (const CompiledStep& st : sc.steps) {
      const std::pair<std::string, std::string> step{names::kStepLabel, st.name};
      StepMetrics sm;
      sm.ok = shard_.GetCounter(SeriesKey(names::kStepsTotal, {s[0], step, {"status", "success"}}));
      sm.failed =
          shard_.GetCounter(SeriesKey(names::kStepsTotal, {s[0], step, {"status", "failure"}}));
      sm.assertions_passed =
          shard_.GetCounter(SeriesKey(names::kAssertions, {s[0], step, {"result", "passed"}}));
      sm.assertions_failed =
          shard_.GetCounter(SeriesKey(names::kAssertions, {s[0], step, {"result", "failed"}}));
      sm.duration = shard_.GetTrend(SeriesKey(names::kStepDuration, {s[0], step}));
      m.steps.push_back(std::move(sm));
    }
    scenario_metrics_.push_back(std::move(m));
  }
}

void Worker::LogOnce(const std::string& message) {
  if (shared_.program->NoteOnce(message)) fprintf(stderr, "volley: %s\n", message.c_str());
}

bool Worker::AwaitsReconnect(const Connection& c) {
  return c.state() == Connection::State::kClosed && !c.armed();
}

bool Worker::UserNeedsConnection(const Connection& c) const {
  return !users_.empty() && users_[c.id()]->phase != VirtualUser::Phase::kIdle;
}

void Worker::StartScenarioIteration(Connection& c, Nanos intended) {
  VirtualUser& u = *users_[c.id()];
  const ScenarioProgram& p = *shared_.program;
  u.scenario = p.picker.Pick(rng_);
  const CompiledScenario& sc = p.scenarios[u.scenario];
  if (sc.data) {
    const auto row = sc.data->Next(rng_);
    if (!row) {
      // A sequential data file ran out: this iteration does not run; in the closed model
      // the user stops for good (its connection closes).
      scenario_metrics_[u.scenario].exhausted->value += 1;
      LogOnce("scenario '" + sc.name + "': data file " + sc.data_path +
              " has no rows left (strategy sequential); its users stop");
      if (!open_) {
        c.Close();
        if (--active_users_ == 0) BeginStop();
      } else if (c.idle()) {
        // The arrival is spent; the connection goes back to the pool (not through
        // OnReady, which could recurse through every queued arrival).
        c.pool_slot = static_cast<int32_t>(idle_.size());
        idle_.push_back(&c);
      }
      return;
    }
    sc.data->Assign(*row, sc.data_columns, &u.vars);
  }
  ++in_flight_;
  u.step = 0;
  u.attempt = 0;
  u.iteration_ok = true;
  u.iteration_start = intended;
  SendStep(c, u, intended);
}

void Worker::SendStep(Connection& c, VirtualUser& u, Nanos intended) {
  u.intended = intended;
  if (!c.idle()) {
    u.phase = VirtualUser::Phase::kWaiting;  // OnReady sends it
    return;
  }
  const CompiledScenario& sc = shared_.program->scenarios[u.scenario];
  const CompiledStep& st = sc.steps[u.step];
  std::string& out = u.request;
  out.clear();
  out += st.method;
  out += ' ';
  std::string_view undefined;
  bool ok = st.path.Render(u.vars, &out, &undefined);
  const size_t path_start = st.method.size() + 1;
  if (ok) u.cookie_path.assign(out, path_start, out.size() - path_start);
  ok = ok && st.query.Render(u.vars, &out, &undefined);
  out += " HTTP/1.1\r\n";
  for (size_t i = 0; ok && i < st.headers.size(); ++i) {
    out += st.headers[i].first;
    out += ": ";
    ok = st.headers[i].second.Render(u.vars, &out, &undefined);
    out += "\r\n";
  }
  body_buffer_.clear();
  ok = ok && st.body.Render(u.vars, &body_buffer_, &undefined);
  if (!ok) {
    // A variable no extraction has set yet (e.g. the extraction found nothing). The step
    // fails and the user goes on from the loop (never recursively: every step could fail).
    CountFailure(ErrorCategory::kOther, "undefined variable in a request");
    LogOnce("scenario '" + sc.name + "', step '" + st.name + "': variable '" +
            std::string(undefined) + "' is not set; the step is counted as other_error");
    CountStepOutcome(u, false);
    u.iteration_ok = false;
    u.attempt = -1;
    u.phase = VirtualUser::Phase::kSleeping;
    loop_.Arm(&u, loop_.Now());
    return;
  }
  if (u.cookies.size() > 0) {
    const size_t mark = out.size();
    out += "Cookie: ";
    if (u.cookies.Render(u.cookie_path, loop_.Now(), &out) == 0) {
      out.resize(mark);  // all expired
    } else {
      out += "\r\n";
    }
  }
  if (st.send_length || !body_buffer_.empty()) {
    out += "Content-Length: ";
    out += std::to_string(body_buffer_.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += body_buffer_;
  c.set_request_timeout(sc.timeout);
  c.set_capture(true, st.needs_body ? kMaxBodyCapture : 0);
  u.phase = VirtualUser::Phase::kOnWire;
  c.tag = intended;
  c.Send(out, st.head, st.replayable);
}

void Worker::OnScenarioResponse(Connection& c, const ResponseParser& response) {
  VirtualUser& u = *users_[c.id()];
  const CompiledScenario& sc = shared_.program->scenarios[u.scenario];
  const CompiledStep& st = sc.steps[u.step];
  ScenarioMetrics& sm = scenario_metrics_[u.scenario];
  StepMetrics& m = sm.steps[u.step];
  const RequestTimings& t = c.timings();
  sm.requests->value += 1;
  m.duration->RecordUnits(Micros(t.done - t.send_start));
  const int code = response.status_code();
  metrics::Counter* status = nullptr;
  for (auto& [k, counter] : m.status) {
    if (k == code) status = counter;
  }
  if (!status) {
    status = shard_.GetCounter(
        metrics::SeriesKey(names::kStepStatusCodes, {{names::kScenarioLabel, sc.name},
                                                     {names::kStepLabel, st.name},
                                                     {names::kStatusLabel, std::to_string(code)}}));
    m.status.emplace_back(code, status);
  }
  status->value += 1;

  headers_.clear();
  for (size_t i = 0; i < response.header_count(); ++i) {
    headers_.emplace_back(response.header_name(i), response.header_value(i));
  }
  scenario::ResponseView view;
  view.status = code;
  view.headers = headers_;
  view.body = response.body();
  view.elapsed = t.done - t.send_start;
  u.cookies.StoreAll(view, u.cookie_path, loop_.Now(), UnixSeconds());
  json_cache_.Reset();
  for (const scenario::Extractor& x : st.extract) {
    x.ApplyTo(view, json_cache_, &scratch_, &u.vars);
  }
  bool ok = code < 400;
  for (const scenario::Assertion& a : st.assertions) {
    if (a.Check(view, json_cache_, nullptr)) {
      m.assertions_passed->value += 1;
    } else {
      m.assertions_failed->value += 1;
      ok = false;
    }
  }
  c.tag = Nanos(0);
  AfterStep(c, u, ok, code >= 500);
}

void Worker::OnScenarioFailure(Connection& c, ErrorCategory category, const char* what) {
  VirtualUser& u = *users_[c.id()];
  LeavePool(c);
  if (c.tag != Nanos(0)) {  // the step's request failed
    CountFailure(category, what);
    m_.sent->value += static_cast<double>(c.timings().bytes_sent);
    m_.received->value += static_cast<double>(c.timings().bytes_received);
    scenario_metrics_[u.scenario].requests->value += 1;
    c.tag = Nanos(0);
    if (c.timings().send_start == Nanos(0)) ++connect_failures_[c.id()];
    AfterStep(c, u, false, true);
  } else {
    ++connect_failures_[c.id()];
    if (u.phase == VirtualUser::Phase::kWaiting) {
      // The step was waiting for this connection, which could not (re)connect.
      CountFailure(category, what);
      scenario_metrics_[u.scenario].requests->value += 1;
      AfterStep(c, u, false, true);
    } else if (u.phase == VirtualUser::Phase::kIdle) {
      if (!open_ && !stopping_ && budget_ > 0) {
        --budget_;
        CountFailure(category, what);
      } else if (open_ && queue_size_ > 0) {
        queue_head_ = (queue_head_ + 1) % queue_.size();
        --queue_size_;
        CountFailure(category, what);
      }
    }
  }
  if (AwaitsReconnect(c)) Reconnect(c);
  MaybeFinish();
}

void Worker::CountStepOutcome(const VirtualUser& u, bool ok) {
  StepMetrics& m = scenario_metrics_[u.scenario].steps[u.step];
  (ok ? m.ok : m.failed)->value += 1;
}

void Worker::AfterStep(Connection& c, VirtualUser& u, bool ok, bool retryable) {
  const CompiledScenario& sc = shared_.program->scenarios[u.scenario];
  if (!ok && retryable && u.attempt < sc.retries && !interrupting_) {
    ++u.attempt;
    u.phase = VirtualUser::Phase::kSleeping;
    loop_.Arm(&u, loop_.Now() + sc.retry_delay);
    return;
  }
  CountStepOutcome(u, ok);
  if (!ok) u.iteration_ok = false;
  const config::ThinkTime& think = sc.steps[u.step].think;
  if (interrupting_) {
    EndIteration(c, u, true);
    return;
  }
  if (!think.none()) {
    const Nanos pause = scenario::SampleThinkTime(think, rng_);
    u.phase = VirtualUser::Phase::kSleeping;
    u.attempt = -1;  // marks "think", not "retry", for OnUserTimer
    loop_.Arm(&u, loop_.Now() + pause);
    return;
  }
  NextStep(c, u);
}

void Worker::NextStep(Connection& c, VirtualUser& u) {
  const CompiledScenario& sc = shared_.program->scenarios[u.scenario];
  if (u.step + 1 >= sc.steps.size()) {
    EndIteration(c, u, false);
    return;
  }
  ++u.step;
  u.attempt = 0;
  SendStep(c, u, loop_.Now());
}

void Worker::OnUserTimer(VirtualUser& u) {
  Connection& c = *u.connection;
  if (interrupting_) {
    EndIteration(c, u, true);
    return;
  }
  if (u.attempt < 0) {
    NextStep(c, u);  // think time over
  } else {
    SendStep(c, u, loop_.Now());  // retry the same step
  }
  if (u.phase == VirtualUser::Phase::kWaiting && AwaitsReconnect(c)) Reconnect(c);
  MaybeFinish();
}

void Worker::EndIteration(Connection& c, VirtualUser& u, bool interrupted) {
  loop_.Cancel(&u);
  const bool was_idle = u.phase == VirtualUser::Phase::kIdle;
  u.phase = VirtualUser::Phase::kIdle;
  if (was_idle) return;
  if (!interrupted) {
    ScenarioMetrics& sm = scenario_metrics_[u.scenario];
    (u.iteration_ok ? sm.succeeded : sm.failed)->value += 1;
    sm.duration->RecordUnits(Micros(loop_.Now() - u.iteration_start));
  }
  --in_flight_;
  // An idle connection serves the next iteration (or goes back to the pool); a closed one
  // is reconnected by whoever closed it.
  if (c.idle()) OnReady(c);
  MaybeFinish();
}

void Worker::InterruptUsers() {
  if (!interrupting_) return;
  for (auto& u : users_) {
    if (u->phase == VirtualUser::Phase::kSleeping || u->phase == VirtualUser::Phase::kWaiting) {
      loop_.Cancel(u.get());
      u->phase = VirtualUser::Phase::kIdle;
      --in_flight_;
    }
  }
}

}  // namespace volley::engine
