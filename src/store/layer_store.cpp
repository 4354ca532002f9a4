#include "store/layer_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>

#include "base/atomic_file.hpp"
#include "base/boot_id.hpp"
#include "base/error.hpp"
#include "base/lock_file.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_copy.hpp"
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

// The lock on layers/<name>.lock while layers/<name>/ is made. The file is
// removed before the lock is let go, so that none is left beside the layers:
// one who waited on it finds the layer made (or, after a failure, unpacks
// it; a third arriving then may unpack beside it, which the rename into
// place settles).
class UnpackLock {
  public:
    explicit UnpackLock(std::filesystem::path path)
        : lock_(LockFile::exclusive(path)), path_(std::move(path)) {}
    ~UnpackLock() { ::unlink(path_.c_str()); }
    UnpackLock(const UnpackLock&) = delete;
    UnpackLock& operator=(const UnpackLock&) = delete;

  private:
    LockFile lock_;
    std::filesystem::path path_;
};

bool is_exists_error(int err) {
    return err == EEXIST || err == ENOTEMPTY;
}

}  // namespace

LayerStore::LayerStore(std::filesystem::path root, ContentStore& blobs, LayerStoreOptions opts)
    : root_(std::move(root)), blobs_(blobs), opts_(opts) {
    std::error_code ec;
    std::filesystem::create_directories(root_ / "layers", ec);
    if (ec) throw system_error("create directory", (root_ / "layers").string(), ec.value());
    std::filesystem::create_directories(root_ / "tmp", ec);
    if (ec) throw system_error("create directory", (root_ / "tmp").string(), ec.value());
    claim_for_this_boot();
}

std::filesystem::path LayerStore::path(const Digest& diff_id) const {
    if (diff_id.algorithm != "sha256" || diff_id.hex.size() != 64)
        throw Error(ErrorKind::kParse, "unsupported diffID '" + diff_id.str() + "'");
    return root_ / "layers" / diff_id.hex;
}

std::filesystem::path LayerStore::path(const Digest& diff_id, unsigned occurrence) const {
    if (occurrence <= 1) return path(diff_id);
    return path(diff_id).string() + "." + std::to_string(occurrence);
}

std::filesystem::path LayerStore::lock_path(const std::string& name) const {
    return root_ / "layers" / (name + ".lock");
}

std::filesystem::path LayerStore::boot_stamp() const {
    return root_ / "layers" / ".boot";
}

bool LayerStore::stamped_this_boot() const {
    UniqueFd fd(::open(boot_stamp().c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buf[64];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    return n > 0 && std::string_view(buf, static_cast<size_t>(n)) == boot_id();
}

void LayerStore::claim_for_this_boot() {
    if (boot_id().empty() || stamped_this_boot()) return;
    // The lock is the store's root directory, which is never renamed: two
    // processes starting at once after a reboot rotate once.
    UniqueFd rootfd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw system_error("open", root_.string());
    while (::flock(rootfd.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw system_error("flock", root_.string());
    if (stamped_this_boot()) return;
    const auto layers = root_ / "layers";
    std::error_code ec;
    struct stat st {};
    if (!std::filesystem::is_empty(layers, ec) && ::lstat(layers.c_str(), &st) == 0) {
        // Another boot's layers (or ones from before there was a stamp):
        // any of them may be torn. All go to the trash, `strata prune`
        // removes them, and each is unpacked again from its blob on need.
        auto trash = TempDir::create(root_ / "tmp", "trash-");
        if (::rename(layers.c_str(), (trash.path() / "d").c_str()) != 0)
            throw system_error("rename", layers.string());
        trash.keep();
        if (::mkdir(layers.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST)
            throw system_error("create directory", layers.string());
    }
    // Durable before any layer is published below it (the rename of the
    // old directory need not be: lost, it is found unstamped again).
    write_file_atomic(boot_stamp(), boot_id());
}

bool LayerStore::present(const std::string& name) const {
    {
        std::lock_guard lock(known_mu_);
        if (known_.count(name)) return true;
    }
    struct stat st {};
    const bool ok = ::lstat((root_ / "layers" / name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (ok) {
        std::lock_guard lock(known_mu_);
        known_.insert(name);
    }
    return ok;
}

bool LayerStore::has(const Digest& diff_id) const {
    return present(path(diff_id).filename().string());
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
    // One unpacker per layer: a second one (another stage of the build,
    // another strata process) waits here and then finds the layer made.
    const auto name = final_path.filename().string();
    UnpackLock lock(lock_path(name));
    if (has(diff_id)) return final_path;
    auto fd = blobs_.open(blob_digest);
    auto tmp = TempDir::create(root_ / "tmp", "layer-");
    if (::chmod(tmp.path().c_str(), 0755) != 0) throw system_error("chmod", tmp.path().string());
    ApplyOptions opts;
    opts.whiteouts = WhiteoutMode::kOverlay;
    opts.same_owner = opts_.same_owner.value_or(::geteuid() == 0);
    opts.user_xattr_overlay = opts_.user_xattr_overlay;
    opts.expected_diff_id = diff_id;
    if (auto written = written_like(diff_id)) {
        if (*written && **written != diff_id && has(**written)) opts.link_from = path(**written);
        opts.expected_diff_id.reset();  // written and hashed by this process
        opts.compute_diff_id = false;
    }
    ApplyStats stats;
    try {
        apply_layer(fd.get(), tmp.path(), opts, &stats);
        linked_ += stats.linked;
    } catch (const Error& e) {
        throw Error(e.kind(), "unpacking layer " + diff_id.str() + " (blob " + blob_digest.str() +
                                  "): " + e.what());
    }
    return adopt(tmp.path(), diff_id);  // tmp's destructor finds it gone, or removes it
}

void LayerStore::note_written(const Digest& diff_id, const std::optional<Digest>& like) {
    std::lock_guard<std::mutex> g(known_mu_);
    written_.insert_or_assign(diff_id, like);
}

std::optional<std::optional<Digest>> LayerStore::written_like(const Digest& diff_id) const {
    std::lock_guard<std::mutex> g(known_mu_);
    auto it = written_.find(diff_id);
    if (it == written_.end()) return std::nullopt;
    return it->second;
}

std::filesystem::path LayerStore::adopt(const std::filesystem::path& dir, const Digest& diff_id) {
    return publish(dir, path(diff_id).filename().string());
}

std::filesystem::path LayerStore::publish(const std::filesystem::path& dir,
                                          const std::string& name) {
    auto final_path = root_ / "layers" / name;
    if (present(name)) {
        discard(dir);
        return final_path;
    }
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) == 0) {
        // Published by another process since present() looked: the same
        // content. (Setting it aside as stale here left a layer in the
        // trash and layers/<name> missing for a moment.)
        if (S_ISDIR(st.st_mode)) {
            discard(dir);
            return final_path;
        }
        // Not a directory, so not a layer: set aside.
        auto stale = TempDir::create(root_ / "tmp", "trash-");
        if (::rename(final_path.c_str(), (stale.path() / "d").c_str()) != 0)
            throw system_error("rename", final_path.string());
        stale.keep();
    }
    // Stamped with the boot (claim_for_this_boot), layers/ is not trusted
    // after a reboot: the files need not reach the disk first.
    const bool this_boot_only = !boot_id().empty();
    if (!this_boot_only) sync_filesystem(dir);  // no boot ID to tell a reboot: flush now
    if (::rename(dir.c_str(), final_path.c_str()) != 0) {
        int err = errno;
        if (!is_exists_error(err)) throw system_error("rename", final_path.string(), err);
        discard(dir);  // another process got there first, with the same content
        return final_path;
    }
    // Nor the rename: after a reboot the layer is not trusted either way.
    if (!this_boot_only) fsync_dir(final_path.parent_path());
    return final_path;
}

void LayerStore::remove(const Digest& diff_id) {
    // Copies first, in order while they are there (copies left behind by
    // an interrupted removal are found by list_copies(); prune sweeps them).
    for (unsigned n = 2;; ++n) {
        struct stat st {};
        if (::lstat(path(diff_id, n).c_str(), &st) != 0) break;
        remove_copy({diff_id, n});
    }
    remove_dir(path(diff_id).filename().string());
}

void LayerStore::remove_copy(const LayerCopy& copy) {
    remove_dir(path(copy.diff_id, copy.occurrence).filename().string());
}

void LayerStore::remove_dir(const std::string& name) {
    {
        std::lock_guard lock(known_mu_);
        known_.erase(name);
    }
    auto p = root_ / "layers" / name;
    // Move it out of layers/ first, so a crash never leaves half a layer there.
    auto doomed = TempDir::create(root_ / "tmp", "remove-");
    auto moved = doomed.path() / "layer";
    if (::rename(p.c_str(), moved.c_str()) != 0) {
        if (errno == ENOENT) return;
        throw system_error("rename", p.string());
    }
    if (boot_id().empty()) fsync_dir(p.parent_path());  // else lost after a reboot anyway
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

namespace {

// "<64 hex>.<n>" with n >= 2: a copy's directory name.
std::optional<LayerCopy> parse_copy_name(const std::string& name) {
    const size_t dot = name.find('.');
    if (dot == std::string::npos) return std::nullopt;
    auto d = Digest::try_parse("sha256:" + name.substr(0, dot));
    const std::string num = name.substr(dot + 1);
    if (!d || num.empty() || num.size() > 6 || num[0] == '0' ||
        num.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const auto n = static_cast<unsigned>(std::stoul(num));
    if (n < 2) return std::nullopt;
    return LayerCopy{*d, n};
}

}  // namespace

std::vector<LayerCopy> LayerStore::list_copies() const {
    std::vector<LayerCopy> out;
    auto dir = root_ / "layers";
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (auto c = parse_copy_name(it->path().filename().string())) out.push_back(*c);
    }
    if (ec) throw system_error("list", dir.string(), ec.value());
    std::sort(out.begin(), out.end());
    return out;
}

std::filesystem::path LayerStore::ensure_copy(const Digest& diff_id, unsigned occurrence) {
    if (occurrence < 2)
        throw Error(ErrorKind::kInternal, "layer copy number " + std::to_string(occurrence));
    const auto name = path(diff_id, occurrence).filename().string();
    if (present(name)) return root_ / "layers" / name;
    UnpackLock lock(lock_path(name));
    if (present(name)) return root_ / "layers" / name;
    if (!has(diff_id))
        throw Error(ErrorKind::kInternal,
                    "copying layer " + diff_id.str() + ", which is not unpacked");
    auto tmp = TempDir::create(root_ / "tmp", "layer-");
    link_layer_tree(path(diff_id), tmp.path(), opts_.same_owner.value_or(::geteuid() == 0));
    return publish(tmp.path(), name);  // tmp's destructor finds it gone, or removes it
}

std::vector<std::filesystem::path> LayerStore::ensure_chain(const std::vector<ChainLayer>& chain) {
    std::vector<std::filesystem::path> out;
    out.reserve(chain.size());
    std::map<Digest, unsigned> seen;
    for (const auto& l : chain) {
        const unsigned n = ++seen[l.diff_id];
        auto first = ensure_unpacked(l.blob, l.diff_id);
        out.push_back(n == 1 ? first : ensure_copy(l.diff_id, n));
    }
    return out;
}

}  // namespace strata::store
