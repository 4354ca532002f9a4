// ArchiveReader — reads an image archive (a docker-save tarball in either
// form, or an OCI image layout in a tar; gzip/zstd/xz/bzip2 or plain) once,
// into a staging area, refusing anything hostile on the way:
//
//   - names that are absolute, contain `..`, NUL or are empty;
//   - symlinks and hardlinks whose targets leave the archive;
//   - entries written through a symlink of the archive;
//   - device nodes, fifos and other special files;
//   - blobs (`blobs/sha256/<hex>`) whose content does not match their name;
//   - truncated or corrupt streams.
// Every error is Error(kCorrupt) naming the archive and the entry.
//
// Blob entries are streamed into a staging ContentStore (verified as they
// arrive); other regular files are written under a staging directory. Symlinks
// and hardlinks are never created on disk: they are kept as aliases between
// entry names, so nothing read later can leave the staging area.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/unique_fd.hpp"
#include "store/content_store.hpp"
#include "store/digest.hpp"

struct archive_entry;

namespace strata::store {

class TarInput;

class ArchiveReader {
  public:
    // Reads the archive from `fd` to its end. `what` names it in errors.
    ArchiveReader(int fd, std::string what, ContentStore& staging_blobs,
                  std::filesystem::path files_dir);

    const std::string& what() const { return what_; }

    struct Entry {
        std::string name;            // after following aliases
        std::optional<Digest> blob;  // a verified blob entry
        std::filesystem::path file;  // otherwise: the staged file
    };
    // Looks up an entry by name (normalised, aliases followed); nullopt when
    // the archive has no such regular file.
    std::optional<Entry> find(std::string_view name) const;
    bool has(std::string_view name) const { return find(name).has_value(); }
    // The entry's bytes (at most `limit`, for JSON documents); Error(kCorrupt)
    // when missing or larger.
    std::string read_text(std::string_view name, size_t limit = 64 << 20) const;
    UniqueFd open(const Entry& entry) const;

    // Every verified blob entry.
    const std::map<std::string, Digest>& blobs() const { return blobs_; }

  private:
    void add_entry(::archive_entry* e, TarInput& in);
    std::string normalize(std::string_view name, std::string_view entry) const;
    void check_not_through_link(const std::string& name) const;
    [[noreturn]] void refuse(std::string_view entry, std::string_view why) const;

    std::string what_;
    ContentStore& staging_;
    std::filesystem::path files_dir_;
    std::map<std::string, Digest> blobs_;         // entry name → digest
    std::set<std::string> files_;                 // staged regular files
    std::map<std::string, std::string> aliases_;  // symlink/hardlink name → target name
};

}  // namespace strata::store
