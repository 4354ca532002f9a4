#include "executor/copy/copy.hpp"

#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/magic.h>

#include <mutex>
#include <optional>

#include "base/error.hpp"
#include "base/owner_name.hpp"
#include "base/temp_dir.hpp"
#include "executor/copy/copy_request.hpp"

namespace strata::executor {

namespace {

constexpr std::string_view kTmpfsPrefix = "strata-copy-";

// /dev/shm/strata-copy-<pid>-<start>-XXXXXX when usable, else nothing. The
// ones a killed strata left (their trees are in memory) go first.
std::optional<TempDir> make_tmpfs_scratch() {
    const std::filesystem::path shm = "/dev/shm";
    struct statfs fs {};
    if (::statfs(shm.c_str(), &fs) != 0 || fs.f_type != TMPFS_MAGIC) return std::nullopt;
    try {
        auto dir = owned_temp_dir(shm, kTmpfsPrefix);
        // Directories of the scratch tree get the sources' user.* xattrs, as a
        // layer directory on the store's filesystem would (tmpfs before Linux
        // 6.6 refuses them: then the store's tmp is used).
        const char value = 'y';
        if (::setxattr(dir.path().c_str(), "user.strata.probe", &value, 1, 0) != 0)
            return std::nullopt;
        ::removexattr(dir.path().c_str(), "user.strata.probe");
        return dir;
    } catch (const Error&) {
        return std::nullopt;
    }
}

}  // namespace

std::filesystem::path direct_copy_scratch(const std::filesystem::path& store_tmp) {
    static std::once_flag once;
    static std::optional<TempDir> tmpfs;  // removed at exit
    std::call_once(once, [] { tmpfs = make_tmpfs_scratch(); });
    return tmpfs ? tmpfs->path() : store_tmp;
}

CopyResult run_copy_step(const planner::CopyStep& step, const SourceView& source,
                         const LayerStackView& parent, const std::filesystem::path& layer_dir,
                         const CopyEnvironment& env, std::optional<int64_t> source_date_epoch) {
    return run_copy(copy_request(step, source_date_epoch), source, parent, layer_dir, env);
}

}  // namespace strata::executor
