#include "base/go/strconv.hpp"

#include <cstdint>

#include "base/go/unicode.hpp"
#include "base/go/utf8.hpp"

namespace strata::go::strconv {

namespace {

void append_hex(std::string& out, uint32_t v, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        out.push_back(kHex[(v >> shift) & 0xF]);
}

}  // namespace

std::optional<bool> parse_bool(std::string_view s) {
    for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
        if (s == t) return true;
    for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
        if (s == f) return false;
    return std::nullopt;
}

std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const utf8::Rune d = utf8::decode(s, i);
        const char32_t r = d.rune;
        if (d.invalid()) {
            out += "\\x";
            append_hex(out, static_cast<unsigned char>(s[i]), 2);
        } else if (r == '"' || r == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(r));
        } else if (unicode::is_print(r)) {
            out.append(s.substr(i, d.width));
        } else {
            switch (r) {
                case '\a':
                    out += "\\a";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\v':
                    out += "\\v";
                    break;
                default:
                    if (r < ' ' || r == 0x7F) {
                        out += "\\x";
                        append_hex(out, r, 2);
                    } else if (r < 0x10000) {
                        out += "\\u";
                        append_hex(out, r, 4);
                    } else {
                        out += "\\U";
                        append_hex(out, r, 8);
                    }
            }
        }
        i += d.width;
    }
    out.push_back('"');
    return out;
}

}  // namespace strata::go::strconv
