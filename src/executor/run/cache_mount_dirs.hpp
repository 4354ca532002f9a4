// The directories behind `RUN --mount=type=cache`, one per cache id, under
// the store's cache directory. With --no-cache (or --no-cache-filter for the
// stage) BuildKit prunes the cache mounts of that id and the step gets an
// empty one; later steps of the same build then share what it wrote. So a
// directory is emptied at most once per build.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

namespace strata::executor {

class CacheMountDirs {
  public:
    // `root`/mounts/<32 hex digits of sha256(id)>. With `fresh`, the
    // directory is emptied (removed; the runner makes it again with the
    // mount's uid, gid and mode) the first time this build asks for it.
    std::filesystem::path dir(const std::filesystem::path& root, const std::string& id, bool fresh);

  private:
    std::mutex mu_;
    std::set<std::filesystem::path> emptied_;
};

}  // namespace strata::executor
