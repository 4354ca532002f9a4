#include <fmt/format.h>

#include "frontend/node.hpp"

namespace strata::frontend {
namespace {

// Go's unicode.IsPrint, approximated for the ranges that matter in
// Dockerfiles: controls, C1 controls, separators and surrogates are not
// printable; everything else is.
bool go_is_print(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return false;
    if (c == 0xAD || c == 0xA0 || c == 0x2028 || c == 0x2029 || (c >= 0x2000 && c <= 0x200F) ||
        (c >= 0xD800 && c <= 0xDFFF) || c == 0xFEFF || c == 0x3000 || c == 0x1680 || c == 0x202F ||
        c == 0x205F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) ||
        (c >= 0xFFF9 && c <= 0xFFFB) || c == 0xFFFE || c == 0xFFFF) {
        return false;
    }
    return c <= 0x10FFFF;
}

}  // namespace

std::string go_quote(std::string_view s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        size_t len = b0 < 0x80             ? 1
                     : (b0 & 0xE0) == 0xC0 ? 2
                     : (b0 & 0xF0) == 0xE0 ? 3
                     : (b0 & 0xF8) == 0xF0 ? 4
                                           : 0;
        char32_t cp = 0;
        bool valid = len > 0 && i + len <= s.size();
        if (valid) {
            cp = len == 1 ? b0 : b0 & (0x7F >> len);
            for (size_t k = 1; k < len; ++k) {
                const auto b = static_cast<unsigned char>(s[i + k]);
                if ((b & 0xC0) != 0x80) {
                    valid = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
            if (valid && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
                valid = false;
            }
        }
        if (!valid) {
            out += fmt::format("\\x{:02x}", b0);
            ++i;
            continue;
        }
        switch (cp) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
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
                if (go_is_print(cp)) {
                    out.append(s.substr(i, len));
                } else if (cp < 0x80) {
                    out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
                } else if (cp < 0x10000) {
                    out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
                } else {
                    out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
                }
        }
        i += len;
    }
    out += '"';
    return out;
}

std::string dump_node(const Node& node) {
    std::string out = node.name;
    if (!node.flags.empty()) {
        out += " [";
        for (size_t i = 0; i < node.flags.size(); ++i) {
            if (i > 0) out += ' ';
            out += go_quote(node.flags[i].text);
        }
        out += ']';
    }
    if (node.trigger) out += " (" + dump_node(*node.trigger) + ")";
    for (const std::string& arg : node.args)
        out += " " + go_quote(arg);
    return out;
}

std::string dump_tree(const ParsedDockerfile& df) {
    std::string out;
    for (const Node& node : df.nodes) {
        if (!out.empty()) out += '\n';
        out += "(" + dump_node(node) + ")";
    }
    return out;
}

}  // namespace strata::frontend
