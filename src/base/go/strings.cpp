#include "base/go/strings.hpp"

#include "base/go/unicode.hpp"
#include "base/go/utf8.hpp"

namespace strata::go::strings {

std::string_view trim_space(std::string_view s) {
    // Decoding forward finds the same characters as Go's backward scan at the
    // end: a space's lead byte is never swallowed by an invalid sequence.
    size_t begin = s.size();
    size_t end = 0;
    for (size_t i = 0; i < s.size();) {
        const utf8::Rune r = utf8::decode(s, i);
        if (!unicode::is_space(r.rune)) {
            if (begin == s.size()) begin = i;
            end = i + r.width;
        }
        i += r.width;
    }
    return begin == s.size() ? s.substr(s.size()) : s.substr(begin, end - begin);
}

}  // namespace strata::go::strings
