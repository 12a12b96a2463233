// `fake_consul`: the FakeConsul agent as a process, for process tests and the README demo.
//
//   fake_consul [--listen 127.0.0.1:8500] [--token T] [--reap-interval 30s]
//               [--min-deregister-after 1m] [--kv key=value | --kv key=@file]...
//
// Prints "fake consul: listening on http://127.0.0.1:<port>" once it serves, then runs
// until SIGINT or SIGTERM.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "fakes/fake_consul.h"
#include "volley/common/duration.h"
#include "volley/common/signals.h"

namespace {

int Usage(const char* why) {
  fprintf(stderr,
          "fake_consul: %s\nusage: fake_consul [--listen HOST:PORT] [--token T] "
          "[--reap-interval D] [--min-deregister-after D] [--kv KEY=VALUE|KEY=@FILE]...\n",
          why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  volley::ShutdownSignals signals;
  volley::fakes::FakeConsulOptions options;
  options.listen = "127.0.0.1:8500";
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(("missing the value of " + flag).c_str());
    const std::string value = argv[++i];
    if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--token") {
      options.acl_token = value;
    } else if (flag == "--reap-interval" || flag == "--min-deregister-after") {
      auto d = volley::ParseDuration(value);
      if (!d) return Usage((flag + ": " + d.error().message).c_str());
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
      (flag == "--reap-interval" ? options.reap_interval : options.min_deregister_after) = ms;
    } else if (flag == "--kv") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos) return Usage("--kv wants KEY=VALUE or KEY=@FILE");
      std::string v = value.substr(eq + 1);
      if (!v.empty() && v[0] == '@') {
        std::ifstream in(v.substr(1), std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        if (!in) return Usage(("--kv: cannot read " + v.substr(1)).c_str());
        v = s.str();
      }
      kv.emplace_back(value.substr(0, eq), v);
    } else {
      return Usage(("unknown flag " + flag).c_str());
    }
  }
  auto consul = volley::fakes::FakeConsul::Start(options);
  if (!consul) {
    fprintf(stderr, "fake_consul: %s\n", consul.error().message.c_str());
    return 1;
  }
  for (const auto& [k, v] : kv) (*consul)->PutKv(k, v);
  printf("fake consul: listening on %s\n", (*consul)->url().c_str());
  fflush(stdout);
  signals.Wait();
  (*consul)->Stop();
  return 0;
}
