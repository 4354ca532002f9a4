#include <algorithm>

#include "planner/expansion.hpp"

namespace strata::planner {

void EnvList::set(const std::string& name, const std::string& value) {
    for (EnvVar& v : vars_) {
        if (v.first == name) {
            v.second = value;
            return;
        }
    }
    vars_.emplace_back(name, value);
}

void EnvList::erase(const std::string& name) {
    std::erase_if(vars_, [&](const EnvVar& v) { return v.first == name; });
}

std::optional<std::string> EnvList::get(std::string_view name) const {
    for (const EnvVar& v : vars_) {
        if (v.first == name) return v.second;
    }
    return std::nullopt;
}

EnvList env_from_config(const std::vector<std::string>& entries) {
    EnvList env;
    for (const std::string& e : entries) {
        const size_t eq = e.find('=');
        if (eq == std::string::npos) {
            env.set(e, "");
        } else {
            env.set(e.substr(0, eq), e.substr(eq + 1));
        }
    }
    return env;
}

}  // namespace strata::planner
