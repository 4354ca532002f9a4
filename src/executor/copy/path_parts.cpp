#include "executor/copy/path_parts.hpp"

namespace strata::executor {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view part = path.substr(i, j - i);
        if (!part.empty() && part != ".") out.emplace_back(part);
        i = j + 1;
    }
    return out;
}

std::string join_abs(const std::vector<std::string>& components) {
    if (components.empty()) return "/";
    std::string out;
    for (const auto& c : components) {
        out += '/';
        out += c;
    }
    return out;
}

bool contains_wildcards(std::string_view path) {
    for (size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '\\') {
            ++i;
        } else if (c == '*' || c == '?' || c == '[') {
            return true;
        }
    }
    return false;
}

WildcardSplit split_wildcards(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    for (;;) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            parts.push_back(path.substr(i));
            break;
        }
        parts.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    WildcardSplit out;
    bool found = false;
    for (size_t k = 0; k < parts.size(); ++k) {
        if (!found && contains_wildcards(parts[k])) found = true;
        std::string& dst = found ? out.pattern : out.base;
        if (parts[k].empty()) {
            if (k == 0 && !found) dst.push_back('/');  // dst is empty here
            continue;
        }
        if (!dst.empty() && dst.back() != '/') dst += '/';
        dst += parts[k];
    }
    return out;
}

}  // namespace strata::executor
