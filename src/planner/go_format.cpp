#include "planner/go_format.hpp"

#include <fmt/format.h>

#include "base/go/strconv.hpp"

namespace strata::planner {

std::string go_quoted_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ' ';
        out += go::strconv::quote(items[i]);
    }
    return out + "]";
}

std::string go_plain_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ' ';
        out += items[i];
    }
    return out + "]";
}

namespace {

// The digits of v / 10^prec after the decimal point, trailing zeros dropped
// (Go's fmtFrac); v is reduced to its integer part.
std::string fraction(uint64_t& v, int prec) {
    std::string digits;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
        const uint64_t digit = v % 10;
        print = print || digit != 0;
        if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
        v /= 10;
    }
    return digits.empty() ? std::string() : "." + digits;
}

}  // namespace

std::string go_duration(int64_t ns) {
    if (ns == 0) return "0s";
    const bool negative = ns < 0;
    uint64_t u = negative ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
    std::string out;
    if (u < 1'000'000'000ULL) {
        if (u < 1'000ULL) {
            out = fmt::format("{}ns", u);
        } else if (u < 1'000'000ULL) {
            const std::string frac = fraction(u, 3);
            out = fmt::format("{}{}\xC2\xB5s", u, frac);  // µs, as Go prints it
        } else {
            const std::string frac = fraction(u, 6);
            out = fmt::format("{}{}ms", u, frac);
        }
    } else {
        const std::string frac = fraction(u, 9);
        out = fmt::format("{}{}s", u % 60, frac);
        u /= 60;
        if (u > 0) {
            out = fmt::format("{}m", u % 60) + out;
            u /= 60;
            if (u > 0) out = fmt::format("{}h", u) + out;
        }
    }
    return negative ? "-" + out : out;
}

}  // namespace strata::planner
