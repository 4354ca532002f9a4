#include "containers/container_commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "containers/container_diff.hpp"
#include "containers/container_record.hpp"
#include "containers/image_layers.hpp"
#include "sandbox/cgroup_name.hpp"
#include "store/image_config_time.hpp"
#include "store/image_import.hpp"
#include "store/layer_writer.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

// sha256 of an empty tar (1024 zero bytes): Docker's DigestSHA256EmptyTar.
constexpr std::string_view kEmptyTarDiffId =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

std::string upper_word(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

std::string first_word(std::string_view instruction) {
    size_t b = 0;
    while (b < instruction.size() && std::isspace(static_cast<unsigned char>(instruction[b])))
        ++b;
    size_t e = b;
    while (e < instruction.size() && !std::isspace(static_cast<unsigned char>(instruction[e])))
        ++e;
    return std::string(instruction.substr(b, e - b));
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool write_text(const fs::path& p, std::string_view text) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

}  // namespace

void apply_commit_changes(store::ContainerConfig& config, const std::vector<std::string>& changes) {
    static const std::set<std::string> kAllowed = {
        "CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR"};
    // Docker checks every instruction before it applies any.
    for (const auto& change : changes) {
        const std::string word = first_word(change);
        if (!kAllowed.count(upper_word(word)))
            throw Error(ErrorKind::kUsage, fmt::format("{} is not a valid change command",
                                                       word.empty() ? change : word));
    }
    for (const auto& change : changes)
        store::apply_config_change(config, change);
}

store::ImageConfig committed_config(const store::ImageConfig& base,
                                    const store::ContainerConfig& config,
                                    const std::optional<store::Digest>& layer,
                                    const CommitMeta& meta) {
    store::ImageConfig out = base;
    const std::string created = store::format_timestamp(store::now_timestamp());
    out.created = created;
    out.author = meta.author;
    out.config = config;
    if (layer) out.diff_ids.push_back(*layer);
    store::HistoryEntry h;
    h.created = created;
    h.created_by = meta.created_by;
    h.author = meta.author;
    h.comment = meta.comment;
    h.empty_layer = !layer;
    out.history.push_back(std::move(h));
    if (meta.comment.empty())
        out.extra.erase("comment");
    else
        out.extra["comment"] = meta.comment;
    if (meta.container_id.empty())
        out.extra.erase("container");
    else
        out.extra["container"] = meta.container_id;
    return out;
}

std::optional<store::LayerRecord> write_upper_layer(store::ImageStore& store, const fs::path& upper,
                                                    const std::set<std::string>& exclude) {
    store::LayerWriteOptions lw;
    lw.compression = store::Compression::kNone;
    lw.exclude = exclude;
    const store::LayerBlob blob = store::write_layer(upper, store.content(), lw);
    if (blob.diff_id.str() == kEmptyTarDiffId) return std::nullopt;
    return store::LayerRecord{blob.digest, blob.diff_id, blob.size, blob.media_type,
                              blob.content_size};
}

// --- freezing ------------------------------------------------------------------

CgroupFreeze::CgroupFreeze(pid_t pid) {
    // /proc/PID/cgroup: "N:freezer:/path" (v1) or "0::/path" (v2).
    std::istringstream lines(read_text(fmt::format("/proc/{}/cgroup", pid)));
    std::string line, v1, v2;
    while (std::getline(lines, line)) {
        const size_t a = line.find(':');
        const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        const std::string path = line.substr(b + 1);
        if (controllers.empty())
            v2 = path;
        else if (("," + controllers + ",").find(",freezer,") != std::string::npos)
            v1 = path;
    }
    // Only a cgroup the sandbox made for the container: never the caller's
    // session or a slice that holds more (a rootless container has none).
    auto sandbox_made = [](const std::string& path) {
        return path.size() > 1 &&
               sandbox::parse_cgroup_owner(fs::path(path).filename().string()).has_value();
    };
    if (sandbox_made(v1)) {
        file_ = fs::path("/sys/fs/cgroup/freezer") / v1.substr(1) / "freezer.state";
    } else if (sandbox_made(v2)) {
        for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
            const fs::path f = fs::path(mount) / v2.substr(1) / "cgroup.freeze";
            if (::access(f.c_str(), W_OK) == 0) {
                file_ = f;
                v2_ = true;
                break;
            }
        }
    }
    if (file_.empty()) return;
    if (!write_text(file_, v2_ ? "1" : "FROZEN")) {
        const Error e = system_error("freeze the container's cgroup: write", file_.string());
        file_.clear();
        throw e;
    }
    // v1 goes through FREEZING; v2 reports "frozen 1" in cgroup.events.
    const fs::path check = v2_ ? file_.parent_path() / "cgroup.events" : file_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        const std::string s = read_text(check);
        if (v2_ ? s.find("frozen 1") != std::string::npos : s.rfind("FROZEN", 0) == 0) return;
        if (std::chrono::steady_clock::now() > deadline) {
            write_text(file_, v2_ ? "0" : "THAWED");
            const std::string where = file_.string();
            file_.clear();
            throw Error(ErrorKind::kSystem,
                        fmt::format("the container's cgroup did not freeze within 10 s ({}); "
                                    "commit with --pause=false to leave it running",
                                    where));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

CgroupFreeze::~CgroupFreeze() {
    if (!file_.empty()) write_text(file_, v2_ ? "0" : "THAWED");
}

// --- commit ----------------------------------------------------------------------

CommitResult commit_container(store::ImageStore& store, Container c, const CommitOptions& opts) {
    store::ContainerConfig config = c.spec.config;
    apply_commit_changes(config, opts.changes);

    const auto image = store.image(store::Digest::parse(c.spec.image_manifest));
    if (!image)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("the image of container {} ({}) is no longer in the store",
                                c.short_id(), c.spec.image_name));
    const std::vector<fs::path> lower = image_layer_dirs(store, *image);
    LockFile lease = store.lease();

    ContainerStore containers(store.root());
    containers.refresh(c);
    std::optional<LockFile> lock;
    if (c.state.status != Status::kRunning) {
        // A stopped container cannot start while its layer is read.
        lock.emplace(containers.lock(c));
        containers.reload_state(c);
    }
    // Frozen only while its upper directory is read.
    std::optional<CgroupFreeze> freeze;
    if (c.state.status == Status::kRunning && opts.pause && c.state.pid > 0)
        freeze.emplace(c.state.pid);
    const std::set<std::string> stubs = mount_stubs(lower, c.upper(), container_mount_points(c));
    const std::optional<store::LayerRecord> layer = write_upper_layer(store, c.upper(), stubs);
    freeze.reset();
    lock.reset();

    CommitMeta meta;
    meta.comment = opts.comment;
    meta.author = opts.author;
    meta.container_id = c.id;
    const auto& cmd = c.spec.config.cmd;
    if (cmd) {
        for (size_t i = 0; i < cmd->size(); ++i)
            meta.created_by += (i ? " " : "") + (*cmd)[i];
    }
    const store::ImageConfig base = store.config(*image);
    store::ImageConfig out =
        committed_config(base, config, layer ? std::optional(layer->diff_id) : std::nullopt, meta);
    std::vector<store::LayerRecord> layers = image->layers;
    if (layer) layers.push_back(*layer);

    CommitResult result;
    result.image = store.write_image(out, layers);
    auto txn = store.begin();
    txn.put_image(result.image);
    if (opts.name) {
        auto prev = txn.tag(opts.name->with_default_tag(), result.image.manifest);
        if (prev && *prev != result.image.manifest) result.replaced = prev;
    }
    txn.commit();
    return result;
}

}  // namespace strata::containers
