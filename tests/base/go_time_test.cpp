// Go's time.ParseDuration, as HEALTHCHECK's flags, `images --filter until=`
// and `builder prune --filter until=` read durations.
#include <gtest/gtest.h>

#include "base/go/time.hpp"

namespace strata {
namespace {

using go::time::parse_duration;

TEST(GoDuration, FormsGoAccepts) {
    EXPECT_EQ(parse_duration("0"), 0);
    EXPECT_EQ(parse_duration("1s"), 1'000'000'000);
    EXPECT_EQ(parse_duration("1m30s"), 90'000'000'000);
    EXPECT_EQ(parse_duration("24h"), 86'400'000'000'000);
    EXPECT_EQ(parse_duration("1.5h"), 5'400'000'000'000);
    EXPECT_EQ(parse_duration("500ms"), 500'000'000);
    EXPECT_EQ(parse_duration("10us"), 10'000);
    EXPECT_EQ(parse_duration("10\xC2\xB5s"), 10'000);
    EXPECT_EQ(parse_duration("7ns"), 7);
    EXPECT_EQ(parse_duration("-2m"), -120'000'000'000);
    EXPECT_EQ(parse_duration("+2m"), 120'000'000'000);
}

TEST(GoDuration, FormsGoRefuses) {
    for (const char* bad : {"", "h", "1", "24", "1d", "1 h", "--1s", ".s", "1e3s", "3000000h"})
        EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace strata
