// ADD --unpack[=BOOL] (current Dockerfile syntax): parsed, carried to the
// step, and part of the cache key only when given.
#include <gtest/gtest.h>

#include "frontend/diagnostic.hpp"
#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

const Step& add_step(const BuildPlan& p) {
    const Step* s = testing::find_step(p.stages.back(), "ADD");
    EXPECT_NE(s, nullptr);
    return *s;
}

std::optional<bool> unpack_of(const std::string& flag) {
    FakeResolver images;
    return add_step(testing::plan("FROM scratch\nADD " + flag + " a.tar /d/\n", images))
        .copy.unpack;
}

TEST(AddUnpackFlag, Parsed) {
    EXPECT_EQ(unpack_of(""), std::nullopt);
    EXPECT_EQ(unpack_of("--unpack"), std::optional<bool>(true));
    EXPECT_EQ(unpack_of("--unpack=true"), std::optional<bool>(true));
    EXPECT_EQ(unpack_of("--unpack=false"), std::optional<bool>(false));
}

TEST(AddUnpackFlag, OnlyForAdd) {
    FakeResolver images;
    try {
        testing::plan("FROM scratch\nCOPY --unpack=false a.tar /d/\n", images);
        ADD_FAILURE() << "COPY --unpack accepted";
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(std::string(e.diagnostic().message).find("unpack"), std::string::npos);
    }
}

TEST(AddUnpackFlag, KeyFieldOnlyWhenGiven) {
    auto fields = [](const std::string& flag) {
        FakeResolver images;
        const BuildPlan p = testing::plan("FROM scratch\nADD " + flag + " a.tar /d/\n", images);
        std::string out;
        for (const auto& f : add_step(p).key_fields)
            if (f.name == "unpack") out += f.value;
        return out;
    };
    EXPECT_EQ(fields(""), "");
    EXPECT_EQ(fields("--unpack=false"), "false");
    EXPECT_EQ(fields("--unpack"), "true");
}

}  // namespace
}  // namespace strata::planner
