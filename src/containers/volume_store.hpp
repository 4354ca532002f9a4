// Volumes as Docker's "local" driver keeps them (docs/containers.md):
//
//   <store>/volumes/<name>/volume.json   name, driver, created, labels, flags
//                          _data/        what the container sees (Mountpoint)
//                          lock          flock around the first-use copy-up
//
// A volume lives beside the containers that use it, never inside a
// container's writable layer, so it outlives `rm` and is never committed.
// A volume is created whole or not at all: it is built in a temporary
// directory under volumes/ and renamed into place, so two processes creating
// the same name end with one volume (the loser takes the winner's).
// "In use" means referenced by a container record that still exists, whatever
// its state — Docker's rule for `volume rm` and `volume prune`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "containers/container_record.hpp"

namespace strata::containers {

// The label Docker (≥ 23) puts on the volumes it makes for a container
// (image VOLUME, `-v /ctr`, `--mount type=volume` without a source);
// `volume prune` without --all removes only volumes that carry it.
inline constexpr const char* kAnonymousVolumeLabel = "com.docker.volume.anonymous";

struct Volume {
    std::string name;
    std::string driver = "local";
    std::string created;  // RFC 3339, seconds, UTC ("2026-12-05T08:59:00Z"), as Docker shows it
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> options;  // driver options (none for "local" here)
    bool anonymous = false;
    // The image's content was copied in (first use, volume_mounts.hpp); never
    // again after that.
    bool populated = false;
    std::filesystem::path dir;  // <store>/volumes/<name>
    std::filesystem::path mountpoint() const { return dir / "_data"; }
};

// Docker's local-driver rule for a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+
// (so at least two characters).
bool valid_volume_name(std::string_view name);

// Error(kUsage) with Docker's message when `name` is not valid:
// create NAME: "NAME" includes invalid characters for a local volume name, only
// "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host
// directory, use absolute path
void check_volume_name(std::string_view name);

// A fresh anonymous volume name: 64 random lowercase hex.
std::string random_volume_name();

struct VolumePruneReport {
    std::vector<std::string> removed;  // names, in the order removed (by name)
    uint64_t reclaimed = 0;            // bytes of the removed volumes' files
};

class VolumeStore {
  public:
    explicit VolumeStore(std::filesystem::path store_root);

    const std::filesystem::path& store_root() const { return root_; }

    // Makes the volume `name` ("" → a random anonymous name; `anonymous` also
    // adds Docker's anonymous label). An existing volume of that name is
    // returned as it is (Docker's `volume create` is idempotent; the labels of
    // the first create stay). An invalid name → Error(kUsage), Docker's words.
    Volume create(std::string name, std::map<std::string, std::string> labels = {},
                  bool anonymous = false);

    std::optional<Volume> find(std::string_view name) const;
    // Error(kNotFound) "get NAME: no such volume".
    Volume get(std::string_view name) const;
    // Every volume, sorted by name.
    std::vector<Volume> list() const;

    // Ids of the existing containers whose mounts name the volume, sorted.
    std::vector<std::string> users(std::string_view name) const;

    // Removes the volume. Refused while a container references it:
    // Error(kConflict) "remove NAME: volume is in use - [ID, ...]". Missing:
    // Error(kNotFound) "get NAME: no such volume", unless `force`.
    void remove(std::string_view name, bool force = false);

    // Removes the volumes no container references: only anonymous ones (Docker
    // ≥ 23, API 1.42), or all of them with `all` (20.10's default); of those,
    // only the ones `filter` accepts when given.
    VolumePruneReport prune(bool all, const std::function<bool(const Volume&)>& filter = {});

    // Records that the image's content was copied in (volume.json rewritten
    // atomically). The caller holds lock(v).
    void mark_populated(Volume& v);
    // Exclusive flock on <volume>/lock.
    LockFile lock(const Volume& v) const;

    // Bytes of the files under the volume's _data (du-like, each inode once).
    static uint64_t disk_usage(const Volume& v);

  private:
    std::filesystem::path dir() const;
    std::optional<Volume> read(const std::filesystem::path& dir) const;
    // Names referenced per container id (one ContainerStore::list()).
    std::map<std::string, std::vector<std::string>> references() const;
    void remove_dir(const Volume& v);

    std::filesystem::path root_;
};

// `rm -v`: removes the anonymous volumes of `c` that no other container uses
// (a volume shared through --volumes-from stays while its other users exist;
// one already gone is skipped). Call it after the container's record is gone,
// or with it still there: `c` itself never counts as a user. Returns the
// names removed.
std::vector<std::string> remove_anonymous_volumes(const std::filesystem::path& store_root,
                                                  const Container& c);

// Creates the named and anonymous volumes `mounts` refer to that do not exist
// yet (Docker makes them at `create`); sandbox_mounts() does it too.
void ensure_volumes(const std::filesystem::path& store_root, const std::vector<MountSpec>& mounts);

}  // namespace strata::containers
