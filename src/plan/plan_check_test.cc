#include "volley/plan/plan_check.h"

#include <gtest/gtest.h>

#include <regex>

#include "volley/config/plan_yaml.h"

namespace volley::plan {
namespace {

// Whole-plan problems of a YAML plan keep the position of the value and show it.
TEST(CheckPlan, WholePlanProblemsArePositionedAndShowTheValues) {
  auto read = config::ParsePlanYaml(R"(version: "1.0"
config:
  baseUrl: http://127.0.0.1:9/
  duration: 0s
load:
  model: ramp
  min: 500
  max: 100
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)",
                                    "plan.yaml");
  ASSERT_TRUE(read) << read.error().message;
  auto r = CheckPlan(*read);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  const std::vector<std::string>& lines = r.error().problems;
  ASSERT_EQ(lines.size(), 2u) << r.error().message;
  EXPECT_EQ(lines[0], "plan.yaml:4:13: config.duration: must be > 0, got 0ns");
  EXPECT_EQ(lines[1], "plan.yaml:7:8: load.min: must be <= load.max (min 500, max 100)");
}

// A key the plan leaves out is positioned at its section.
TEST(CheckPlan, AMissingKeyIsPositionedAtItsSection) {
  auto read = config::ParsePlanYaml(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:9/", duration: 5s}
load:
  model: dailytraffic
  min: 1
  mid: 2
  max: 3
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)",
                                    "daily.yaml");
  ASSERT_TRUE(read) << read.error().message;
  auto r = CheckPlan(*read);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().problems.size(), 1u) << r.error().message;
  EXPECT_EQ(r.error().problems[0], "daily.yaml:4:3: load.cycleDuration: must be > 0, got 0ns");
}

}  // namespace
}  // namespace volley::plan
