// ContainerStore: container records under <store>/containers (docs/containers.md).
//
//   containers/<id>/      one container (container_record.hpp)
//   containers/names/<n>  the id holding name n: the name index
//   containers/tmp/       <pid>-<id>: a container being built or deleted
//   containers/lock       store-wide flock around name reservation,
//                         creation's rename into place and removal
//
// A container appears by one rename of a complete directory and disappears by
// one rename out of the way, so a reader never sees half of one. The name
// file is written before the rename, so a crash can leave a name pointing at
// no container (reclaimed by the next create under the lock), never a
// container without its name reserved.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "containers/container_names.hpp"
#include "containers/container_paths.hpp"
#include "containers/container_record.hpp"
#include "containers/container_state_json.hpp"
#include "store/image_config_time.hpp"
#include "store/store_root.hpp"

namespace strata::containers {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The whole file, or nullopt when it does not exist (ENOENT/ENOTDIR).
std::optional<std::string> read_if_exists(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throw system_error("open", path.string());
    }
    std::string out;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", path.string());
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

json parse_json_file(const std::string& text, const fs::path& path) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", path.string(), e.what()));
    }
}

// A new file in a directory nobody else sees yet: written (and fsynced when
// `durable`), no rename.
void write_new_file(const fs::path& path, std::string_view data, bool durable) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw system_error("create", path.string());
    write_all(fd.get(), data.data(), data.size(), path.string());
    if (durable && ::fsync(fd.get()) != 0) throw system_error("fsync", path.string());
}

// Whether c's files must survive a power loss. A --rm container is gone
// after its run anyway: its files skip the fsyncs (about 10 ms each on a
// busy disk), which is most of what creating and running one costs here.
bool durable(const Container& c) {
    return !c.spec.auto_remove;
}

void make_dir(const fs::path& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw system_error("mkdir", path.string());
}

bool is_full_id(std::string_view s) {
    return s.size() == 64 && is_hex_id_prefix(s);
}

[[noreturn]] void name_conflict(const std::string& name, const std::string& id) {
    throw Error(ErrorKind::kConflict,
                fmt::format("Conflict. The container name \"/{}\" is already in use by container "
                            "\"{}\". You have to remove (or rename) that container to be able to "
                            "reuse that name.",
                            name, id));
}

store::Timestamp created_time(const Container& c) {
    auto t = store::parse_timestamp(c.created);
    return t ? *t : store::Timestamp{};
}

fs::path names_dir(const fs::path& containers) {
    return containers / "names";
}

fs::path tmp_dir(const fs::path& containers) {
    return containers / "tmp";
}

// Leftovers of processes that died while building or deleting a container
// (tmp/<pid>-<id>); called with the store lock held.
void clean_tmp(const fs::path& containers) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(tmp_dir(containers), ec)) {
        const std::string leaf = entry.path().filename().string();
        int pid = 0;
        if (std::sscanf(leaf.c_str(), "%d-", &pid) != 1) continue;
        if (pid == ::getpid() || process_alive(pid, 0)) continue;
        std::error_code ignored;
        fs::remove_all(entry.path(), ignored);
    }
}

}  // namespace

ContainerStore::ContainerStore(fs::path store_root) : root_(std::move(store_root)) {}

fs::path ContainerStore::dir() const {
    return containers_dir(root_);
}

namespace {

// Reads containers/<id>; nullopt when it does not exist (or went away while
// being read: a concurrent remove).
std::optional<Container> load(const fs::path& containers, const std::string& id) {
    Container c;
    c.dir = containers / id;
    auto config = read_if_exists(c.config_file());
    if (!config) return std::nullopt;
    auto doc = parse_json_file(*config, c.config_file());
    fs::path dir = c.dir;
    c = container_from_config_document(doc, c.config_file().string());
    c.dir = dir;
    if (c.id != id)
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: id \"{}\" does not match its directory",
                                                     c.config_file().string(), c.id));
    auto state = read_if_exists(c.state_file());
    if (!state) return std::nullopt;
    c.state = state_from_json(parse_json_file(*state, c.state_file()), c.state_file().string());
    return c;
}

// The id the name index holds for `name`, when its container exists.
std::optional<std::string> name_owner(const fs::path& containers, const std::string& name) {
    auto id = read_if_exists(names_dir(containers) / name);
    if (!id) return std::nullopt;
    while (!id->empty() && (id->back() == '\n' || id->back() == ' '))
        id->pop_back();
    if (!is_full_id(*id)) return std::nullopt;
    if (!fs::exists(containers / *id / "config.json")) return std::nullopt;
    return id;
}

std::vector<std::string> ids_in(const fs::path& containers) {
    std::vector<std::string> ids;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(containers, ec)) {
        std::string leaf = entry.path().filename().string();
        if (is_full_id(leaf)) ids.push_back(std::move(leaf));
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw system_error("read directory", containers.string(), ec.value());
    return ids;
}

}  // namespace

Container ContainerStore::create(ContainerSpec spec, std::string name) {
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    if (!name.empty() && !valid_container_name(name))
        throw Error(ErrorKind::kUsage,
                    fmt::format("Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                name));
    const fs::path containers = dir();
    // The store is normally made by the ImageStore the caller opened first;
    // made here (owner-only, as store_root.hpp requires) when it was not.
    if (!fs::exists(root_)) store::prepare_store_root(root_);
    make_dir(containers, 0700);
    make_dir(names_dir(containers), 0700);
    make_dir(tmp_dir(containers), 0700);

    Container c;
    c.id = random_container_id();
    while (fs::exists(containers / c.id))  // 2^-256; cheap to be sure
        c.id = random_container_id();
    c.created = store::format_timestamp(store::now_timestamp());
    if (spec.hostname.empty()) spec.hostname = c.id.substr(0, 12);
    c.spec = std::move(spec);

    // Everything but the name, outside the lock.
    const fs::path staging = tmp_dir(containers) / fmt::format("{}-{}", ::getpid(), c.id);
    make_dir(staging, 0700);
    struct StagingGuard {
        fs::path path;
        bool armed = true;
        ~StagingGuard() {
            std::error_code ignored;
            if (armed) fs::remove_all(path, ignored);
        }
    } guard{staging};
    make_dir(staging / "upper", 0755);
    make_dir(staging / "work", 0700);
    write_new_file(staging / "state.json", state_to_json(c.state).dump(2) + "\n", durable(c));
    write_new_file(staging / "lock", "", false);  // empty: nothing to keep

    auto store_lock = LockFile::exclusive(containers / "lock");
    clean_tmp(containers);
    if (name.empty()) {
        // Docker's way: random names until a free one, then a digit added.
        for (int attempt = 0;; ++attempt) {
            name = random_container_name();
            if (attempt >= 10) name += std::to_string(attempt % 10);
            if (!name_owner(containers, name)) break;
        }
    } else if (auto owner = name_owner(containers, name)) {
        name_conflict(name, *owner);
    }
    c.name = name;
    c.dir = staging;
    write_new_file(staging / "config.json", config_document(c).dump(2) + "\n", durable(c));
    if (durable(c)) {
        fsync_dir(staging);
        write_file_atomic(names_dir(containers) / name, c.id + "\n");
    } else {
        write_file_atomic_unsynced(names_dir(containers) / name, c.id + "\n");
    }
    const fs::path final_dir = containers / c.id;
    if (::rename(staging.c_str(), final_dir.c_str()) != 0)
        throw system_error("rename", final_dir.string());
    guard.armed = false;
    if (durable(c)) fsync_dir(containers);
    c.dir = final_dir;
    return c;
}

std::optional<Container> ContainerStore::find(std::string_view id_or_name) const {
    const fs::path containers = dir();
    std::string key(id_or_name);
    if (is_full_id(key))
        if (auto c = load(containers, key)) return c;
    std::string name = key;
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    if (valid_container_name(name))
        if (auto id = name_owner(containers, name))
            if (auto c = load(containers, *id)) return c;
    if (!is_hex_id_prefix(key)) return std::nullopt;
    std::vector<std::string> matches;
    for (auto& id : ids_in(containers))
        if (id.starts_with(key)) matches.push_back(std::move(id));
    if (matches.size() > 1)
        throw Error(ErrorKind::kConflict,
                    fmt::format("multiple IDs found with provided prefix: {}", key));
    if (matches.empty()) return std::nullopt;
    return load(containers, matches.front());
}

Container ContainerStore::get(std::string_view id_or_name) const {
    auto c = find(id_or_name);
    if (!c) throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", id_or_name));
    return *c;
}

std::vector<Container> ContainerStore::list() const {
    const fs::path containers = dir();
    std::vector<Container> out;
    for (const auto& id : ids_in(containers))
        if (auto c = load(containers, id)) out.push_back(std::move(*c));
    std::sort(out.begin(), out.end(), [](const Container& a, const Container& b) {
        auto ta = created_time(a), tb = created_time(b);
        if (ta != tb) return ta > tb;
        return a.id < b.id;
    });
    return out;
}

void ContainerStore::save_state(const Container& c) {
    if (durable(c))
        write_file_atomic(c.state_file(), state_to_json(c.state).dump(2) + "\n");
    else
        write_file_atomic_unsynced(c.state_file(), state_to_json(c.state).dump(2) + "\n");
}

void ContainerStore::reload_state(Container& c) const {
    auto text = read_if_exists(c.state_file());
    if (!text) throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", c.id));
    c.state = state_from_json(parse_json_file(*text, c.state_file()), c.state_file().string());
}

LockFile ContainerStore::lock(const Container& c) {
    try {
        return LockFile::exclusive(c.lock_file());
    } catch (const Error&) {
        // Removed (its directory renamed away) since it was read.
        if (!fs::exists(c.dir))
            throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", c.id));
        throw;
    }
}

namespace {

bool looks_dead(const ContainerState& s) {
    if (s.status != Status::kRunning) return false;
    if (process_alive(s.pid, s.pid_start)) return false;
    // The holder reaps the init and records its exit code: leave it that.
    if (s.monitor_pid > 0 && process_alive(s.monitor_pid, s.monitor_start)) return false;
    return true;
}

}  // namespace

bool ContainerStore::refresh(Container& c) {
    if (!looks_dead(c.state)) return false;
    auto held = lock(c);
    return refresh_locked(c);
}

bool ContainerStore::refresh_locked(Container& c) {
    reload_state(c);
    if (!looks_dead(c.state)) return false;
    c.state.status = Status::kExited;
    c.state.exit_code.reset();
    c.state.pid = 0;
    c.state.pid_start = 0;
    c.state.monitor_pid = 0;
    c.state.monitor_start = 0;
    save_state(c);
    return true;
}

void ContainerStore::rename(Container& c, std::string new_name) {
    if (!new_name.empty() && new_name.front() == '/') new_name.erase(0, 1);
    if (new_name.empty()) throw Error(ErrorKind::kUsage, "Neither old nor new names may be empty");
    if (!valid_container_name(new_name))
        throw Error(ErrorKind::kUsage,
                    fmt::format("Invalid container name (/{}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                new_name));
    if (new_name == c.name)
        throw Error(ErrorKind::kUsage,
                    "Renaming a container with the same name as its current name");
    const fs::path containers = dir();
    auto store_lock = LockFile::exclusive(containers / "lock");
    if (auto owner = name_owner(containers, new_name)) name_conflict(new_name, *owner);
    if (!fs::exists(c.config_file()))
        throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", c.id));
    // The new name first: a crash in between leaves it reserved for this
    // container, never a container without a name in the index.
    write_file_atomic(names_dir(containers) / new_name, c.id + "\n");
    const std::string old_name = c.name;
    c.name = new_name;
    write_file_atomic(c.config_file(), config_document(c).dump(2) + "\n");
    const fs::path old_file = names_dir(containers) / old_name;
    if (auto owner = read_if_exists(old_file); owner && owner->starts_with(c.id))
        if (::unlink(old_file.c_str()) != 0 && errno != ENOENT)
            throw system_error("unlink", old_file.string());
}

void ContainerStore::remove(const Container& c) {
    const fs::path containers = dir();
    const fs::path doomed = tmp_dir(containers) / fmt::format("{}-{}", ::getpid(), c.id);
    {
        make_dir(tmp_dir(containers), 0700);
        auto store_lock = LockFile::exclusive(containers / "lock");
        if (::rename(c.dir.c_str(), doomed.c_str()) != 0) {
            if (errno == ENOENT)
                throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", c.id));
            throw system_error("rename", c.dir.string());
        }
        const fs::path name_file = names_dir(containers) / c.name;
        if (auto owner = read_if_exists(name_file); owner && owner->starts_with(c.id))
            if (::unlink(name_file.c_str()) != 0 && errno != ENOENT)
                throw system_error("unlink", name_file.string());
        if (durable(c)) fsync_dir(containers);
    }
    strata::remove_tree(doomed);
}

}  // namespace strata::containers
