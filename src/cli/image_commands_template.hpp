// A small subset of Go templates for `--format` on inspect: `{{.Field.Sub}}`
// and `{{json .Field}}` (and `{{.}}` / `{{json .}}`), which is what scripts
// use with `docker inspect -f`. Values print as Go's fmt does ("[a b]",
// "map[k:v]"); anything else in braces is Error(kUsage).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace strata::cli {

std::string render_template(std::string_view tmpl, const nlohmann::ordered_json& value);

}  // namespace strata::cli
