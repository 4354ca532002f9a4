#include "cli/filter_args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "base/error.hpp"
#include "base/go/strings.hpp"
#include "base/go/time.hpp"
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

bool FilterArgs::labels_match(const std::map<std::string, std::string>& labels,
                              std::string_view key) const {
    for (const std::string& v : values(key)) {
        const size_t eq = v.find('=');
        const auto it = labels.find(v.substr(0, eq));
        if (it == labels.end()) return false;
        if (eq != std::string::npos && it->second != v.substr(eq + 1)) return false;
    }
    return true;
}

store::Timestamp until_time(const std::string& v) {
    if (const auto d = go::time::parse_duration(v)) {
        const store::Timestamp now = store::now_timestamp();
        const int64_t ns = static_cast<int64_t>(now.nanos) - *d % 1'000'000'000;
        return {now.seconds - *d / 1'000'000'000 + (ns < 0 ? -1 : 0),
                static_cast<int32_t>(ns < 0 ? ns + 1'000'000'000 : ns)};
    }
    // Unix seconds; a fraction after them is dropped.
    int64_t seconds = 0;
    const std::string_view whole = std::string_view(v).substr(0, v.find('.'));
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    if (!whole.empty() && ec == std::errc() && end == whole.data() + whole.size() &&
        v.find_first_not_of("0123456789", whole.size() + 1) == std::string::npos)
        return {seconds, 0};
    if (const auto t = store::parse_timestamp(v)) return *t;
    throw Error(ErrorKind::kUsage,
                fmt::format("failed to parse value as time or duration: \"{}\"", v));
}

bool FilterArgs::prune_labels_match(const std::map<std::string, std::string>& labels) const {
    if (!labels_match(labels)) return false;
    return !has("label!") || !labels_match(labels, "label!");
}

std::optional<store::Timestamp> FilterArgs::prune_until() const {
    const std::vector<std::string>& v = values("until");
    if (v.empty()) return std::nullopt;
    if (v.size() > 1) throw Error(ErrorKind::kUsage, "more than one until filter specified");
    return until_time(v.front());
}

}  // namespace strata::cli
