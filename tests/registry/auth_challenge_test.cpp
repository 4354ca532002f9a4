#include "registry/auth_challenge.hpp"

#include <gtest/gtest.h>

namespace strata::registry {
namespace {

struct Row {
    const char* header;
    std::vector<Challenge> want;
};

TEST(AuthChallenge, Table) {
    const Row rows[] = {
        {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")",
         {{"bearer",
           {{"realm", "https://auth.docker.io/token"},
            {"service", "registry.docker.io"},
            {"scope", "repository:library/busybox:pull"}}}}},
        // a scope list with commas inside the quotes, spaces around '='
        {R"(Bearer realm = "http://127.0.0.1:1/t" , scope="repository:a:pull,push repository:b:pull")",
         {{"bearer",
           {{"realm", "http://127.0.0.1:1/t"},
            {"scope", "repository:a:pull,push repository:b:pull"}}}}},
        {R"(Basic realm="Registry Realm")", {{"basic", {{"realm", "Registry Realm"}}}}},
        // scheme in any case, unquoted values, escaped quote
        {R"(BEARER Realm=https://x/token,Service=reg,error="insufficient_scope",x="a\"b")",
         {{"bearer",
           {{"realm", "https://x/token"},
            {"service", "reg"},
            {"error", "insufficient_scope"},
            {"x", "a\"b"}}}}},
        // two challenges in one header
        {R"(Basic realm="r", Bearer realm="https://t",service="s")",
         {{"basic", {{"realm", "r"}}}, {"bearer", {{"realm", "https://t"}, {"service", "s"}}}}},
        // a scheme without parameters
        {"Negotiate", {{"negotiate", {}}}},
        {"", {}},
        {" , ,", {}},
        // an unterminated quote takes the rest
        {R"(Bearer realm="https://t)", {{"bearer", {{"realm", "https://t"}}}}},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.header);
        const std::vector<Challenge> got = parse_challenges(row.header);
        ASSERT_EQ(got.size(), row.want.size());
        for (size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].scheme, row.want[i].scheme);
            EXPECT_EQ(got[i].params, row.want[i].params);
        }
    }
}

TEST(AuthChallenge, ParamOfAbsentNameIsEmpty) {
    const auto ch = parse_challenges(R"(Bearer realm="r")");
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].param("realm"), "r");
    EXPECT_EQ(ch[0].param("service"), "");
}

}  // namespace
}  // namespace strata::registry
