// Where containers and volumes live in a store (docs/containers.md):
//
//   <store>/containers/<id>/   config.json, state.json, lock, upper/, work/,
//                              container.log
//   <store>/volumes/<name>/    volume.json, _data/
//
// Both sit on the store's filesystem, beside layers/: a container's upper and
// work directories must share a filesystem with the layers below them
// (overlayfs), and volume data is never inside a container's layer.
#pragma once

#include <filesystem>

namespace strata::containers {

inline std::filesystem::path containers_dir(const std::filesystem::path& store_root) {
    return store_root / "containers";
}

inline std::filesystem::path volumes_dir(const std::filesystem::path& store_root) {
    return store_root / "volumes";
}

}  // namespace strata::containers
