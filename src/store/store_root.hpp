// Where the store lives: --root DIR, else $STRATA_ROOT, else /var/lib/strata
// when running as root, else $XDG_DATA_HOME/strata, else ~/.local/share/strata.
// Rootless strata runs in a user namespace where it is root
// (src/cli/rootless.hpp): there the default is the one the invoking user's
// strata computed before entering it, passed in kRootlessEnv — never
// /var/lib/strata.
//
// And who may enter it: only its owner (mode 0700). Layer directories keep
// the modes an image gives them (0755 directories, setuid binaries, 0666
// files, device nodes), so a store that other users can traverse hands them
// those files (Docker's CVE-2021-41091).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace strata::store {

// Set (by src/cli/rootless.cpp) for the strata that runs inside the user
// namespace of a rootless strata: the store directory the outer one would
// have used by default ("" when it had none). Also tells that strata not to
// enter a namespace again.
inline constexpr const char* kRootlessEnv = "_STRATA_ROOTLESS";

struct StoreRootInputs {
    std::string flag;                                               // --root, empty when not given
    std::function<std::optional<std::string>(const char*)> getenv;  // default: ::getenv
    std::optional<bool> is_root;                                    // default: geteuid() == 0
};

// The store directory, made absolute (not created). Error(kUsage) when no
// rule gives a directory (no HOME for a non-root user).
std::filesystem::path resolve_store_root(const StoreRootInputs& in);
std::filesystem::path resolve_store_root(std::string_view flag);

// The store directory's mode: owner only. (Docker uses 0710 on
// /var/lib/docker so that the remapped root group of userns-remap can pass;
// strata has no such mode, and a group bit would open a rootless store to
// everyone in a shared primary group such as "users".)
inline constexpr unsigned kStoreRootMode = 0700;

// Makes sure `root` is a store directory only its owner can enter, before
// anything is put in it: creates it kStoreRootMode (missing parents with
// default permissions), or checks an existing one (symlinks in `root` are
// followed — the target is checked). One with group or other access is
// tightened to kStoreRootMode when the current user owns it — the returned
// line says so — and refused (Error kUsage, naming the path, owner and mode
// and what to do) when another user owns it. Returns "" when nothing needed
// saying.
std::string prepare_store_root(const std::filesystem::path& root);

}  // namespace strata::store
