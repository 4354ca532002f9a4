#include "base/go/time.hpp"

#include <array>
#include <utility>

namespace strata::go::time {

std::optional<int64_t> parse_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    bool negative = false;
    if (s[0] == '-' || s[0] == '+') {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return 0;
    if (s.empty()) return std::nullopt;
    long double total = 0;
    while (!s.empty()) {
        size_t i = 0;
        long double value = 0;
        bool digits = false;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            value = value * 10 + (s[i] - '0');
            ++i;
            digits = true;
        }
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1L;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                value += (s[i] - '0') * scale;
                scale /= 10;
                ++i;
                digits = true;
            }
        }
        if (!digits) return std::nullopt;
        size_t j = i;
        while (j < s.size() && !(s[j] >= '0' && s[j] <= '9') && s[j] != '.')
            ++j;
        const std::string_view unit = s.substr(i, j - i);
        static const std::array<std::pair<std::string_view, long double>, 8> units{{
            {"ns", 1},
            {"us", 1e3L},
            {"\xC2\xB5s", 1e3L},
            {"\xCE\xBCs", 1e3L},
            {"ms", 1e6L},
            {"s", 1e9L},
            {"m", 60e9L},
            {"h", 3600e9L},
        }};
        long double mult = -1;
        for (const auto& [name, m] : units) {
            if (name == unit) mult = m;
        }
        if (mult < 0) return std::nullopt;
        total += value * mult;
        if (total > 9.2e18L) return std::nullopt;
        s.remove_prefix(j);
    }
    const auto ns = static_cast<int64_t>(total);
    return negative ? -ns : ns;
}

}  // namespace strata::go::time
