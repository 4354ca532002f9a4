#include "cli/filter_args.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"
#include "base/go/strings.hpp"
#include "frontend/line_parsers.hpp"

namespace strata::cli {

FilterArgs FilterArgs::parse(const std::vector<std::string>& args,
                             const std::vector<std::string_view>& accepted) {
    FilterArgs f;
    for (const std::string& a : args) {
        const size_t eq = a.find('=');
        if (eq == std::string::npos)
            throw Error(ErrorKind::kUsage, "bad format of filter (expected name=value)");
        const std::string key =
            frontend::to_lower_ascii(go::strings::trim_space(std::string_view(a).substr(0, eq)));
        if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
            throw Error(ErrorKind::kUsage, fmt::format("invalid filter '{}'", key));
        f.by_key_[key].emplace_back(go::strings::trim_space(std::string_view(a).substr(eq + 1)));
    }
    return f;
}

const std::vector<std::string>& FilterArgs::values(std::string_view key) const {
    static const std::vector<std::string> none;
    const auto it = by_key_.find(key);
    return it == by_key_.end() ? none : it->second;
}

bool FilterArgs::match(
    const std::function<bool(const std::string& key, const std::string& value)>& matches,
    const std::map<std::string, std::string>& labels) const {
    if (!labels_match(labels)) return false;
    for (const auto& entry : by_key_) {
        const std::string& key = entry.first;  // a named variable: clang 14 captures no bindings
        const std::vector<std::string>& values = entry.second;
        if (key == "label") continue;
        if (std::none_of(values.begin(), values.end(),
                         [&](const std::string& v) { return matches(key, v); }))
            return false;
    }
    return true;
}

bool FilterArgs::labels_match(const std::map<std::string, std::string>& labels) const {
    for (const std::string& v : values("label")) {
        const size_t eq = v.find('=');
        const auto it = labels.find(v.substr(0, eq));
        if (it == labels.end()) return false;
        if (eq != std::string::npos && it->second != v.substr(eq + 1)) return false;
    }
    return true;
}

}  // namespace strata::cli
