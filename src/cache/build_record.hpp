// What `strata build --explain` compares against: a record of the last build
// of the same Dockerfile and context — every step's key, parent key and key
// fields — and a listing of the context's files with their digests, so that
// a miss can be explained as "this file changed", "this build arg changed",
// "the base image changed".
//
// On disk under <root>/cache/builds/: <id>.json (the steps) and <id>.files
// (a first line of the context's root digest and an XXH3-64 of the rest,
// then one "<digest> <path>" line per context entry, sorted by path). Both
// are written atomically, and only when they differ from what is there —
// decided by comparing bytes (the steps) or the first line (the listing),
// so a no-op rebuild neither parses nor writes them. They are hints, written
// without fsync like cache entries: after a crash either may be missing,
// old, cut short or garbled, and a reader takes what does not parse (the
// steps) or does not match its checksum (the listing) as no record.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::cache {

struct StepRecord {
    size_t stage = 0;
    size_t step = 0;
    std::string name;         // progress name ("[2/3] COPY . /src"), may be empty
    std::string instruction;  // the instruction as written
    std::string key;
    std::string parent_key;
    std::vector<std::pair<std::string, std::string>> fields;  // key fields, in order
    bool operator==(const StepRecord&) const = default;
};

struct BuildRecord {
    std::vector<StepRecord> steps;
    std::map<size_t, std::string> base_keys;  // stage → key of its FROM
    std::map<size_t, std::string> base_refs;  // stage → "busybox:latest@sha256:…"
    bool operator==(const BuildRecord&) const = default;
};

// path → digest ("xxh3:…") of every entry of a context.
using FileListing = std::map<std::string, std::string>;

class BuildRecords {
  public:
    explicit BuildRecords(std::filesystem::path cache_dir);

    // A file-name-safe id for "the same Dockerfile and context".
    static std::string id_for(std::string_view what);

    // nullopt when there is none or it cannot be read.
    std::optional<BuildRecord> load(const std::string& id) const;
    std::optional<FileListing> load_files(const std::string& id) const;
    // Writes unless the file holds exactly these bytes already.
    void save(const std::string& id, const BuildRecord& record);
    // Writes the listing unless the stored one is of the same context digest.
    void save_files(const std::string& id, const std::string& context_digest,
                    const FileListing& files);

  private:
    std::filesystem::path dir_;
};

}  // namespace strata::cache
