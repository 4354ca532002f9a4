// COPY's reuse of the bytes of the last build's layer.
//
// A COPY from the build context writes its files straight into the layer
// tar (LayerTree::record_files), and their contents are most of its work:
// 10,000 small files are 10,000 opens, xattr listings, reads and closes.
// When the step was built before, most files usually did not change, and
// their bytes already sit in the blob of its last layer. So each layer such
// a COPY writes gets an index — for every regular file from the context, its
// name in the tar, where its data starts and the stat of the file its bytes
// were read from — and the next build of the step (with or without
// --no-cache: this is about reading files, not about the build cache) reads
// an unchanged file's bytes from that blob instead of opening the file. The
// tar is byte for byte what reading the files would make.
//
// Trust (docs/copy-add.md, "Unchanged files"): a file's bytes are taken from
// the old blob only when its stat in this build's context snapshot equals
// the recorded one in every field (device, inode, size, mtime, ctime, mode)
// and so does the content hash. Only files whose stat was not racy
// (cache::is_racy) against the snapshot that walked them, and that had no
// layer xattrs, are recorded. Writing a file, changing its mode or an xattr
// moves its ctime past the recorded one — the stat cache's rule
// (docs/context-hashing.md) — and a file put in its place has a new inode.
// store::write_layer also checks the ustar header in front of every range
// it takes (LayerFile::stored).
//
// Each record also keeps what the file's tar header was made from (mode,
// owner, mtime as written) when that header was one plain ustar block, and
// the index the build ID of the strata that wrote it: the same binary given
// the same name and inputs writes the same header, so the writer copies
// those 512 bytes with the data instead of formatting them again
// (StoredBytes::header).
//
// On disk: <root>/cache/copy-index/<diffID hex>, a hint written atomically
// without fsync; anything unreadable is no index. `strata prune` removes
// the index of a blob no image or kept cache entry holds, `prune
// --build-cache` all of them. A blob gone anyway is read as no blob.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "cache/stat_cache.hpp"
#include "store/digest.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {

class CopyReuseIndex {
  public:
    struct Record {
        uint64_t offset = 0;       // where the file's data starts in the blob
        cache::StatRecord source;  // the stat and content hash it was read with
        uint32_t name_at = 0;      // its name in the tar: name()
        uint32_t name_size = 0;
        // Its header's inputs, when the header is the one block before `offset`.
        std::optional<store::HeaderInputs> header;
    };

    // The build ID of the strata that wrote the layer (base/build_id.hpp).
    const std::string& build_id() const { return build_id_; }
    void set_build_id(std::string id) { build_id_ = std::move(id); }

    // The index of layer `diff_id` kept in `dir`; nullopt when there is
    // none or it is unreadable.
    static std::optional<CopyReuseIndex> load(const std::filesystem::path& dir,
                                              const store::Digest& diff_id);
    // Keeps it in `dir` (created when missing), unsynced; throws on errors.
    void save(const std::filesystem::path& dir, const store::Digest& diff_id) const;

    std::string encode() const;
    // nullopt: not what encode() makes (another version, cut short, altered).
    static std::optional<CopyReuseIndex> decode(std::string_view bytes);

    void add(std::string_view name, uint64_t offset, const cache::StatRecord& source,
             const std::optional<store::HeaderInputs>& header = std::nullopt);
    // The record of `name`, or null.
    const Record* find(std::string_view name) const;
    std::string_view name(const Record& r) const {
        return {names_.data() + r.name_at, r.name_size};
    }
    size_t size() const { return records_.size(); }

  private:
    std::string build_id_;
    std::string names_;            // back to back
    std::vector<Record> records_;  // sorted by name (add() keeps them so)
};

// The stat of a context file as the index records it.
cache::StatRecord reuse_identity(uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns,
                                 int64_t ctime_ns, uint32_t st_mode, const cache::Hash128& content);

// Points each of `files` whose source (`sources[i]`, parallel; nullopt: not
// from the context) equals its record in `index` at its bytes in `blob`
// (LayerFile::stored), with its header's inputs when this binary wrote the
// index. Returns how many.
size_t use_stored_bytes(std::vector<store::LayerFile>& files,
                        const std::vector<std::optional<cache::StatRecord>>& sources,
                        const CopyReuseIndex& index, const std::shared_ptr<const UniqueFd>& blob);

// The index of a layer just written from `files` (`written`: what
// write_layer reports for them): the files with a source that is not racy
// against `snapshot_start_ns` and no xattrs; stamped with this binary's
// build ID.
CopyReuseIndex index_of_written(const std::vector<store::LayerFile>& files,
                                const std::vector<std::optional<cache::StatRecord>>& sources,
                                const std::vector<store::WrittenFile>& written,
                                int64_t snapshot_start_ns);

}  // namespace strata::executor
