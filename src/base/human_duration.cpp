#include "base/human_duration.hpp"

#include <fmt/format.h>

namespace strata {

std::string human_duration(int64_t seconds) {
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < 60) return fmt::format("{} seconds", seconds);
    const int64_t minutes = seconds / 60;
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return fmt::format("{} minutes", minutes);
    const int64_t hours = (seconds + 1800) / 3600;  // rounded, as go-units does
    if (hours == 1) return "About an hour";
    if (hours < 48) return fmt::format("{} hours", hours);
    if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
    if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
    if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
    return fmt::format("{} years", seconds / 3600 / 24 / 365);
}

}  // namespace strata
