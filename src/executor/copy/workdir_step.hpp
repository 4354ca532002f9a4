// WORKDIR: BuildKit makes the directory (with its parents) as a file
// operation of its own, owned by the current USER, and records the result as
// a layer even when the directory was already there (then an empty one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "executor/copy/source_view.hpp"

namespace strata::executor {

// Writes into the empty `layer_dir` what `WORKDIR path` changes on top of
// `parent`: the missing directories of `path` (symlinks on the way followed
// inside the image), 0755, owned by `user` ("" = root; names resolved with
// the image's /etc/passwd and /etc/group), mtime now or the epoch. Nothing
// when the directory exists. Throws kConflict when a path element is not a
// directory, kNotFound for an unknown user name.
void make_workdir(const std::string& path, const std::string& user, const LayerStackView& parent,
                  const std::filesystem::path& layer_dir,
                  std::optional<int64_t> source_date_epoch = std::nullopt);

}  // namespace strata::executor
