// A container on disk (docs/containers.md): what it was created as (config.json,
// written once), what it is doing now (state.json, rewritten atomically under
// its lock), and its writable layer (upper/, work/) and log — all in
// <store>/containers/<id>/. ContainerStore makes, finds, lists and removes
// them; every command is a short-lived process that reads them back.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/lock_file.hpp"
#include "base/process_ref.hpp"
#include "store/image_config.hpp"

namespace strata::containers {

struct MountSpec {  // one -v / --mount / --tmpfs / VOLUME / --volumes-from entry, resolved at
                    // create
    enum class Type { kBind, kVolume, kTmpfs };
    Type type = Type::kBind;
    std::string source;  // kBind: absolute host path; kVolume: volume name; kTmpfs: ""
    std::string target;  // absolute path in the container
    bool read_only = false;
    bool anonymous =
        false;  // a volume made for this container (image VOLUME, `-v /ctr`): `rm -v` removes it
    bool no_copy = false;  // kVolume: do not copy the image's content in on first use
    std::optional<uint64_t> tmpfs_size;
    uint32_t tmpfs_mode = 01777;
    bool operator==(const MountSpec&) const = default;
};

struct ContainerSpec {           // fixed when the container is created
    std::string image_name;      // as the user gave it, normalized as `strata images` shows it
    std::string image_manifest;  // manifest digest of the image record ("sha256:…")
    std::string image_id;        // config digest ("sha256:…"), the image ID
    store::ContainerConfig
        config;  // the image's config with run's overrides applied (inspect's Config)
    std::vector<std::string> argv;  // the process: entrypoint + cmd after overrides
    std::string hostname;           // default: the first 12 hex of the id (create fills it in)
    bool tty = false, interactive = false, read_only = false, privileged = false,
         auto_remove = false;
    std::string network = "default";   // default (pasta, private) | host | none
    std::vector<std::string> publish;  // -p as given: "8080:80", "127.0.0.1:8080:80/udp"
    std::vector<std::string> cap_add, cap_drop;
    bool no_new_privileges = false;
    std::string seccomp;  // "" Docker's default, "unconfined", or the JSON text of a profile
    std::optional<uint64_t> memory_bytes;
    std::optional<double> cpus;
    std::optional<int64_t> pids_limit;
    std::vector<MountSpec> mounts;
    std::optional<int> stop_timeout;  // --stop-timeout; default 10 s
    bool operator==(const ContainerSpec&) const = default;
};

enum class Status { kCreated, kRunning, kExited };

// "created" / "running" / "exited" (Docker's State.Status words), and back;
// nullopt for any other word.
std::string_view status_name(Status s);
// "bind" / "volume" / "tmpfs" (Docker's Mounts[].Type words).
std::string_view mount_type_name(MountSpec::Type t);
std::optional<Status> parse_status(std::string_view word);

struct ContainerState {
    Status status = Status::kCreated;
    int pid = 0;             // host pid of the container's init (strata-init) while running
    uint64_t pid_start = 0;  // its start time (/proc/PID/stat field 22), to tell a reused pid
    int monitor_pid = 0;     // the process holding it (strata run, or the -d monitor)
    uint64_t monitor_start = 0;
    std::optional<int> exit_code;         // nullopt with kExited: unknown (the holder died)
    std::string started_at, finished_at;  // RFC 3339 nano UTC; "" when never
    bool oom_killed = false;
    std::string error;  // why it could not start
    // On the bridge network, while it runs (inspect's NetworkSettings);
    // empty otherwise (another network, or not running).
    std::string ip_address, gateway, mac_address;
    int ip_prefix_len = 0;
    // While it runs: its -p mappings with the host ports they got (a free
    // port for `-p 80`), in format_publish's form; empty otherwise.
    std::vector<std::string> ports;
    bool operator==(const ContainerState&) const = default;
};

struct Container {
    std::string id;       // 64 lowercase hex, random
    std::string name;     // without Docker's leading '/'; random "adjective_surname" when not given
    std::string created;  // RFC 3339 nano UTC
    ContainerSpec spec;
    ContainerState state;
    std::filesystem::path dir;  // <store>/containers/<id>
    std::filesystem::path upper() const { return dir / "upper"; }
    std::filesystem::path work() const { return dir / "work"; }
    std::filesystem::path log_file() const { return dir / "container.log"; }
    std::filesystem::path config_file() const { return dir / "config.json"; }
    std::filesystem::path state_file() const { return dir / "state.json"; }
    std::filesystem::path lock_file() const { return dir / "lock"; }
    std::string short_id() const { return id.substr(0, 12); }
};

class ContainerStore {
  public:
    explicit ContainerStore(std::filesystem::path store_root);

    const std::filesystem::path& store_root() const { return root_; }
    // <store>/containers
    std::filesystem::path dir() const;

    // Makes the container: a fresh random id, `name` (a leading '/' is
    // dropped; "" → a random unique "adjective_surname"), created = now,
    // state kCreated, empty upper/ and work/. The directory is built under
    // containers/tmp/ and renamed into place, so a crash never leaves half a
    // container. Names are reserved atomically across processes (a
    // store-wide lock around names/<name>): of two concurrent creates with
    // one name exactly one wins; the other gets Error(kConflict) in Docker's
    // words. A malformed name → Error(kUsage) ("Invalid container name …").
    Container create(ContainerSpec spec, std::string name);

    // Full id, name (with or without '/'), or unique id prefix, in Docker's
    // order. Error(kNotFound) "No such container: X"; Error(kConflict)
    // "multiple IDs found with provided prefix: X" for an ambiguous prefix.
    Container get(std::string_view id_or_name) const;
    // get() without the not-found error (an ambiguous prefix still throws).
    std::optional<Container> find(std::string_view id_or_name) const;

    // Every container, newest first (by created, then id).
    std::vector<Container> list() const;

    // Rewrites state.json atomically. Hold lock(c) around read-modify-write.
    void save_state(const Container& c);
    // Reads state.json again into c.state.
    void reload_state(Container& c) const;

    // Exclusive flock on <dir>/lock; released when the LockFile goes.
    // flock is per open file: do not call it twice in one thread (deadlock).
    LockFile lock(const Container& c);

    // A kRunning record whose init is gone (no such pid, another process
    // with that pid — a different start time — or a zombie) becomes kExited
    // with exit_code nullopt ("Exited (unknown)") and is saved; true if it
    // changed. When the init is gone but its holder (monitor_pid, checked
    // with its start time) still lives, the holder is reaping it and about to
    // record the real exit code, so the record is left to it. When the holder
    // is gone but the init lives, it is still running and is reported so.
    // Takes lock(c) itself (only when something looks dead) and re-reads the
    // state under it; a caller already holding the lock uses refresh_locked.
    bool refresh(Container& c);
    bool refresh_locked(Container& c);

    // `rename`: gives c the name `new_name` (a leading '/' dropped) under the
    // store-wide lock: the new name is reserved in the index, config.json
    // rewritten atomically, the old name freed. Docker's errors: kUsage for
    // an empty or malformed name or the current one, kConflict for a name
    // another container holds.
    void rename(Container& c, std::string new_name);

    // Removes the container: its directory is renamed away at once (get()
    // no longer finds it), its name freed, then the files deleted. Does not
    // check that it is stopped: callers do (see check_removable).
    void remove(const Container& c);

  private:
    std::filesystem::path root_;
};

// Error(kConflict) in Docker's words when c is running:
// "You cannot remove a running container ID. Stop the container before
// attempting removal or force remove".
void check_removable(const Container& c);

// Docker's STATUS column: "Created", "Up 5 seconds", "Exited (0) 3 minutes
// ago", "Exited (unknown)" (the holder died and the exit code is lost).
std::string status_text(const ContainerState& s, std::chrono::system_clock::time_point now);

// go-units' HumanDuration ("Less than a second", "About a minute", "3 hours").
std::string human_duration(std::chrono::system_clock::duration d);

// Process liveness by pid and start time: base/process_ref.hpp.
using strata::process_alive;
using strata::process_start_time;

}  // namespace strata::containers
