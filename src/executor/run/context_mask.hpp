// What a RUN --mount=type=bind of a context (the build's or a named one)
// shows: the directory as its snapshot holds it. BuildKit mounts the files
// the client transferred, which leaves out what .dockerignore excludes; a
// bind of the directory itself would show those too (a `.env` ignored so
// that no step sees it). So when the .dockerignore hides something, the
// mount is a read-only overlay of the directory under a "mask": a tree of
// whiteouts for every name on disk that the snapshot does not hold.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "base/temp_dir.hpp"
#include "cache/context_snapshot.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::executor {

// Writes into the empty directory `mask` one whiteout (a 0/0 character
// device, overlayfs's) for each name in `context` that `snapshot` (taken of
// it) does not hold, and the directories leading to them with the context
// directories' modes, owners and times. Directories are opened one component
// at a time without following symlinks. Returns the number of whiteouts.
size_t make_context_mask(const std::filesystem::path& context,
                         const cache::ContextSnapshot& snapshot, const std::filesystem::path& mask);

// One context's mask, made once per build on first use (thread-safe) and
// removed with it.
class ContextMask {
  public:
    // What to mount for the context, lowest first: the directory alone when
    // its .dockerignore hides nothing in it, else the directory and the mask.
    std::vector<std::filesystem::path> sources(const std::filesystem::path& context,
                                               const cache::ContextSnapshot& snapshot,
                                               const frontend::DockerIgnore& ignore,
                                               const std::filesystem::path& tmp_parent);

  private:
    std::once_flag once_;
    std::optional<TempDir> dir_;
};

}  // namespace strata::executor
