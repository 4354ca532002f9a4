// Where a COPY/ADD source path leads inside a context snapshot. Symlinks
// are resolved against the snapshot, never against the disk, and a path
// that leads outside the context — by ".." or through a symlink — is an
// error (DESIGN.md: "a COPY source that resolves outside the context is an
// error"), unlike BuildKit, which silently resolves it inside.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cache/context_entry.hpp"

namespace strata::cache {

class ContextSnapshot;

// Lexically cleans a source path: a leading '/' means the context root,
// "." and empty components go, ".." removes the previous component; a
// trailing '/' is dropped. "" is the root. nullopt when ".." climbs above
// the root.
std::optional<std::string> clean_context_path(std::string_view path);

struct Resolution {
    const Entry* entry = nullptr;  // null: no such entry (after following symlinks)
    std::string path;              // the resolved path, symlinks followed
};

// Resolves `path` (as written in the Dockerfile) in the snapshot, following
// symlinks in every component, and in the last one too when `follow_last`.
// Relative symlink targets are resolved from the link's directory, as on the
// disk. Throws Error(kUsage) naming the path and the symlink when the path
// leads outside the context: by "..", or through a symlink whose target
// climbs above the root or is absolute (a host path; BuildKit would re-root
// it inside the context). A symlink loop (more than 40 links) throws
// Error(kNotFound). This matches the executor's BuildContext view.
Resolution resolve_in_context(const ContextSnapshot& snapshot, std::string_view path,
                              bool follow_last = true);

}  // namespace strata::cache
