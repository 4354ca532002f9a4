#include "base/go/units.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace strata::go::units {

std::optional<uint64_t> ram_in_bytes(std::string_view text, std::string* error) {
    const auto fail = [&](std::string msg) -> std::optional<uint64_t> {
        if (error) *error = std::move(msg);
        return std::nullopt;
    };
    const size_t sep = text.find_last_of("0123456789. ");
    if (sep == std::string_view::npos) return fail(fmt::format("invalid size: '{}'", text));
    // A blank between the number and the unit is dropped.
    const std::string_view num = text.substr(0, text[sep] == ' ' ? sep : sep + 1);
    std::string sfx(text.substr(sep + 1));
    for (char& c : sfx)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    double size = 0;
    const char* first = num.data();
    const char* last = num.data() + num.size();
    if (first != last && *first == '+') ++first;  // Go's ParseFloat takes a sign
    const auto [ptr, ec] = std::from_chars(first, last, size);
    if (num.empty() || ec != std::errc() || ptr != last || std::isnan(size))
        return fail(fmt::format("strconv.ParseFloat: parsing \"{}\": invalid syntax", num));
    if (size < 0) return fail(fmt::format("invalid size: '{}'", text));
    if (sfx.empty()) return static_cast<uint64_t>(size);
    const auto bad = [&] { return fail(fmt::format("invalid suffix: '{}'", sfx)); };
    if (sfx.size() > 3) return bad();
    if (sfx[0] == 'b') return sfx.size() == 1 ? std::optional<uint64_t>(size) : bad();
    static const std::string_view units = "kmgtp";  // powers of 1024, as go-units' binaryMap
    const size_t power = units.find(sfx[0]);
    if (power == std::string_view::npos) return bad();
    if ((sfx.size() == 2 && sfx[1] != 'b') || (sfx.size() == 3 && sfx.substr(1) != "ib"))
        return bad();
    for (size_t i = 0; i <= power; ++i)
        size *= 1024;
    if (size >= 18446744073709551616.0) return fail(fmt::format("invalid size: '{}'", text));
    return static_cast<uint64_t>(size);
}

}  // namespace strata::go::units
