// Timestamps in image configs: RFC 3339 as Go's time.RFC3339Nano writes them
// ("2024-05-01T12:00:00.5Z": UTC, fraction without trailing zeros), read as
// Go's time.Parse(time.RFC3339, …) reads them — which is how Docker and
// BuildKit decode an image config's "created" fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::store {

struct Timestamp {
    int64_t seconds = 0;  // since the Unix epoch
    int32_t nanos = 0;
    auto operator<=>(const Timestamp&) const = default;
};

std::string format_timestamp(const Timestamp& t);
// The current time (nanosecond precision).
Timestamp now_timestamp();

// What Go's time.Parse(time.RFC3339, text) accepts, and nothing else:
// "YYYY-MM-DDTHH:MM:SS", an optional fraction ('.' or ',' and any number of
// digits, truncated to nanoseconds), then 'Z' or ±HH:MM. Each field is range
// checked as Go does: the day against its month (29 February only in leap
// years), hour < 24, minute < 60, second < 60 (no leap second), offset hour
// <= 24 and offset minute <= 60 (Go's parser tolerates +24:00 and +00:60, and
// so must we to read every image Docker reads). The hour alone may have one
// digit, as in Go.
struct ParsedTimestamp {
    std::optional<Timestamp> time;
    // When time is empty: Go's own message, e.g. `parsing time
    // "2023-02-31T00:00:00Z": day out of range`.
    std::string error;
};
ParsedTimestamp parse_timestamp_checked(std::string_view text);

// parse_timestamp_checked without the reason: nullopt for anything Go rejects.
std::optional<Timestamp> parse_timestamp(std::string_view text);

}  // namespace strata::store
