// `-v`, `--mount`, `--tmpfs`, `--volumes-from` and the image's VOLUME entries
// turned into a container's MountSpecs at create, with Docker's rules and
// messages (docker/cli's opts and the daemon's Linux mount parser):
//
//   -v /abs/host:/ctr[:OPTS]   bind; OPTS comma separated: ro|rw, z|Z, a
//                              propagation mode, nocopy (volumes only), a
//                              consistency mode. A missing host path is
//                              created at start (as Docker does for -v).
//   -v ./rel:/ctr              bind of the path made absolute (docker/cli ≥ 23)
//   -v name:/ctr[:OPTS]        named volume, created on first use
//   -v /ctr                    anonymous volume
//   --mount type=bind|volume|tmpfs,src|source=…,dst|destination|target=…,
//           readonly|ro[=true|false],volume-nocopy,tmpfs-size=…,tmpfs-mode=…
//                              (a bind source must exist: "bind source path
//                              does not exist")
//   --tmpfs /ctr[:size=64m,mode=1777,…]
//   --volumes-from CTR[:ro|:rw]   the other container's volumes and binds
//
// Every error is Error(kUsage) with Docker's words (without "Error response
// from daemon").
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "containers/container_record.hpp"

namespace strata::containers {

// A volume mount's source is "" until resolve_mounts() names it.
MountSpec parse_volume_flag(std::string_view raw);  // -v / --volume
MountSpec parse_mount_flag(std::string_view raw);   // --mount
MountSpec parse_tmpfs_flag(std::string_view raw);   // --tmpfs

struct VolumesFrom {
    std::string container;   // id, id prefix or name
    bool read_only = false;  // ":ro" given (":rw" or nothing: as the other container has it)
};
VolumesFrom parse_volumes_from(std::string_view raw);  // --volumes-from

// What `strata run`/`create` was given, each flag in command-line order.
struct MountFlags {
    std::vector<std::string> volumes;       // -v / --volume
    std::vector<std::string> mounts;        // --mount
    std::vector<std::string> tmpfs;         // --tmpfs
    std::vector<std::string> volumes_from;  // --volumes-from
};

// The container's mounts, as Docker's daemon registers them: first the
// mounts of --volumes-from containers (a later one replaces an earlier one
// at the same target; their tmpfs mounts are not shared), then -v, --mount
// and --tmpfs (two of these at one target: "Duplicate mount point: /x"; they
// replace a --volumes-from mount there), then an anonymous volume for each
// image VOLUME no mount covers. Anonymous volumes get fresh random names.
// Sorted parents first (by the number of path components, stable), the order
// in which they are mounted. `containers` may be null when there is no
// --volumes-from; the containers it names must exist ("No such container").
std::vector<MountSpec> resolve_mounts(const MountFlags& flags,
                                      const std::set<std::string>& image_volumes,
                                      const ContainerStore* containers);

}  // namespace strata::containers
