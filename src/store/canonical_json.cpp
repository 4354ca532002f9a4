#include "store/canonical_json.hpp"

#include <fmt/format.h>

#include "base/error.hpp"

namespace strata::store {

std::string canonical_json(const nlohmann::json& value) {
    try {
        return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::kParse, fmt::format("cannot serialise JSON: {}", e.what()));
    }
}

nlohmann::json parse_json(std::string_view text, std::string_view what) {
    try {
        return nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number like 1e400
        throw Error(ErrorKind::kParse, fmt::format("{}: invalid JSON: {}", what, e.what()));
    }
}

}  // namespace strata::store
