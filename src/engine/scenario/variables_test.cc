#include "scenario/variables.h"

#include <gtest/gtest.h>

namespace volley::engine::scenario {
namespace {

TEST(VariableNameTest, AcceptsLettersDigitsAndPunctuation) {
  EXPECT_TRUE(IsValidVariableName("token"));
  EXPECT_TRUE(IsValidVariableName("user_id-2.x"));
  EXPECT_TRUE(IsValidVariableName(std::string(128, 'a')));
  EXPECT_FALSE(IsValidVariableName(""));
  EXPECT_FALSE(IsValidVariableName(std::string(129, 'a')));
  EXPECT_FALSE(IsValidVariableName("a b"));
  EXPECT_FALSE(IsValidVariableName("a}"));
  EXPECT_FALSE(IsValidVariableName("\xc3\xa9"));
}

TEST(VariableTableTest, InternsDenseIdsOnce) {
  VariableTable table;
  EXPECT_EQ(table.Intern("a"), 0u);
  EXPECT_EQ(table.Intern("b"), 1u);
  EXPECT_EQ(table.Intern("a"), 0u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.Name(1), "b");
  EXPECT_EQ(table.Find("b"), std::optional<VarId>(1));
  EXPECT_EQ(table.Find("c"), std::nullopt);
}

TEST(VariablesTest, SetGetClearById) {
  VariableTable table;
  VarId a = table.Intern("a");
  VarId b = table.Intern("b");
  Variables vars(&table);
  EXPECT_EQ(vars.Get(a), nullptr);
  vars.Set(a, "one");
  ASSERT_NE(vars.Get(a), nullptr);
  EXPECT_EQ(*vars.Get(a), "one");
  EXPECT_EQ(vars.Get(b), nullptr);
  vars.Set(a, "");  // set to empty is still set
  ASSERT_NE(vars.Get(a), nullptr);
  EXPECT_EQ(*vars.Get(a), "");
  vars.Clear();
  EXPECT_EQ(vars.Get(a), nullptr);
  EXPECT_EQ(vars.Get(99), nullptr);  // out of range
}

TEST(VariablesTest, GrowsForIdsInternedLater) {
  VariableTable table;
  Variables vars(&table);
  VarId late = table.Intern("late");
  vars.Set(late, "v");
  EXPECT_EQ(*vars.Get("late"), "v");
}

TEST(VariablesTest, ByNameNeedsKnownName) {
  VariableTable table;
  table.Intern("x");
  Variables vars(&table);
  EXPECT_TRUE(vars.Set("x", "1"));
  EXPECT_FALSE(vars.Set("unknown", "1"));
  EXPECT_EQ(*vars.Get("x"), "1");
  EXPECT_EQ(vars.Get("unknown"), nullptr);
  Variables no_table;
  EXPECT_FALSE(no_table.Set("x", "1"));
  EXPECT_EQ(no_table.Get("x"), nullptr);
}

TEST(VariablesTest, ReusesCapacityWhenWarm) {
  VariableTable table;
  VarId a = table.Intern("a");
  Variables vars(&table);
  vars.Set(a, std::string(100, 'x'));
  const char* before = vars.Get(a)->data();
  vars.Clear();
  vars.Set(a, "short");
  EXPECT_EQ(vars.Get(a)->data(), before);
}

}  // namespace
}  // namespace volley::engine::scenario
