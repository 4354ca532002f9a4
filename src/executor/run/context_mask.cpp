#include "executor/run/context_mask.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/safe_path.hpp"

namespace strata::executor {

namespace {

namespace fs = std::filesystem;

class MaskWriter {
  public:
    MaskWriter(const cache::ContextSnapshot& snap, const fs::path& mask) : snap_(snap) {
        UniqueFd root(::open(mask.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw system_error("open", mask.string());
        dirs_.emplace(0, std::move(root));
        mask_ = mask.string();
    }

    void whiteout(const cache::Entry& dir, const std::string& name) {
        const int fd = mask_dir(dir);
        if (::mknodat(fd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
            throw system_error("mknod (a whiteout in the mask of)", mask_);
        ++count_;
    }

    // The directories made get the context's modes, owners and times last
    // (a whiteout made in one changes its time).
    size_t finish() {
        for (const auto& [index, fd] : dirs_) {
            const cache::Entry& e = snap_[index];
            if (::fchown(fd.get(), e.uid, e.gid) != 0 && errno != EPERM && errno != EINVAL)
                throw system_error("chown", mask_);
            if (::fchmod(fd.get(), e.mode & 07777) != 0) throw system_error("chmod", mask_);
            const timespec times[2] = {{e.mtime_ns / 1000000000, e.mtime_ns % 1000000000},
                                       {e.mtime_ns / 1000000000, e.mtime_ns % 1000000000}};
            if (::futimens(fd.get(), times) != 0) throw system_error("utimens", mask_);
        }
        return count_;
    }

  private:
    int mask_dir(const cache::Entry& dir) {
        const size_t index = snap_.index_of(dir);
        const auto it = dirs_.find(index);
        if (it != dirs_.end()) return it->second.get();
        const int parent = mask_dir(snap_[dir.parent]);
        const std::string name(dir.name());
        if (::mkdirat(parent, name.c_str(), 0700) != 0) throw system_error("mkdir", mask_);
        UniqueFd fd(
            ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw system_error("open", mask_);
        return dirs_.emplace(index, std::move(fd)).first->second.get();
    }

    const cache::ContextSnapshot& snap_;
    std::string mask_;
    std::map<size_t, UniqueFd> dirs_;  // snapshot index → its directory in the mask
    size_t count_ = 0;
};

void visit(int fd, const cache::Entry& dir, const cache::ContextSnapshot& snap, MaskWriter& mask,
           const std::string& shown) {
    std::set<std::string, std::less<>> kept;
    for (const cache::Entry& child : snap.children(dir))
        kept.emplace(child.name());
    for (const std::string& name : store::list_dir(fd, shown))
        if (kept.count(name) == 0) mask.whiteout(dir, name);
    for (const cache::Entry& child : snap.children(dir)) {
        if (child.type != cache::EntryType::kDir) continue;
        const std::string name(child.name());
        // Not a directory any more (replaced since the snapshot, perhaps by
        // a symlink): nothing below it to hide, and never followed.
        UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) continue;
        visit(sub.get(), child, snap, mask, shown);
    }
}

}  // namespace

size_t make_context_mask(const fs::path& context, const cache::ContextSnapshot& snapshot,
                         const fs::path& mask) {
    if (snapshot.size() == 0) return 0;
    UniqueFd root(::open(context.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw system_error("open the build context", context.string());
    MaskWriter writer(snapshot, mask);
    visit(root.get(), snapshot.root(), snapshot, writer, context.string());
    return writer.finish();
}

std::vector<fs::path> ContextMask::sources(const fs::path& context,
                                           const cache::ContextSnapshot& snapshot,
                                           const frontend::DockerIgnore& ignore,
                                           const fs::path& tmp_parent) {
    if (ignore.empty()) return {context};
    std::call_once(once_, [&] {
        TempDir dir = TempDir::create(tmp_parent, "context-mask-");
        if (make_context_mask(context, snapshot, dir.path()) > 0) dir_.emplace(std::move(dir));
    });
    if (!dir_) return {context};
    return {context, dir_->path()};
}

}  // namespace strata::executor
