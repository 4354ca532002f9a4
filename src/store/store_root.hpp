// Where the store lives: --root DIR, else $STRATA_ROOT, else /var/lib/strata
// when running as root, else $XDG_DATA_HOME/strata, else ~/.local/share/strata.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace strata::store {

struct StoreRootInputs {
    std::string flag;                                               // --root, empty when not given
    std::function<std::optional<std::string>(const char*)> getenv;  // default: ::getenv
    std::optional<bool> is_root;                                    // default: geteuid() == 0
};

// The store directory, made absolute (not created). Error(kUsage) when no
// rule gives a directory (no HOME for a non-root user).
std::filesystem::path resolve_store_root(const StoreRootInputs& in);
std::filesystem::path resolve_store_root(std::string_view flag);

}  // namespace strata::store
