// Docker's --filter parsing (filters.Args), shared by ps and images.
#include "cli/filter_args.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace strata::cli {
namespace {

TEST(FilterArgs, KeysLowerCasedValuesTrimmedAndGrouped) {
    const auto f = FilterArgs::parse({" Name = web ", "name=db", "label=a=b=c"}, {"name", "label"});
    EXPECT_TRUE(f.has("name"));
    EXPECT_FALSE(f.has("id"));
    EXPECT_EQ(f.values("name"), (std::vector<std::string>{"web", "db"}));
    EXPECT_EQ(f.values("label"), std::vector<std::string>{"a=b=c"});
    EXPECT_TRUE(f.values("id").empty());
}

TEST(FilterArgs, OneValueOfEachKeyAndEveryLabel) {
    const auto f = FilterArgs::parse({"name=web", "name=db", "label=tier", "label=env=prod"},
                                     {"name", "label"});
    const auto named = [](std::string name) {
        return [name](const std::string& key, const std::string& value) {
            return key == "name" && value == name;
        };
    };
    const std::map<std::string, std::string> both = {{"tier", "1"}, {"env", "prod"}};
    EXPECT_TRUE(f.match(named("db"), both));
    EXPECT_FALSE(f.match(named("cache"), both));
    EXPECT_FALSE(f.match(named("db"), {{"tier", "1"}}));
    EXPECT_FALSE(f.match(named("db"), {{"tier", "1"}, {"env", "dev"}}));
    EXPECT_TRUE(FilterArgs::parse({}, {"name"}).match(named("x"), {}));
}

TEST(FilterArgs, DockersErrors) {
    const auto message = [](std::vector<std::string> args) {
        try {
            FilterArgs::parse(args, {"name"});
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage);
            return std::string(e.what());
        }
        return std::string("<no error>");
    };
    EXPECT_EQ(message({"name"}), "bad format of filter (expected name=value)");
    EXPECT_EQ(message({"Colour=red"}), "invalid filter 'colour'");
}

}  // namespace
}  // namespace strata::cli
