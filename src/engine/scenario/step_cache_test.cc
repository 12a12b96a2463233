#include "scenario/step_cache.h"

#include <gtest/gtest.h>

namespace volley::engine::scenario {
namespace {

using std::chrono::seconds;

// Expiry on the caller's clock, to the nanosecond: fresh before now + ttl, stale at it.
TEST(StepCache, FreshUntilTheTtlEndsThenStale) {
  VariableTable table;
  const VarId token = table.Intern("token");
  const VarId other = table.Intern("other");
  Variables vars(&table);
  StepCache cache;
  EXPECT_FALSE(cache.Restore(0, Nanos(1), &vars));  // nothing stored
  vars.Set(token, "t1");
  cache.Store(0, {token, other}, vars, seconds(10), seconds(60));  // `other` unset: skipped
  vars.Set(token, "changed");
  vars.Set(other, "kept");
  EXPECT_TRUE(cache.Restore(0, seconds(10), &vars));
  EXPECT_EQ(*vars.Get(token), "t1");
  EXPECT_EQ(*vars.Get(other), "kept");
  EXPECT_TRUE(cache.Restore(0, seconds(70) - Nanos(1), &vars));
  EXPECT_FALSE(cache.Restore(0, seconds(70), &vars));
  EXPECT_FALSE(cache.Restore(1, seconds(10), &vars));  // another slot
  // A new store (the step ran again) starts a new period.
  vars.Set(token, "t2");
  cache.Store(0, {token}, vars, seconds(70), seconds(60));
  vars.Set(token, "x");
  EXPECT_TRUE(cache.Restore(0, seconds(129), &vars));
  EXPECT_EQ(*vars.Get(token), "t2");
  EXPECT_FALSE(cache.Restore(0, seconds(130), &vars));
}

}  // namespace
}  // namespace volley::engine::scenario
