// Env: the ordered name → value list an expansion reads.
#include "frontend/shell_expander.hpp"

namespace strata::frontend {

Env::Env(std::initializer_list<std::pair<std::string_view, std::string_view>> entries) {
    for (const auto& [name, value] : entries)
        set(name, value);
}

Env Env::from_list(const std::vector<std::string>& list) {
    Env env;
    for (const std::string& item : list) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos) {
            env.set(item, "");
        } else {
            env.set(std::string_view(item).substr(0, eq), std::string_view(item).substr(eq + 1));
        }
    }
    return env;
}

void Env::set(std::string_view name, std::string_view value) {
    if (const auto it = index_.find(name); it != index_.end()) {
        entries_[it->second].value.assign(value);
        return;
    }
    index_.emplace(std::string(name), entries_.size());
    entries_.push_back({std::string(name), std::string(value)});
}

bool Env::erase(std::string_view name) {
    const auto it = index_.find(name);
    if (it == index_.end()) return false;
    const size_t idx = it->second;
    index_.erase(it);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(idx));
    for (size_t i = idx; i < entries_.size(); ++i)
        index_.find(entries_[i].name)->second = i;
    return true;
}

std::optional<std::string_view> Env::get(std::string_view name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) return std::nullopt;
    return std::string_view(entries_[it->second].value);
}

}  // namespace strata::frontend
