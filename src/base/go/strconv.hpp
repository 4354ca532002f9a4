// Go's strconv quoting: how fmt's `%q` prints a string, which BuildKit uses in
// history texts (`CMD ["sh" "-c"]`), parse-tree dumps and error messages.
#pragma once

#include <string>
#include <string_view>

namespace strata::go::strconv {

// strconv.Quote: a double-quoted Go string literal. Printable characters
// (unicode.IsPrint) are kept as UTF-8; '"' and '\' are escaped; \a \b \f \n
// \r \t \v by name; other ASCII controls and DEL as \xHH; other non-printable
// runes as \uHHHH or \UHHHHHHHH; each byte of invalid UTF-8 as \xHH.
std::string quote(std::string_view s);

}  // namespace strata::go::strconv
