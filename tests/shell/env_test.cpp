// Env: ordered, later settings override, unset distinct from empty.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

TEST(ShellEnv, UnsetIsNotEmpty) {
    const Env env{{"EMPTY", ""}, {"X", "1"}};
    ASSERT_TRUE(env.get("EMPTY").has_value());
    EXPECT_EQ(*env.get("EMPTY"), "");
    EXPECT_FALSE(env.get("MISSING").has_value());
    EXPECT_TRUE(env.contains("X"));
    EXPECT_FALSE(env.contains("x"));  // case-sensitive
    EXPECT_EQ(env.size(), 2u);
}

TEST(ShellEnv, LaterEntriesOverrideInPlace) {
    Env env{{"A", "1"}, {"B", "2"}, {"A", "3"}};
    EXPECT_EQ(*env.get("A"), "3");
    ASSERT_EQ(env.size(), 2u);
    EXPECT_EQ(env.entries()[0].name, "A");
    EXPECT_EQ(env.entries()[1].name, "B");
    env.set("B", "");
    EXPECT_EQ(*env.get("B"), "");
}

TEST(ShellEnv, FromListReadsNameEqualsValue) {
    const Env env = Env::from_list({"PATH=/bin:/usr/bin", "EQ=a=b", "BARE", "car=hat", "car=bike"});
    EXPECT_EQ(*env.get("PATH"), "/bin:/usr/bin");
    EXPECT_EQ(*env.get("EQ"), "a=b");
    EXPECT_EQ(*env.get("BARE"), "");
    EXPECT_EQ(*env.get("car"), "bike");
    EXPECT_EQ(env.size(), 4u);
}

TEST(ShellEnv, EraseKeepsTheRestFindable) {
    Env env{{"A", "1"}, {"B", "2"}, {"C", "3"}};
    EXPECT_TRUE(env.erase("A"));
    EXPECT_FALSE(env.erase("A"));
    EXPECT_FALSE(env.contains("A"));
    EXPECT_EQ(*env.get("B"), "2");
    EXPECT_EQ(*env.get("C"), "3");
    env.set("A", "4");
    EXPECT_EQ(env.entries().back().name, "A");
    EXPECT_EQ(expand_word("$A$B$C", env).word, "423");
}

TEST(ShellEnv, CopiesAreIndependent) {
    Env a{{"K", "1"}};
    Env b = a;
    b.set("K", "2");
    EXPECT_EQ(*a.get("K"), "1");
    EXPECT_EQ(*b.get("K"), "2");
}

}  // namespace
