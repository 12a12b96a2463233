// Running the volley binary from process-level tests: a clean environment, a deadline for
// every child, and `volley target` processes on 127.0.0.1 (shared by the CLI test files).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "fakes/subprocess.h"
#include "volley/config/env.h"

#ifndef VOLLEY_BINARY
#error "VOLLEY_BINARY must name the volley executable"
#endif

namespace volley::testing {

using nlohmann::json;
using std::chrono::milliseconds;

inline constexpr milliseconds kQuick(10'000);  // deadline for a child that should end at once
inline constexpr milliseconds kRunDeadline(20'000);

inline double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

// The environment of every child: ours without any variable volley reads, so a developer's
// TARGET_URL cannot leak into a test.
inline Env CleanEnv(std::map<std::string, std::string> set = {}) {
  Env env;
  for (const auto& doc : config::EnvVarDocs()) env.unset.emplace_back(doc.name);
  env.set = std::move(set);
  return env;
}

inline std::vector<std::string> Argv(std::vector<std::string> args) {
  args.insert(args.begin(), VOLLEY_BINARY);
  return args;
}

// A finished volley process.
struct Outcome {
  ExitStatus status;
  std::string out, err, command;
  double seconds = 0;
  std::string Diagnostics() const {
    return "command: " + command + "\nstatus: " + status.Describe() + "\n--- stdout ---\n" + out +
           "\n--- stderr ---\n" + err;
  }
};

// Runs volley to completion (killed after `deadline`).
inline Outcome RunVolley(const std::vector<std::string>& args, const Env& env = CleanEnv(),
                         milliseconds deadline = kRunDeadline) {
  Outcome o;
  std::string error;
  const auto start = SteadyClock::now();
  auto p = Subprocess::Spawn(Argv(args), env, &error);
  if (!p) {
    o.err = "spawn failed: " + error;
    return o;
  }
  o.status = p->Wait(deadline);
  o.seconds = SecondsSince(start);
  o.out = p->Stdout();
  o.err = p->Stderr();
  o.command = p->command();
  return o;
}

inline json ParseJson(const std::string& text) { return json::parse(text, nullptr, false); }

// ---- the target process ----------------------------------------------------------------

struct Target {
  std::unique_ptr<Subprocess> proc;
  uint16_t port = 0;
  SteadyClock::time_point spawned;  // no later than the server's start (stall windows)
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port) + "/"; }
};

// Starts `volley target --listen 127.0.0.1:0 <flags>` and reads its port from stderr.
inline ::testing::AssertionResult StartTarget(const std::vector<std::string>& flags, Target* t) {
  std::vector<std::string> args = {"target", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::string error;
  t->spawned = SteadyClock::now();
  t->proc = Subprocess::Spawn(Argv(args), CleanEnv(), &error);
  if (!t->proc) return ::testing::AssertionFailure() << "spawn: " << error;
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+) )");
  const auto listening = [](const std::string& text) {
    return std::regex_search(text, kListening);
  };
  if (!t->proc->WaitForStderr(listening, kQuick)) {
    return ::testing::AssertionFailure() << "no 'listening on' line\n" << t->proc->Diagnostics();
  }
  const std::string err = t->proc->Stderr();
  std::smatch m;
  std::regex_search(err, m, kListening);
  t->port = static_cast<uint16_t>(std::stoi(m[1].str()));
  return ::testing::AssertionSuccess();
}

// SIGTERMs the target; returns its exit status and the stats JSON it printed on stdout.
inline ExitStatus StopTarget(Target& t, json* printed) {
  t.proc->Signal(SIGTERM);
  ExitStatus s = t.proc->Wait(kQuick);
  const std::string out = t.proc->Stdout();
  *printed = ParseJson(out);
  return s;
}

}  // namespace volley::testing
