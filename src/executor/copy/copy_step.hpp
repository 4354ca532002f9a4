// COPY and ADD, performed by writing files straight into a fresh layer
// directory (no container). docs/copy-add.md has the rules with examples.
//
//   LayerStackView parent(parent_layer_dirs);            // the stage so far
//   BuildContext context(ctx_dir, load_dockerignore(...));
//   CopyRequest req;                                     // from the Dockerfile
//   req.sources = {"src/", "*.json"}; req.dest = "/app/"; req.workdir = "/";
//   CopyResult r = run_copy(req, context, parent, fresh_layer_dir);
//   // fresh_layer_dir now holds only what the COPY wrote (plus the parent
//   // directories it needed); hand it to store::write_layer. With
//   // env.direct, hand it over with r.layer_files (the regular files, still
//   // in their sources) and discard it afterwards.
//
// The layer directory is left half-written when run_copy throws; the caller
// discards it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "executor/copy/git_source.hpp"
#include "executor/copy/source_view.hpp"
#include "executor/copy/url_fetch.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {

// A heredoc source: `COPY <<EOF /dst` (content already expanded if it had to be).
struct InlineSource {
    std::string name;
    std::string content;
};

// One COPY or ADD after variable expansion.
struct CopyRequest {
    bool is_add = false;
    std::vector<std::string> sources;  // as written; ADD may give http(s) URLs
    std::vector<InlineSource> inline_sources;
    std::string dest;           // as written ("." , "app/", "/etc/conf")
    std::string workdir = "/";  // the stage's WORKDIR, absolute
    std::string chown;          // --chown=user[:group] ("" = none)
    std::string chmod;          // --chmod=0755 | u+x,g-w ("" = none)
    std::string checksum;       // ADD --checksum=sha256:<hex>
    bool link = false;          // --link
    bool parents = false;       // --parents
    bool keep_git_dir = false;  // ADD --keep-git-dir (git sources only: rejected)
    // ADD --unpack: unset unpacks local archives and not downloads (BuildKit).
    std::optional<bool> unpack;
    std::vector<std::string> excludes;  // --exclude patterns
    // SOURCE_DATE_EPOCH: every entry written gets this mtime (BuildKit).
    std::optional<int64_t> source_date_epoch;
};

struct CopyEnvironment {
    // Where URL downloads go while the step runs ("" = $TMPDIR or /tmp).
    std::filesystem::path scratch_dir;
    // URLs already downloaded (e.g. to compute the cache key), by URL; the
    // files must stay until run_copy returns.
    std::map<std::string, FetchedUrl> prefetched;
    // ADD <git url>: the commit its cache key holds, by git_checkout_key():
    // the checkout must be of it.
    std::map<std::string, std::string> git_commits;
    FetchOptions fetch;  // timeouts (the checksum comes from the request)
    // An earlier layer of the same step (LayerTree::reuse_from): identical
    // files are linked from it instead of copied. Empty: none.
    std::filesystem::path reuse_layer;
    // Write the layer straight to its tar: regular files are left in their
    // sources and listed in CopyResult::layer_files, for store::write_layer
    // to read once while it hashes (LayerTree::record_files). `layer_dir` then
    // gets only the directories, symlinks and special files, and is no
    // layer directory: the caller tars it with the files and throws it away.
    // ADD ignores it (see run_copy).
    bool direct = false;
};

struct CopyResult {
    std::vector<FetchedUrl> fetched;  // ADD <url>: what was used (sha256 for the cache key)
    uint64_t entries = 0;             // entries created in the layer
    uint64_t bytes = 0;               // file content bytes written
    uint64_t reused = 0;              // files linked from env.reuse_layer
    // env.direct took effect: layer_dir + layer_files make the layer.
    bool direct = false;
    std::vector<store::LayerFile> layer_files;
    // Their sources' stat and content hash (LayerTree::take_layer_files).
    std::vector<std::optional<cache::StatRecord>> layer_file_identities;
};

// Performs the COPY/ADD: reads `source` (the build context, or the stage or
// image of --from), looks at `parent` (the stage's filesystem before this
// step: existing directories, symlinks on the destination path,
// /etc/passwd and /etc/group for --chown names) and writes the result into
// `layer_dir`, an empty directory. Throws strata::Error naming the source,
// path or flag on any problem.
CopyResult run_copy(const CopyRequest& request, const SourceView& source,
                    const LayerStackView& parent, const std::filesystem::path& layer_dir,
                    const CopyEnvironment& env = {});

// What a COPY selects from its source, for the cache key: one entry per
// copied entry in copy order, after wildcards, --parents and --exclude, with
// the mode after --chmod. URL and inline sources are not listed. Throws the
// same errors as run_copy for missing sources.
struct SelectedEntry {
    size_t source_index = 0;  // into request.sources
    std::string item;         // the matched source, canonical in the view ("/src/a.txt")
    std::string rel;          // below the item ("" for the item itself)
    FileType type = FileType::kRegular;
    uint32_t mode = 0;          // permission bits after --chmod
    uint32_t uid = 0, gid = 0;  // as in the source (0 for the build context)
    std::string link_target;
    uint64_t size = 0;
    std::filesystem::path host_path;  // the file on disk, for messages
    // Where it is in the view: the layer that provides it and its canonical
    // path, for SourceView::open_file_at (hashing never opens host_path).
    size_t layer = 0;
    std::string view_path;
};
std::vector<SelectedEntry> select_sources(const CopyRequest& request, const SourceView& source);

}  // namespace strata::executor
