// Go's time package, as far as strata reads what Go programs accept.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace strata::go::time {

// time.ParseDuration: "1m30s", "500ms", "2h", "-1.5h" (units ns, us, µs,
// ms, s, m, h), in nanoseconds. nullopt if invalid or out of range.
std::optional<int64_t> parse_duration(std::string_view s);

}  // namespace strata::go::time
