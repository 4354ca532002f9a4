#include "store/layer_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_reader.hpp"

namespace strata::store {

namespace {

// Flushes the filesystem holding `dir`: the unpacked files' data must be on
// disk before the rename makes the layer visible (one syncfs instead of an
// fsync per file).
void sync_filesystem(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open", dir.string());
    if (::syncfs(fd.get()) != 0) throw system_error("syncfs", dir.string());
}

bool is_exists_error(int err) {
    return err == EEXIST || err == ENOTEMPTY;
}

// This boot of the machine, or "" when the kernel does not say.
const std::string& boot_id() {
    static const std::string id = [] {
        std::string s;
        UniqueFd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
        if (!fd) return s;
        char buf[64];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) s.assign(buf, static_cast<size_t>(n));
        while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
            s.pop_back();
        return s;
    }();
    return id;
}

}  // namespace

LayerStore::LayerStore(std::filesystem::path root, ContentStore& blobs, LayerStoreOptions opts)
    : root_(std::move(root)), blobs_(blobs), opts_(opts) {
    std::error_code ec;
    std::filesystem::create_directories(root_ / "layers", ec);
    if (ec) throw system_error("create directory", (root_ / "layers").string(), ec.value());
    std::filesystem::create_directories(root_ / "tmp", ec);
    if (ec) throw system_error("create directory", (root_ / "tmp").string(), ec.value());
}

std::filesystem::path LayerStore::path(const Digest& diff_id) const {
    if (diff_id.algorithm != "sha256" || diff_id.hex.size() != 64)
        throw Error(ErrorKind::kParse, "unsupported diffID '" + diff_id.str() + "'");
    return root_ / "layers" / diff_id.hex;
}

std::filesystem::path LayerStore::marker(const Digest& diff_id) const {
    return path(diff_id).string() + ".unsynced";
}

bool LayerStore::trusted(const Digest& diff_id) const {
    UniqueFd fd(::open(marker(diff_id).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno == ENOENT;
    char buf[64];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    return n > 0 && !boot_id().empty() && std::string(buf, static_cast<size_t>(n)) == boot_id();
}

bool LayerStore::has(const Digest& diff_id) const {
    {
        std::lock_guard lock(known_mu_);
        if (known_.count(diff_id)) return true;
    }
    struct stat st {};
    const bool ok =
        ::lstat(path(diff_id).c_str(), &st) == 0 && S_ISDIR(st.st_mode) && trusted(diff_id);
    if (ok) {
        std::lock_guard lock(known_mu_);
        known_.insert(diff_id);
    }
    return ok;
}

namespace {

// Whether removing `dir` frees fewer than `limit` inodes: directories, and
// files not linked from elsewhere (COPY links unchanged files to the previous
// layer, so its duplicates free next to nothing). Stops counting at `limit`.
bool frees_few_inodes(const std::filesystem::path& dir, size_t limit) {
    size_t n = 1;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) return false;
        if (S_ISDIR(st.st_mode) || st.st_nlink == 1) ++n;
        if (n >= limit) return false;
    }
    return !ec;
}

// A duplicate that frees fewer inodes than this is deleted on the spot;
// deleting a few hundred files costs ext4's next allocations nothing
// measurable, and --no-cache rebuilds of small steps leave no trash.
constexpr size_t kDeleteNowInodes = 1024;

}  // namespace

void LayerStore::discard(const std::filesystem::path& dir) const {
    if (frees_few_inodes(dir, kDeleteNowInodes)) {
        remove_tree(dir);
        return;
    }
    auto trash = TempDir::create(root_ / "tmp", "trash-");
    if (::rename(dir.c_str(), (trash.path() / "d").c_str()) != 0) {
        remove_tree(dir);  // not on the same filesystem? then the slow way
        return;
    }
    trash.keep();
}

size_t LayerStore::trash_count(size_t up_to) const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(root_ / "tmp", ec);
         !ec && it != std::filesystem::directory_iterator() && n < up_to; it.increment(ec))
        n += it->path().filename().string().starts_with("trash-");
    return n;
}

std::filesystem::path LayerStore::ensure_unpacked(const Digest& blob_digest,
                                                  const Digest& diff_id) {
    auto final_path = path(diff_id);
    if (has(diff_id)) return final_path;
    auto fd = blobs_.open(blob_digest);
    auto tmp = TempDir::create(root_ / "tmp", "layer-");
    if (::chmod(tmp.path().c_str(), 0755) != 0) throw system_error("chmod", tmp.path().string());
    ApplyOptions opts;
    opts.whiteouts = WhiteoutMode::kOverlay;
    opts.same_owner = opts_.same_owner.value_or(::geteuid() == 0);
    opts.user_xattr_overlay = opts_.user_xattr_overlay;
    opts.expected_diff_id = diff_id;
    try {
        apply_layer(fd.get(), tmp.path(), opts);
    } catch (const Error& e) {
        throw Error(e.kind(), "unpacking layer " + diff_id.str() + " (blob " + blob_digest.str() +
                                  "): " + e.what());
    }
    return adopt(tmp.path(), diff_id);  // tmp's destructor finds it gone, or removes it
}

std::filesystem::path LayerStore::adopt(const std::filesystem::path& dir, const Digest& diff_id) {
    auto final_path = path(diff_id);
    if (has(diff_id)) {
        discard(dir);
        return final_path;
    }
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) == 0) {
        // A copy written before a reboot that may be torn: set it aside.
        auto stale = TempDir::create(root_ / "tmp", "trash-");
        if (::rename(final_path.c_str(), (stale.path() / "d").c_str()) != 0)
            throw system_error("rename", final_path.string());
        stale.keep();
    }
    if (boot_id().empty()) {
        sync_filesystem(dir);  // no boot ID to tell a reboot: flush now
        ::unlink(marker(diff_id).c_str());
    } else {
        write_file_atomic(marker(diff_id), boot_id());
    }
    if (::rename(dir.c_str(), final_path.c_str()) != 0) {
        int err = errno;
        if (!is_exists_error(err)) throw system_error("rename", final_path.string(), err);
        discard(dir);  // another process got there first, with the same content
        return final_path;
    }
    fsync_dir(final_path.parent_path());
    return final_path;
}

void LayerStore::remove(const Digest& diff_id) {
    {
        std::lock_guard lock(known_mu_);
        known_.erase(diff_id);
    }
    auto p = path(diff_id);
    // Move it out of layers/ first, so a crash never leaves half a layer there.
    auto doomed = TempDir::create(root_ / "tmp", "remove-");
    auto moved = doomed.path() / "layer";
    if (::rename(p.c_str(), moved.c_str()) != 0) {
        if (errno == ENOENT) return;
        throw system_error("rename", p.string());
    }
    ::unlink(marker(diff_id).c_str());
    fsync_dir(p.parent_path());
    doomed.remove();
}

std::vector<Digest> LayerStore::list() const {
    std::vector<Digest> out;
    auto dir = root_ / "layers";
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (auto d = Digest::try_parse("sha256:" + it->path().filename().string()))
            out.push_back(*d);
    }
    if (ec) throw system_error("list", dir.string(), ec.value());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace strata::store
