// Digests of parts of a build context, for cache keys (DESIGN.md "The cache
// key"; the encoding is written down in docs/context-hashing.md).
//
// What counts: each entry's path relative to the selected root (through the
// names of the directories on the way), type, permission bits, symlink
// target, device number and content hash. What does not: timestamps (touching
// a file is not a change) and uid/gid (context files land as 0:0 unless
// --chown says otherwise, so an owner that differs between CI machines must
// not change a key).
//
// A directory's digest covers its own mode and its children's names and
// digests — a Merkle tree, computed bottom-up once per snapshot (BuildKit's
// per-path checksum index), so the digest of any subtree is a lookup:
// Entry::digest. It does not depend on where the subtree sits: `COPY a /x`
// and `COPY b /x` hit the same cache entry when a and b hold the same tree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cache/context_entry.hpp"

namespace strata::cache {

class ContextSnapshot;

// Seed of every digest (not of content hashes); bumped with the encoding so
// that digests of an older strata never equal new ones.
inline constexpr uint64_t kDigestSeed = 0x7374726174610001;  // "strata" v1

// "xxh3:<32 hex>" — the form cache keys embed.
std::string digest_string(const Hash128& digest);

// XXH3-128 of everything readable from `fd`: the same hash as Entry::content
// (used for files outside the context, e.g. in a stage's layers). `what`
// names the file in errors.
Hash128 hash_content(int fd, std::string_view what);

// A seeded XXH3-128 of `bytes` (an encoding built by the caller).
Hash128 hash_encoding(std::string_view bytes);

// The digest of a non-directory entry with mode `mode` (normally e.mode).
Hash128 leaf_digest(const Entry& e, uint32_t mode);

// Sets Entry::digest of every entry of a tree-ordered array, bottom-up.
void compute_digests(std::span<Entry> entries);

// Digest of a subtree with --exclude and --chmod applied.
struct DigestOptions {
    // Asked for every entry strictly below the root, with its path relative
    // to the root; null includes everything. A directory that is left out
    // still contributes what is included beneath it (as with exception
    // patterns), and is kept, so the structure is the same as a copy's.
    std::function<bool(std::string_view rel_path, const Entry&)> include;
    // The mode an entry lands with (e.g. --chmod); null keeps e.mode.
    std::function<uint32_t(const Entry&)> mode;
};
// Equal to root.digest when the options change nothing.
Hash128 subtree_digest(const ContextSnapshot& snapshot, const Entry& root,
                       const DigestOptions& options);

// A digest over several selected entries, in the order added — for
// `COPY a b c /dst` and wildcards. The label says where the entry lands
// (or which source it came from), so swapping two sources changes it.
class SelectionDigest {
  public:
    SelectionDigest();
    ~SelectionDigest();
    SelectionDigest(SelectionDigest&&) noexcept;
    SelectionDigest& operator=(SelectionDigest&&) noexcept;

    // Adds an entry; a directory with its whole subtree (Entry::digest).
    void add(std::string_view label, const Entry& entry);
    // Adds a digest computed otherwise (e.g. subtree_digest with options).
    void add(std::string_view label, const Hash128& digest);
    Hash128 finish() const;
    std::string str() const { return digest_string(finish()); }

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace strata::cache
