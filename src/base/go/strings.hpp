// Go's `strings` functions whose Unicode rules Docker's parsers depend on.
#pragma once

#include <string_view>

namespace strata::go::strings {

// strings.TrimSpace: drops leading and trailing Unicode white space
// (unicode.IsSpace, so U+0085, U+00A0, U+3000 … too, but not U+FEFF).
// Invalid UTF-8 is never space. Returns a view into `s`.
std::string_view trim_space(std::string_view s);

}  // namespace strata::go::strings
