// How a build turns its base and its steps into an image config, as
// BuildKit's dockerfile2llb and image exporter do: the base config (scratch's
// defaults, or the base image's with the fields BuildKit does not model
// dropped), each step's ConfigEffect and history entry, and the history
// timestamps filled in at export.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "planner/build_plan.hpp"
#include "store/image_config.hpp"

namespace strata::executor {

// The comment BuildKit puts on every history entry a Dockerfile step makes.
inline constexpr const char* kHistoryComment = "buildkit.dockerfile.v0";

// FROM scratch: platform, rootfs type, WorkingDir "/" (BuildKit's emptyImage;
// PATH comes with the stage's start effect).
store::ImageConfig scratch_config(const planner::Platform& platform);

// FROM IMAGE: the image's config with what BuildKit's image struct does not
// carry (Docker's container_config, docker_version, Hostname, ...) dropped,
// and without "created" (set at export).
store::ImageConfig base_config(const store::ImageConfig& image);

// Applies one step's config change (not its history entry).
void apply_effect(store::ImageConfig& config, const planner::ConfigEffect& effect);

// Appends the step's history entry (when it has one). `created` is the time
// the step's layer was made; nullopt for metadata steps, which get theirs in
// fill_history_times.
void add_history(store::ImageConfig& config, const planner::ConfigEffect& effect,
                 std::optional<std::string> created);

// BuildKit's normalizeLayersAndHistory: history entries without a time get
// the time of the first new layer when they come before it, else the time of
// the last layer before them.
void fill_history_times(std::vector<store::HistoryEntry>& history);

// SOURCE_DATE_EPOCH: every history entry from `first_new` on whose time is
// unset or later than the epoch gets the epoch; the image's "created" is the
// epoch too.
void apply_source_date_epoch(store::ImageConfig& config, size_t first_new, int64_t epoch);

// The image's "created": the last history time (BuildKit's rule when the
// Dockerfile frontend sets none).
std::optional<std::string> last_history_time(const std::vector<store::HistoryEntry>& history);

}  // namespace strata::executor
