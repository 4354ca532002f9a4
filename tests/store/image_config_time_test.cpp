// Image config times are read as Go's time.Parse(time.RFC3339, …) reads them:
// the same inputs accepted with the same instant, the same ones refused with
// Go's message, and an image config with a bad time refused naming the field.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/image_config.hpp"
#include "store/image_config_time.hpp"

namespace strata::store {
namespace {

struct Accepted {
    const char* text;
    int64_t seconds;
    int32_t nanos;
};

// Expected instants computed independently (Python's calendar.timegm).
const Accepted kAccepted[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2023-11-14T22:13:20Z", 1700000000, 0},
    {"2023-11-14T22:13:20.5Z", 1700000000, 500000000},
    {"2023-11-14T22:13:20.000000001Z", 1700000000, 1},
    // Digits past the ninth are dropped, not rounded.
    {"2023-11-14T22:13:20.1234567899999Z", 1700000000, 123456789},
    // Go takes a comma as the fraction's separator too.
    {"2023-11-14T22:13:20,25Z", 1700000000, 250000000},
    {"2023-11-14T23:13:20+01:00", 1700000000, 0},
    {"2023-11-14T21:13:20-01:00", 1700000000, 0},
    {"2023-11-15T03:43:20+05:30", 1700000000, 0},
    // Go's parser tests the offset with > rather than >=.
    {"2023-11-15T22:13:20+24:00", 1700000000, 0},
    {"2023-11-14T23:13:20+00:60", 1700000000, 0},
    // The hour alone may have one digit in Go's layout ("15").
    {"2023-11-14T2:13:20Z", 1699928000, 0},
    // Leap years: every 4th, not every 100th, every 400th.
    {"2024-02-29T00:00:00Z", 1709164800, 0},
    {"2000-02-29T00:00:00Z", 951782400, 0},
    {"0000-01-01T00:00:00Z", -62167219200, 0},
    {"9999-12-31T23:59:59.999999999Z", 253402300799, 999999999},
};

TEST(Rfc3339Time, AcceptsWhatGoAccepts) {
    for (const auto& c : kAccepted) {
        SCOPED_TRACE(c.text);
        auto parsed = parse_timestamp_checked(c.text);
        ASSERT_TRUE(parsed.time) << parsed.error;
        EXPECT_EQ(parsed.time->seconds, c.seconds);
        EXPECT_EQ(parsed.time->nanos, c.nanos);
        EXPECT_EQ(parse_timestamp(c.text), parsed.time);
    }
}

struct Refused {
    const char* text;
    const char* error;  // Go's time.Parse error, word for word
};

const Refused kRefused[] = {
    // Impossible dates: Go checks the day against its month and year.
    {"2023-02-31T00:00:00Z", R"(parsing time "2023-02-31T00:00:00Z": day out of range)"},
    {"2023-02-29T00:00:00Z", R"(parsing time "2023-02-29T00:00:00Z": day out of range)"},
    {"1900-02-29T00:00:00Z", R"(parsing time "1900-02-29T00:00:00Z": day out of range)"},
    {"2023-04-31T00:00:00Z", R"(parsing time "2023-04-31T00:00:00Z": day out of range)"},
    {"2023-01-00T00:00:00Z", R"(parsing time "2023-01-00T00:00:00Z": day out of range)"},
    {"2023-01-32T00:00:00Z", R"(parsing time "2023-01-32T00:00:00Z": day out of range)"},
    {"2023-00-01T00:00:00Z", R"(parsing time "2023-00-01T00:00:00Z": month out of range)"},
    {"2023-13-01T00:00:00Z", R"(parsing time "2023-13-01T00:00:00Z": month out of range)"},
    {"2023-11-14T24:00:00Z", R"(parsing time "2023-11-14T24:00:00Z": hour out of range)"},
    {"2023-11-14T23:60:00Z", R"(parsing time "2023-11-14T23:60:00Z": minute out of range)"},
    // No leap second.
    {"2016-12-31T23:59:60Z", R"(parsing time "2016-12-31T23:59:60Z": second out of range)"},
    // A field out of range is reported before a bad day.
    {"2023-02-31T25:00:00Z", R"(parsing time "2023-02-31T25:00:00Z": hour out of range)"},
    // Offsets: the minute's complaint wins when both are out of range.
    {"2023-11-14T22:13:20+99:99",
     R"(parsing time "2023-11-14T22:13:20+99:99": time zone offset minute out of range)"},
    {"2023-11-14T22:13:20+25:00",
     R"(parsing time "2023-11-14T22:13:20+25:00": time zone offset hour out of range)"},
    {"2023-11-14T22:13:20-00:61",
     R"(parsing time "2023-11-14T22:13:20-00:61": time zone offset minute out of range)"},
    // Syntax: Go names the layout element it could not match.
    {"", R"(parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006")"},
    {"23-11-14T22:13:20Z",
     R"(parsing time "23-11-14T22:13:20Z" as "2006-01-02T15:04:05Z07:00": cannot parse "23-11-14T22:13:20Z" as "2006")"},
    {"2023-1-14T22:13:20Z",
     R"(parsing time "2023-1-14T22:13:20Z" as "2006-01-02T15:04:05Z07:00": cannot parse "1-14T22:13:20Z" as "01")"},
    {"2023-11-14",
     R"(parsing time "2023-11-14" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T")"},
    {"2023-11-14t22:13:20Z",
     R"(parsing time "2023-11-14t22:13:20Z" as "2006-01-02T15:04:05Z07:00": cannot parse "t22:13:20Z" as "T")"},
    {"2023-11-14 22:13:20Z",
     R"(parsing time "2023-11-14 22:13:20Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 22:13:20Z" as "T")"},
    {"2023-11-14T22:13:2Z",
     R"(parsing time "2023-11-14T22:13:2Z" as "2006-01-02T15:04:05Z07:00": cannot parse "2Z" as "05")"},
    {"2023-11-14T22:13:20",
     R"(parsing time "2023-11-14T22:13:20" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00")"},
    {"2023-11-14T22:13:20z",
     R"(parsing time "2023-11-14T22:13:20z" as "2006-01-02T15:04:05Z07:00": cannot parse "z" as "Z07:00")"},
    {"2023-11-14T22:13:20.Z",
     R"(parsing time "2023-11-14T22:13:20.Z" as "2006-01-02T15:04:05Z07:00": cannot parse ".Z" as "Z07:00")"},
    {"2023-11-14T22:13:20+0100",
     R"(parsing time "2023-11-14T22:13:20+0100" as "2006-01-02T15:04:05Z07:00": cannot parse "+0100" as "Z07:00")"},
    {"2023-11-14T22:13:20*01:00",
     R"(parsing time "2023-11-14T22:13:20*01:00" as "2006-01-02T15:04:05Z07:00": cannot parse "*01:00" as "Z07:00")"},
    {"2023-11-14T22:13:20Z ", R"(parsing time "2023-11-14T22:13:20Z ": extra text: " ")"},
    {"2023-11-14T22:13:20Z\xc3\xa9",
     R"(parsing time "2023-11-14T22:13:20Z\xc3\xa9": extra text: "\xc3\xa9")"},
};

TEST(Rfc3339Time, RefusesWhatGoRefusesWithGosMessage) {
    for (const auto& c : kRefused) {
        SCOPED_TRACE(c.text);
        auto parsed = parse_timestamp_checked(c.text);
        EXPECT_FALSE(parsed.time) << format_timestamp(*parsed.time);
        EXPECT_EQ(parsed.error, c.error);
        EXPECT_FALSE(parse_timestamp(c.text));
    }
}

TEST(Rfc3339Time, FormattedTimesParseBack) {
    for (Timestamp t : {Timestamp{0, 0}, Timestamp{1700000000, 500000000}, Timestamp{951782400, 1},
                        now_timestamp()})
        EXPECT_EQ(parse_timestamp(format_timestamp(t)), t);
}

// An image config with an impossible time is refused as Docker refuses it;
// the error names the document (the caller's "what": the config's digest or
// the archive member) and the field.
TEST(Rfc3339Time, ImageConfigWithABadTimeNamesTheFieldAndTheImage) {
    const std::string what = "config sha256:0123";
    try {
        ImageConfig::parse(R"({"created": "2023-02-31T00:00:00Z", "rootfs": {"type": "layers"}})",
                           what);
        FAIL() << "2023-02-31 accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse);
        EXPECT_STREQ(e.what(), R"(config sha256:0123: field "created": parsing time )"
                               R"("2023-02-31T00:00:00Z": day out of range)");
    }
    try {
        ImageConfig::parse(R"({"history": [{"created": "2023-01-01T00:00:00Z"},
                                           {"created": "2023-01-01T00:00:60Z"}]})",
                           what);
        FAIL() << "second 60 accepted";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), R"(config sha256:0123: field "history[1].created": parsing time )"
                               R"("2023-01-01T00:00:60Z": second out of range)");
    }
    // Absent and null times stay absent; good ones are kept byte for byte.
    auto ok = ImageConfig::parse(
        R"({"created": null, "history": [{"created": "2023-11-14T23:13:20+01:00"}, {}]})", what);
    EXPECT_FALSE(ok.created);
    ASSERT_EQ(ok.history.size(), 2u);
    EXPECT_EQ(ok.history[0].created, "2023-11-14T23:13:20+01:00");
    EXPECT_FALSE(ok.history[1].created);
}

}  // namespace
}  // namespace strata::store
