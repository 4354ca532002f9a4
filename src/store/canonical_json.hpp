// Canonical JSON: the one serialisation strata uses for every JSON document it
// hashes (image configs, manifests, indexes, store records), so that the same
// content always gives the same bytes and the same digest.
//
// Rules: object keys sorted bytewise (nlohmann::json keeps objects in a
// std::map), no whitespace, UTF-8 written as is with only the escapes JSON
// requires, integers only. Invalid UTF-8 in a string is refused.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace strata::store {

// Throws Error(kParse) when a string holds invalid UTF-8.
std::string canonical_json(const nlohmann::json& value);

// Parses JSON text; malformed text gives Error(kParse) naming `what`.
nlohmann::json parse_json(std::string_view text, std::string_view what);

}  // namespace strata::store
