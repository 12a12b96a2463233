// What only the system knows of a plan: the node id (hostname) and a fresh run id.
#include "volley/config/identity.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace volley::config {

void FillIdentity(TestPlan& plan) {
  if (plan.node_id.empty()) {
    char host[256] = {};
    plan.node_id = gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "localhost";
  }
  if (plan.run_id.empty()) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    std::random_device rd;
    char suffix[8];
    snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
    plan.run_id = std::string("run-") + stamp + "-" + suffix;
  }
}

}  // namespace volley::config
