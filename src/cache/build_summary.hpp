// A build summary: what the last build of a Dockerfile and context (the
// --explain id) was asked, what it read, and the image it made — so that a
// rebuild with the same inputs can confirm "nothing changed" with one read
// instead of parsing the Dockerfile, planning, computing every step's key
// and reading every step's cache entry.
//
// It is valid while all of these hold (the builder checks each; any
// difference is a miss and the build runs the usual way, which writes a new
// summary):
//   - `inputs`: a digest of everything the build was asked (the Dockerfile's
//     bytes, build args, --target, --no-cache, labels, tags, annotations,
//     SOURCE_DATE_EPOCH, --network, secrets and ssh flags, the strata binary)
//     is the same;
//   - `generation`: the cache index's generation (CacheIndex::generation) is
//     the same, so no cache entry was written or removed since (another
//     build, `strata prune`);
//   - `bases`: every image reference the build resolved (FROM, COPY --from)
//     still names the same image;
//   - `context`: the context's root digest (after .dockerignore) is the same
//     when the build read the context;
//   - `image`: the image is in the store and the tags name it.
//
// On disk: <root>/cache/builds/<id>.summary, a text file of tab-separated
// lines (fields escaped: \\ \t \n), written atomically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::cache {

struct SummaryBase {
    std::string ref;     // as the build resolved it ("busybox:latest")
    std::string digest;  // the manifest digest it named
    bool operator==(const SummaryBase&) const = default;
};

struct SummaryStage {
    size_t index = 0;          // Dockerfile index of the stage
    std::string from_display;  // its FROM vertex ("[1/3] FROM …"), may be empty
    bool operator==(const SummaryStage&) const = default;
};

struct SummaryStep {
    size_t stage = 0;
    size_t step = 0;
    bool metadata = false;  // changes only the config (else: a cached filesystem step)
    std::string name;       // progress name, may be empty
    std::string instruction;
    std::string key;
    bool operator==(const SummaryStep&) const = default;
};

struct BuildSummary {
    std::string inputs;
    uint64_t generation = 0;
    std::string image;                   // manifest digest "sha256:…"
    std::optional<std::string> context;  // root digest, when the build read the context
    std::vector<SummaryBase> bases;      // in the order resolved, without repeats
    std::optional<int64_t> source_date_epoch;
    std::vector<SummaryStage> stages;  // build order
    std::vector<SummaryStep> steps;    // stages in build order, steps in order
    bool operator==(const BuildSummary&) const = default;

    std::string serialize() const;
    // nullopt for anything malformed or of another format version.
    static std::optional<BuildSummary> parse(std::string_view text);
};

class BuildSummaries {
  public:
    // `cache_dir` is <root>/cache.
    explicit BuildSummaries(std::filesystem::path cache_dir);

    // nullopt when there is none or it cannot be read.
    std::optional<BuildSummary> load(const std::string& id) const;
    void save(const std::string& id, const BuildSummary& summary);
    void remove(const std::string& id);
    // A build was answered from the summary: its mtime becomes now, the last
    // use of every step it names (cache_prune.hpp). Best effort.
    void touch(const std::string& id);
    // For every step key a readable summary names: the newest mtime (seconds
    // since 1970) of the summaries that name it.
    std::map<std::string, int64_t> step_last_use() const;

  private:
    std::filesystem::path dir_;
};

}  // namespace strata::cache
