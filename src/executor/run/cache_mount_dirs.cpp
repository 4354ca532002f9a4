#include "executor/run/cache_mount_dirs.hpp"

#include <system_error>

#include "base/error.hpp"
#include "store/digest.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

fs::path CacheMountDirs::dir(const fs::path& root, const std::string& id, bool fresh) {
    fs::path out = root / "mounts" / store::sha256_of(id).hex.substr(0, 32);
    if (!fresh) return out;
    std::lock_guard lock(mu_);
    if (!emptied_.insert(out).second) return out;
    std::error_code ec;
    fs::remove_all(out, ec);
    if (ec)
        throw system_error("empty cache mount directory for --no-cache", out.string(), ec.value());
    return out;
}

}  // namespace strata::executor
