// ContentStore — blobs by digest under <root>/blobs/sha256/<hex>.
//
// Writes go to a temp file in <root>/tmp (same filesystem), are fsynced,
// checked against their digest, then renamed into place and the directory is
// fsynced: a reader sees a whole, verified blob or none. Concurrent writers of
// the same blob are harmless (same content, last rename wins).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/read_buffer.hpp"
#include "base/unique_fd.hpp"
#include "store/digest.hpp"

namespace strata::store {

class ContentStore {
  public:
    // Creates <root>/blobs/sha256 and <root>/tmp when missing.
    explicit ContentStore(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path tmp_dir() const { return root_ / "tmp"; }

    bool has(const Digest& digest) const;
    std::filesystem::path blob_path(const Digest& digest) const;
    uint64_t size(const Digest& digest) const;  // throws kNotFound
    // Opens the blob read-only; throws kNotFound.
    UniqueFd open(const Digest& digest) const;
    // The whole blob, verified against its digest (kCorrupt on mismatch).
    std::string read(const Digest& digest) const;
    // When the rename that puts a new blob in place becomes durable: at
    // once (the blobs directory is fsynced after it), or with the next
    // sync_renames(). Deferred, the blob's own bytes are still fsynced
    // before the rename, and a crash can only lose the blob, not tear it:
    // for blobs that nothing durable refers to yet (a build's layers, its
    // image's config and manifest, until the image record is written).
    enum class DirSync { kNow, kDeferred };
    // Makes every rename into the blobs directory so far durable (one
    // fsync): ImageStore does so before it writes an image record.
    void sync_renames() const;
    // Small blobs (JSON): writes atomically, returns the digest.
    Digest put(std::string_view data, DirSync sync = DirSync::kNow);
    // Copies everything readable from `fd` into a blob; verifies `expected`.
    Digest put_fd(int fd, const std::optional<Digest>& expected = std::nullopt);

    // Streaming writer: hashes while writing.
    class Writer {
      public:
        Writer(Writer&&) noexcept;
        Writer& operator=(Writer&&) = delete;
        Writer(const Writer&) = delete;
        Writer& operator=(const Writer&) = delete;
        // Destroyed without commit: the temp file is removed.
        ~Writer();

        void write(const void* data, size_t n);
        void write(std::string_view data) { write(data.data(), data.size()); }
        uint64_t size() const { return size_; }
        Digest digest_so_far() const;
        // A stored blob that what comes is likely to equal byte for byte
        // (the last build's layer for the same step). While it does, nothing
        // is written: the bytes are compared with the blob's instead, and a
        // commit of the same bytes writes nothing at all (a rebuild with
        // --no-cache of an unchanged COPY makes no 300 MB temp file to throw
        // away). At the first difference the matched part is copied from the
        // blob and writing goes on as usual; the result is the same blob
        // either way. Call before the first write; a missing blob is ignored.
        void compare_with(const Digest& likely);
        // Bytes handed to the kernel for the temp file so far (tests).
        uint64_t bytes_written() const { return written_; }
        // fsync, verify against `expected` (kCorrupt on mismatch: the temp
        // file is removed), rename into place, fsync the directory (or not:
        // `sync`, see DirSync). When the blob is already in the store with
        // this size, the temp file is dropped instead (no fsync: the stored
        // blob was synced).
        Digest commit(const std::optional<Digest>& expected = std::nullopt,
                      DirSync sync = DirSync::kNow);

      private:
        friend class ContentStore;
        Writer(ContentStore& store, UniqueFd fd, std::filesystem::path temp, bool hash);
        void flush();
        void write_out(const void* data, size_t n);
        // Whether `data` is the likely blob's next bytes.
        bool matches(const void* data, size_t n);
        // Stops comparing: the temp file gets the bytes matched so far.
        void diverge();
        ContentStore* store_;
        UniqueFd fd_;
        std::filesystem::path temp_;
        Sha256 hash_;
        uint64_t size_ = 0;
        uint64_t written_ = 0;    // bytes handed to the kernel
        uint64_t writeback_ = 0;  // bytes whose writeback was started
        std::string buffer_;      // small writes are batched
        UniqueFd likely_;         // compare_with's blob, while it matches
        Digest likely_digest_;
        std::optional<ReadBuffer> theirs_;  // the likely blob's bytes, read to compare
        uint64_t matched_ = 0;              // bytes equal to it (none written yet)
        bool done_ = false;
        bool hashing_ = true;
    };
    Writer writer();
    // For a producer that hashes the very bytes it writes anyway (a layer
    // tar and its diffID): the writer does not hash them a second time, and
    // commit() requires `expected` and trusts it.
    Writer prehashed_writer();

    void remove(const Digest& digest);        // missing blob is not an error
    std::vector<Digest> list() const;         // sorted
    bool verify(const Digest& digest) const;  // re-hash the file; false when missing or wrong

  private:
    Writer new_writer(bool hash);
    std::filesystem::path root_;
};

}  // namespace strata::store
