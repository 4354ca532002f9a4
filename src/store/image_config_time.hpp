// Timestamps in image configs: RFC 3339 as Go's time.RFC3339Nano writes them
// ("2024-05-01T12:00:00.5Z": UTC, fraction without trailing zeros).
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
// Accepts RFC 3339 with any fraction length and a Z or ±HH:MM offset;
// nullopt for anything else.
std::optional<Timestamp> parse_timestamp(std::string_view text);

}  // namespace strata::store
