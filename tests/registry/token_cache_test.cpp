#include "registry/token_cache.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

#include "registry/authenticator.hpp"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

struct FakeClock {
    Clock::time_point now = Clock::from_time_t(1'700'000'000);
};

TEST(TokenCache, ValidUntilShortlyBeforeExpiry) {
    FakeClock clock;
    TokenCache cache([&] { return clock.now; });
    const std::string key = TokenCache::key("h", "svc", {"repository:a:pull"});
    cache.put(key, "tok", 300s);
    EXPECT_EQ(cache.get(key), "tok");
    clock.now += 289s;
    EXPECT_EQ(cache.get(key), "tok");
    clock.now += 1s;  // 10 s margin before the 300 s
    EXPECT_EQ(cache.get(key), std::nullopt);
}

TEST(TokenCache, IssuedAtCountsAndSkewIsIgnored) {
    FakeClock clock;
    TokenCache cache([&] { return clock.now; });
    cache.put("past", "t1", 100s, clock.now - 50s);
    clock.now += 40s;  // 90 s after issue: within the 10 s margin of 100 s
    EXPECT_EQ(cache.get("past"), std::nullopt);
    // issued "in the future" (the server's clock is ahead): counted from now
    cache.put("future", "t2", 100s, clock.now + 3600s);
    clock.now += 80s;
    EXPECT_EQ(cache.get("future"), "t2");
    // issued long ago (the server's clock is behind): counted from now
    cache.put("behind", "t3", 100s, clock.now - 7200s);
    EXPECT_EQ(cache.get("behind"), "t3");
}

TEST(TokenCache, KeyIgnoresScopeOrderAndDuplicates) {
    EXPECT_EQ(TokenCache::key("h", "s", {"b", "a", "b"}), TokenCache::key("h", "s", {"a", "b"}));
    EXPECT_NE(TokenCache::key("h", "s", {"a"}), TokenCache::key("h", "s", {"a", "b"}));
    EXPECT_NE(TokenCache::key("h1", "s", {"a"}), TokenCache::key("h2", "s", {"a"}));
}

TEST(TokenCache, Forget) {
    TokenCache cache;
    cache.put("k", "t", 60s);
    cache.forget("k");
    EXPECT_EQ(cache.get("k"), std::nullopt);
}

TEST(TokenResponse, TokenOrAccessTokenAndLifetime) {
    BearerToken t = parse_token_response(R"({"token":"abc","expires_in":300})");
    EXPECT_EQ(t.token, "abc");
    EXPECT_EQ(t.expires_in, 300s);
    EXPECT_FALSE(t.issued_at);
    t = parse_token_response(R"({"access_token":"xyz","issued_at":"2024-05-01T10:00:00.123Z"})");
    EXPECT_EQ(t.token, "xyz");
    EXPECT_EQ(t.expires_in, 60s);  // the default
    ASSERT_TRUE(t.issued_at);
    EXPECT_EQ(Clock::to_time_t(*t.issued_at), 1714557600);
    t = parse_token_response(
        R"({"token":"a","expires_in":5,"issued_at":"2024-05-01T12:00:00+02:00"})");
    EXPECT_EQ(t.expires_in, 60s);  // at least a minute, as Docker takes it
    EXPECT_EQ(Clock::to_time_t(*t.issued_at), 1714557600);
    EXPECT_THROW(parse_token_response(R"({"expires_in":5})"), Error);
    EXPECT_THROW(parse_token_response("not json"), Error);
}

}  // namespace
}  // namespace strata::registry
