#include "cli/image_commands_template.hpp"

#include <fmt/format.h>

#include <map>

#include "base/error.hpp"

namespace strata::cli {

using nlohmann::ordered_json;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ')
        s.remove_suffix(1);
    return s;
}

const ordered_json* walk(const ordered_json& root, std::string_view path, std::string_view action) {
    if (path.empty() || path.front() != '.')
        throw Error(ErrorKind::kUsage,
                    fmt::format("template: unsupported action {{{{{}}}}}", action));
    const ordered_json* cur = &root;
    path.remove_prefix(1);
    while (!path.empty()) {
        auto dot = path.find('.');
        std::string key(path.substr(0, dot));
        if (!cur->is_object())
            throw Error(ErrorKind::kUsage,
                        fmt::format("template: {{{{{}}}}}: can't evaluate field {}", action, key));
        auto it = cur->find(key);
        if (it == cur->end()) return nullptr;
        cur = &*it;
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return cur;
}

std::string go_print(const ordered_json& v) {
    switch (v.type()) {
        case ordered_json::value_t::null:
            return "<nil>";
        case ordered_json::value_t::string:
            return v.get<std::string>();
        case ordered_json::value_t::array: {
            std::string out = "[";
            for (size_t i = 0; i < v.size(); ++i)
                out.append(i ? " " : "").append(go_print(v[i]));
            return out + "]";
        }
        case ordered_json::value_t::object: {
            std::map<std::string, std::string> sorted;  // Go prints maps sorted by key
            for (const auto& [k, x] : v.items())
                sorted[k] = go_print(x);
            std::string out = "map[";
            bool first = true;
            for (const auto& [k, x] : sorted) {
                out += (first ? "" : " ") + k + ":" + x;
                first = false;
            }
            return out + "]";
        }
        default:
            return v.dump();
    }
}

}  // namespace

std::string render_template(std::string_view tmpl, const ordered_json& value) {
    std::string out;
    size_t pos = 0;
    while (pos < tmpl.size()) {
        auto open = tmpl.find("{{", pos);
        if (open == std::string_view::npos) {
            out += tmpl.substr(pos);
            break;
        }
        out += tmpl.substr(pos, open - pos);
        auto close = tmpl.find("}}", open + 2);
        if (close == std::string_view::npos)
            throw Error(ErrorKind::kUsage, "template: unclosed action");
        std::string_view action = trim(tmpl.substr(open + 2, close - open - 2));
        bool as_json = action.substr(0, 5) == "json ";
        std::string_view path = as_json ? trim(action.substr(5)) : action;
        const ordered_json* v = walk(value, path, action);
        if (as_json)
            out += v ? v->dump(-1, ' ', false, ordered_json::error_handler_t::replace) : "null";
        else
            out += v ? go_print(*v) : "<no value>";
        pos = close + 2;
    }
    return out;
}

}  // namespace strata::cli
