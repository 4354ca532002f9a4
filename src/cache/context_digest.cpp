#include "cache/context_digest.hpp"

#include <xxhash.h>

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "base/error.hpp"
#include "base/read_buffer.hpp"
#include "cache/context_snapshot.hpp"

namespace strata::cache {
namespace {

// Integers are encoded little-endian whatever the host, strings with a
// 32-bit length before them (docs/context-hashing.md).
void put8(std::string& b, uint8_t v) {
    b.push_back(static_cast<char>(v));
}
void put32(std::string& b, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b.push_back(static_cast<char>(v >> (8 * i)));
}
void put64(std::string& b, uint64_t v) {
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<char>(v >> (8 * i)));
}
void put_str(std::string& b, std::string_view s) {
    put32(b, static_cast<uint32_t>(s.size()));
    b.append(s);
}
void put_hash(std::string& b, const Hash128& h) {
    put64(b, h.lo);
    put64(b, h.hi);
}

uint8_t tag(EntryType t) {
    switch (t) {
        case EntryType::kFile:
            return 'F';
        case EntryType::kDir:
            return 'D';
        case EntryType::kSymlink:
            return 'L';
        case EntryType::kFifo:
            return 'P';
        case EntryType::kSocket:
            return 'S';
        case EntryType::kCharDevice:
            return 'C';
        case EntryType::kBlockDevice:
            return 'B';
    }
    return '?';
}

Hash128 hash_bytes(const std::string& b) {
    XXH128_hash_t d = XXH3_128bits_withSeed(b.data(), b.size(), kDigestSeed);
    return Hash128{d.low64, d.high64};
}

void leaf_encoding(std::string& b, const Entry& e, uint32_t mode) {
    put8(b, tag(e.type));
    put32(b, mode & 07777);
    switch (e.type) {
        case EntryType::kFile:
            put_hash(b, e.content);
            break;
        case EntryType::kSymlink:
            put_str(b, e.link_target);
            break;
        case EntryType::kCharDevice:
        case EntryType::kBlockDevice:
            put64(b, e.rdev);
            break;
        default:
            break;
    }
}

void child_record(std::string& b, std::string_view name, const Hash128& digest) {
    put_str(b, name);
    put_hash(b, digest);
}

}  // namespace

Hash128 hash_content(int fd, std::string_view what) {
    std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(),
                                                                &XXH3_freeState);
    if (!st) throw Error(ErrorKind::kInternal, "XXH3_createState failed");
    XXH3_128bits_reset(st.get());
    ReadBuffer buf(1 << 16);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", what);
        }
        if (n == 0) break;
        XXH3_128bits_update(st.get(), buf.data(), static_cast<size_t>(n));
    }
    XXH128_hash_t d = XXH3_128bits_digest(st.get());
    return Hash128{d.low64, d.high64};
}

Hash128 hash_encoding(std::string_view bytes) {
    XXH128_hash_t d = XXH3_128bits_withSeed(bytes.data(), bytes.size(), kDigestSeed);
    return Hash128{d.low64, d.high64};
}

std::string digest_string(const Hash128& digest) {
    return "xxh3:" + digest.hex();
}

Hash128 leaf_digest(const Entry& e, uint32_t mode) {
    if (e.type == EntryType::kDir)
        throw Error(ErrorKind::kInternal, "leaf_digest of a directory: " + std::string(e.path));
    thread_local std::string b;
    b.clear();
    leaf_encoding(b, e, mode);
    return hash_bytes(b);
}

void compute_digests(std::span<Entry> entries) {
    std::string b;
    for (size_t i = entries.size(); i-- > 0;) {
        Entry& e = entries[i];
        b.clear();
        if (e.type != EntryType::kDir) {
            leaf_encoding(b, e, e.mode);
        } else {
            put8(b, 'D');
            put32(b, e.mode & 07777);
            for (size_t j = i + 1; j < e.subtree_end; j = entries[j].subtree_end)
                child_record(b, entries[j].name(), entries[j].digest);
        }
        e.digest = hash_bytes(b);
    }
}

namespace {

class FilteredDigest {
  public:
    FilteredDigest(const ContextSnapshot& s, const DigestOptions& o) : snap_(s), opts_(o) {}

    uint32_t mode_of(const Entry& e) const { return opts_.mode ? opts_.mode(e) : e.mode; }

    // Digest of directory `dir`, or nullopt when it is not kept (not
    // included itself and nothing included below it).
    std::optional<Hash128> dir(const Entry& dir, const std::string& rel, bool included) {
        std::string b;
        put8(b, 'D');
        put32(b, mode_of(dir) & 07777);
        bool any = false;
        for (const Entry& c : snap_.children(dir)) {
            std::string crel =
                rel.empty() ? std::string(c.name()) : rel + "/" + std::string(c.name());
            bool inc = !opts_.include || opts_.include(crel, c);
            std::optional<Hash128> d;
            if (c.type == EntryType::kDir) {
                d = this->dir(c, crel, inc);
            } else if (inc) {
                d = leaf_digest(c, mode_of(c));
            }
            if (!d) continue;
            child_record(b, c.name(), *d);
            any = true;
        }
        if (!included && !any) return std::nullopt;
        return hash_bytes(b);
    }

  private:
    const ContextSnapshot& snap_;
    const DigestOptions& opts_;
};

}  // namespace

Hash128 subtree_digest(const ContextSnapshot& snapshot, const Entry& root,
                       const DigestOptions& options) {
    if (!options.include && !options.mode) return root.digest;
    FilteredDigest f(snapshot, options);
    if (root.type != EntryType::kDir) return leaf_digest(root, f.mode_of(root));
    return *f.dir(root, "", true);
}

struct SelectionDigest::State {
    std::string buf;
};

SelectionDigest::SelectionDigest() : state_(std::make_unique<State>()) {}
SelectionDigest::~SelectionDigest() = default;
SelectionDigest::SelectionDigest(SelectionDigest&&) noexcept = default;
SelectionDigest& SelectionDigest::operator=(SelectionDigest&&) noexcept = default;

void SelectionDigest::add(std::string_view label, const Entry& entry) {
    add(label, entry.digest);
}

void SelectionDigest::add(std::string_view label, const Hash128& digest) {
    put8(state_->buf, 'S');
    child_record(state_->buf, label, digest);
}

Hash128 SelectionDigest::finish() const {
    // A selection of nothing still has a digest (of the empty encoding).
    return hash_bytes(state_->buf);
}

}  // namespace strata::cache
