// A container's MountSpecs as the sandbox mounts them, and the first-use
// copy of the image's content into a volume (Docker's "copy-up").
//
// Docker copies the image's directory at a volume's target into the volume
// when the volume is empty and the mount does not say `nocopy` — owners,
// modes, times, xattrs, and the directory's own owner and mode. strata does it
// once per volume: the first copy marks the volume populated (volume.json).
// The image's directory is read from the merged view of its layers
// (whiteouts and opaque directories applied); the target is resolved inside
// that view, so a symlink there leads to the image's own directory, never out
// of it, and symlinks below it are copied as symlinks.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "containers/container_record.hpp"
#include "containers/volume_store.hpp"
#include "sandbox/spec.hpp"

namespace strata::containers {

// The sandbox mounts of a container's MountSpecs, parents first:
// - kBind: the host path (a missing one is created as a directory, 0755, as
//   Docker does for -v; a file is bound as a file);
// - kVolume: the volume's _data, the volume made when missing and the image's
//   content copied in on first use unless no_copy;
// - kTmpfs: a tmpfs of tmpfs_size (`mode` carries tmpfs_mode).
// `image_layers` are the container's lower layer directories, lowest first.
std::vector<sandbox::Mount> sandbox_mounts(const std::filesystem::path& store_root,
                                           const Container& c,
                                           const std::vector<std::filesystem::path>& image_layers);

// The volumes the container's mounts name that do not exist yet, made as
// Docker makes them at `create` (so `volume ls` shows them before the first
// start); anonymous ones get Docker's label. Call once the container is
// recorded: from then on `volume prune` sees it using them.
void create_volumes(const std::filesystem::path& store_root, const Container& c);

// The copy-up alone: when the volume is not populated yet and its _data is
// empty, copies the image's directory at `target` into it and marks the
// volume populated. Nothing when the image has no directory there (a later
// container may still fill the volume). Takes the volume's lock. Returns
// whether it copied. On failure _data is emptied again and the error thrown.
bool copy_up_volume(VolumeStore& volumes, Volume& v,
                    const std::vector<std::filesystem::path>& image_layers,
                    std::string_view target);

}  // namespace strata::containers
