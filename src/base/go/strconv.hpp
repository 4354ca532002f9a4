// Go's strconv quoting: how fmt's `%q` prints a string, which BuildKit uses in
// history texts (`CMD ["sh" "-c"]`), parse-tree dumps and error messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::go::strconv {

// strconv.Quote: a double-quoted Go string literal. Printable characters
// (unicode.IsPrint) are kept as UTF-8; '"' and '\' are escaped; \a \b \f \n
// \r \t \v by name; other ASCII controls and DEL as \xHH; other non-printable
// runes as \uHHHH or \UHHHHHHHH; each byte of invalid UTF-8 as \xHH.
std::string quote(std::string_view s);

// strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False; nullopt
// for anything else. BuildKit and buildx read option values with it.
std::optional<bool> parse_bool(std::string_view s);

}  // namespace strata::go::strconv
