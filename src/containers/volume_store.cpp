#include "containers/volume_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/container_names.hpp"
#include "containers/container_paths.hpp"

namespace strata::containers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string now_rfc3339_seconds() {
    const std::time_t t = std::time(nullptr);
    struct tm tm {};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json volume_json(const Volume& v) {
    return json{{"Name", v.name},          {"Driver", v.driver},   {"CreatedAt", v.created},
                {"Labels", v.labels},      {"Options", v.options}, {"Anonymous", v.anonymous},
                {"Populated", v.populated}};
}

void write_volume_json(const fs::path& dir, const Volume& v) {
    write_file_atomic(dir / "volume.json", volume_json(v).dump(2) + "\n", 0644);
}

// Renames the volume directory away first, so that no one finds a half-removed
// volume, then deletes it. False when it was already gone.
bool remove_volume_dir(const fs::path& volumes, const fs::path& dir) {
    TempDir graveyard = TempDir::create(volumes, ".rm-");
    const fs::path moved = graveyard.path() / "volume";
    if (::rename(dir.c_str(), moved.c_str()) != 0) {
        if (errno == ENOENT) return false;  // removed by someone else meanwhile
        throw system_error("rename", dir.string());
    }
    graveyard.remove();
    return true;
}

bool is_anonymous(const Volume& v) {
    return v.anonymous || v.labels.count(kAnonymousVolumeLabel) != 0;
}

}  // namespace

bool valid_volume_name(std::string_view name) {
    auto ok = [](char c, bool first) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
        return !first && (c == '_' || c == '.' || c == '-');
    };
    if (name.size() < 2) return false;
    for (size_t i = 0; i < name.size(); ++i)
        if (!ok(name[i], i == 0)) return false;
    return true;
}

void check_volume_name(std::string_view name) {
    if (valid_volume_name(name)) return;
    throw Error(ErrorKind::kUsage,
                fmt::format("create {0}: \"{0}\" includes invalid characters for a local volume "
                            "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                            "intended to pass a host directory, use absolute path",
                            name));
}

std::string random_volume_name() {
    // Docker uses the same generator for volume names as for container ids.
    return random_container_id();
}

VolumeStore::VolumeStore(fs::path store_root) : root_(std::move(store_root)) {}

fs::path VolumeStore::dir() const {
    return volumes_dir(root_);
}

std::optional<Volume> VolumeStore::read(const fs::path& dir) const {
    std::ifstream in(dir / "volume.json");
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(ErrorKind::kCorrupt,
                    "volume record " + (dir / "volume.json").string() +
                        " is not valid JSON; remove the directory to drop the volume");
    Volume v;
    v.name = j.value("Name", dir.filename().string());
    v.driver = j.value("Driver", std::string("local"));
    v.created = j.value("CreatedAt", std::string());
    if (j.contains("Labels") && j["Labels"].is_object())
        v.labels = j["Labels"].get<std::map<std::string, std::string>>();
    if (j.contains("Options") && j["Options"].is_object())
        v.options = j["Options"].get<std::map<std::string, std::string>>();
    v.anonymous = j.value("Anonymous", false);
    v.populated = j.value("Populated", false);
    v.dir = dir;
    return v;
}

Volume VolumeStore::create(std::string name, std::map<std::string, std::string> labels,
                           bool anonymous) {
    if (name.empty()) {
        // As Docker: a volume made without a name is anonymous.
        name = random_volume_name();
        anonymous = true;
    }
    check_volume_name(name);
    if (auto existing = find(name)) return *existing;

    std::error_code ec;
    fs::create_directories(dir(), ec);
    if (ec) throw system_error("mkdir", dir().string(), ec.value());

    Volume v;
    v.name = name;
    v.created = now_rfc3339_seconds();
    v.labels = std::move(labels);
    if (anonymous) v.labels.emplace(kAnonymousVolumeLabel, "");
    v.anonymous = anonymous;

    // Built whole under a name no volume can have (volume names start with a
    // letter or digit), then renamed into place.
    TempDir tmp = TempDir::create(dir(), ".tmp-");
    if (::chmod(tmp.path().c_str(), 0755) != 0) throw system_error("chmod", tmp.path().string());
    const fs::path data = tmp.path() / "_data";
    if (::mkdir(data.c_str(), 0755) != 0) throw system_error("mkdir", data.string());
    // The umask may have taken bits away.
    if (::chmod(data.c_str(), 0755) != 0) throw system_error("chmod", data.string());
    {
        const fs::path lock = tmp.path() / "lock";
        const int fd = ::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) throw system_error("create", lock.string());
        ::close(fd);
    }
    write_volume_json(tmp.path(), v);

    const fs::path final_dir = dir() / name;
    if (::rename(tmp.path().c_str(), final_dir.c_str()) != 0) {
        const int err = errno;
        if (err != EEXIST && err != ENOTEMPTY)
            throw system_error("rename", final_dir.string(), err);
        // Another process made it first: theirs is the volume.
        tmp.remove();
        if (auto existing = find(name)) return *existing;
        throw Error(ErrorKind::kConflict, "create " + name +
                                              ": a volume directory exists without a volume "
                                              "record: " +
                                              final_dir.string());
    }
    tmp.keep();
    fsync_dir(dir());
    v.dir = final_dir;
    return v;
}

std::optional<Volume> VolumeStore::find(std::string_view name) const {
    if (!valid_volume_name(name)) return std::nullopt;
    return read(dir() / std::string(name));
}

Volume VolumeStore::get(std::string_view name) const {
    if (auto v = find(name)) return *v;
    throw Error(ErrorKind::kNotFound, fmt::format("get {}: no such volume", name));
}

std::vector<Volume> VolumeStore::list() const {
    std::vector<Volume> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!valid_volume_name(name)) continue;  // .tmp-*, .rm-*
        if (auto v = read(it->path())) out.push_back(std::move(*v));
    }
    std::sort(out.begin(), out.end(),
              [](const Volume& a, const Volume& b) { return a.name < b.name; });
    return out;
}

std::map<std::string, std::vector<std::string>> VolumeStore::references() const {
    std::map<std::string, std::vector<std::string>> refs;
    if (!fs::exists(containers_dir(root_))) return refs;
    ContainerStore containers(root_);
    for (const Container& c : containers.list())
        for (const MountSpec& m : c.spec.mounts)
            if (m.type == MountSpec::Type::kVolume && !m.source.empty()) {
                auto& ids = refs[m.source];
                if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) ids.push_back(c.id);
            }
    for (auto& [name, ids] : refs)
        std::sort(ids.begin(), ids.end());
    return refs;
}

std::vector<std::string> VolumeStore::users(std::string_view name) const {
    auto refs = references();
    auto it = refs.find(std::string(name));
    return it == refs.end() ? std::vector<std::string>{} : it->second;
}

void VolumeStore::remove_dir(const Volume& v) {
    remove_volume_dir(dir(), v.dir);
}

void VolumeStore::remove(std::string_view name, bool force) {
    auto v = find(name);
    if (!v) {
        if (force) return;
        throw Error(ErrorKind::kNotFound, fmt::format("get {}: no such volume", name));
    }
    const auto ids = users(name);
    if (!ids.empty()) {
        std::string list;
        for (const auto& id : ids)
            list += (list.empty() ? "" : ", ") + id;
        throw Error(ErrorKind::kConflict,
                    fmt::format("remove {}: volume is in use - [{}]", name, list));
    }
    remove_dir(*v);
}

VolumePruneReport VolumeStore::prune(bool all, const std::function<bool(const Volume&)>& filter) {
    VolumePruneReport report;
    const auto refs = references();
    for (const Volume& v : list()) {
        if (refs.count(v.name)) continue;
        if (!all && !is_anonymous(v)) continue;
        if (filter && !filter(v)) continue;
        report.reclaimed += disk_usage(v);
        remove_dir(v);
        report.removed.push_back(v.name);
    }
    return report;
}

LockFile VolumeStore::lock(const Volume& v) const {
    return LockFile::exclusive(v.dir / "lock");
}

void VolumeStore::mark_populated(Volume& v) {
    v.populated = true;
    write_volume_json(v.dir, v);
}

uint64_t VolumeStore::disk_usage(const Volume& v) {
    uint64_t total = 0;
    std::set<std::pair<dev_t, ino_t>> seen;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(v.mountpoint(), ec), end; !ec && it != end;
         it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode) || !seen.emplace(st.st_dev, st.st_ino).second) continue;
        total += static_cast<uint64_t>(st.st_size);
    }
    return total;
}

std::vector<std::string> remove_anonymous_volumes(const fs::path& store_root, const Container& c) {
    VolumeStore volumes(store_root);
    std::vector<std::string> removed;
    for (const MountSpec& m : c.spec.mounts) {
        if (m.type != MountSpec::Type::kVolume || !m.anonymous || m.source.empty()) continue;
        auto ids = volumes.users(m.source);
        ids.erase(std::remove(ids.begin(), ids.end(), c.id), ids.end());
        if (!ids.empty()) continue;  // shared through --volumes-from, still used
        auto v = volumes.find(m.source);
        if (!v) continue;
        // Not VolumeStore::remove: `c` may still be listed as a user.
        if (remove_volume_dir(volumes_dir(store_root), v->dir)) removed.push_back(m.source);
    }
    return removed;
}

void ensure_volumes(const fs::path& store_root, const std::vector<MountSpec>& mounts) {
    VolumeStore volumes(store_root);
    for (const MountSpec& m : mounts) {
        if (m.type != MountSpec::Type::kVolume) continue;
        if (m.source.empty())
            throw Error(ErrorKind::kInternal,
                        "a volume mount on " + m.target + " has no volume name");
        if (!volumes.find(m.source)) volumes.create(m.source, {}, m.anonymous);
    }
}

}  // namespace strata::containers
