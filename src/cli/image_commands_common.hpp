// Shared pieces of the image commands: opening the store, Docker's human
// formats for sizes and ages, and its table layout.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/human_duration.hpp"
#include "cache/cache_prune.hpp"
#include "cli/commands.hpp"
#include "cli/human_size.hpp"
#include "store/image_config_time.hpp"
#include "store/image_store.hpp"
#include "store/prune.hpp"

namespace strata::cli {

// Opens the store chosen by --root / STRATA_ROOT / the default location.
std::unique_ptr<store::ImageStore> open_store(const GlobalOptions& global);

// GC participants besides the images (prune, rmi): the build cache, whose
// entries keep their layers alive, with RUN's cache mounts; what
// `build_cache` chooses of them goes too (cache/cache_prune.hpp).
std::vector<std::unique_ptr<store::GcParticipant>> make_gc_participants(
    store::ImageStore& store, std::optional<cache::CachePrunePolicy> build_cache = std::nullopt);
// The containers that use each image (rmi, prune --dangling), read once.
store::ImageUsers container_users(const store::ImageStore& store);

std::vector<store::GcParticipant*> raw_pointers(
    const std::vector<std::unique_ptr<store::GcParticipant>>& participants);

// `image` with its pulled layers measured (ImageStore::measure) for the
// commands that show sizes. A layer that is not what the image's config says
// is a warning on stderr, and the sizes found so far are shown: one bad image
// must not hide the others, nor keep `inspect` from giving its ID.
store::ImageRecord measured(store::ImageStore& store, const store::ImageRecord& image);

// "<HumanDuration> ago" for an RFC 3339 time, "N/A" when unknown.
std::string created_since(const std::string& rfc3339);
// Go's time.Time.String() in UTC: "2024-05-01 12:00:00 +0000 UTC".
std::string created_at(const std::string& rfc3339);
// docker/cli's Ellipsis: at most `width` characters (runes), ending in "…".
std::string ellipsis(std::string_view s, size_t width);

// Docker's tabwriter layout (minwidth 10, padding 3): every column but the
// last padded to its widest cell.
class Table {
  public:
    // Columns at least `min_width` wide, as docker/cli's tabwriter (10 for
    // most tables, 20 for top's).
    explicit Table(std::vector<std::string> header, size_t min_width = 10) : min_width_(min_width) {
        rows_.push_back(std::move(header));
    }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string render() const;

  private:
    size_t min_width_;
    std::vector<std::vector<std::string>> rows_;
};

// docker/cli's prune prompt: `warning`, then "Are you sure you want to
// continue? [y/N] "; true only for y or Y on stdin.
bool confirm(const std::string& warning);

// Prints a failure the way main() does, for commands that go on after one.
void print_error(std::string_view message);

}  // namespace strata::cli
