// A build context, walked once: every entry the .dockerignore lets through,
// in tree order, with metadata, content hashes and memoized digests.
//
// Tree order is a depth-first walk with each directory's entries sorted by
// name (bytewise): a directory comes right before its subtree, so every
// subtree is one contiguous range [index, subtree_end). Index 0 is the
// context root itself (path ""). Equivalently, paths compare bytewise with
// '/' ranking below every other byte.
//
// A snapshot is immutable: safe to read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/context_entry.hpp"
#include "cache/filesystem.hpp"

namespace strata::frontend {
class DockerIgnore;
}

namespace strata::cache {

class StatCache;

struct SnapshotStats {
    uint64_t entries = 0;       // in the snapshot, root included
    uint64_t files = 0;         // regular files in the snapshot
    uint64_t files_hashed = 0;  // read and hashed (stat cache misses)
    uint64_t cache_hits = 0;    // taken from the stat cache without a read
    uint64_t bytes_hashed = 0;
    uint64_t dirs_skipped = 0;  // not listed: the .dockerignore excludes all of them
};

class ContextSnapshot {
  public:
    // Children of a directory, in name order.
    class ChildRange {
      public:
        class iterator {
          public:
            using iterator_category = std::forward_iterator_tag;
            using value_type = Entry;
            using difference_type = std::ptrdiff_t;
            using pointer = const Entry*;
            using reference = const Entry&;
            iterator() = default;
            iterator(const Entry* base, uint32_t i) : base_(base), i_(i) {}
            const Entry& operator*() const { return base_[i_]; }
            const Entry* operator->() const { return base_ + i_; }
            iterator& operator++() {
                i_ = base_[i_].subtree_end;
                return *this;
            }
            iterator operator++(int) {
                iterator t = *this;
                ++*this;
                return t;
            }
            bool operator==(const iterator& o) const { return i_ == o.i_; }

          private:
            const Entry* base_ = nullptr;
            uint32_t i_ = 0;
        };
        ChildRange(const Entry* base, uint32_t first, uint32_t end)
            : base_(base), first_(first), end_(end) {}
        iterator begin() const { return {base_, first_}; }
        iterator end() const { return {base_, end_}; }
        bool empty() const { return first_ == end_; }

      private:
        const Entry* base_;
        uint32_t first_, end_;
    };

    ContextSnapshot();  // an empty snapshot (no entries, not even a root)
    ContextSnapshot(ContextSnapshot&&) noexcept;
    ContextSnapshot& operator=(ContextSnapshot&&) noexcept;
    ContextSnapshot(const ContextSnapshot&) = delete;
    ContextSnapshot& operator=(const ContextSnapshot&) = delete;
    ~ContextSnapshot();

    // The context directory as given to snapshot_context.
    const std::string& root_path() const { return root_path_; }
    size_t size() const { return entries_.size(); }
    std::span<const Entry> entries() const { return entries_; }
    const Entry& operator[](size_t i) const { return entries_[i]; }
    const Entry& root() const { return entries_.front(); }
    size_t index_of(const Entry& e) const { return static_cast<size_t>(&e - entries_.data()); }

    // The entry at exactly `path` (clean, relative, '/'-separated; "" is the
    // root), or null. No symlink is followed: see context_resolve.hpp.
    const Entry* find(std::string_view path) const;

    // The entry and everything below it (just the entry for non-directories).
    std::span<const Entry> subtree(const Entry& e) const {
        return std::span<const Entry>(entries_).subspan(index_of(e), e.subtree_end - index_of(e));
    }
    ChildRange children(const Entry& dir) const {
        // Non-directories have subtree_end == index + 1: no children.
        return ChildRange(entries_.data(), static_cast<uint32_t>(index_of(dir)) + 1,
                          dir.subtree_end);
    }

    const SnapshotStats& stats() const { return stats_; }
    // now_ns() of the filesystem when the walk started.
    int64_t started_at_ns() const { return started_at_ns_; }

  private:
    friend class SnapshotWalker;
    std::string root_path_;
    // Paths and link targets; Entry views point here. A vector, not a
    // string: moving it never moves the bytes (no small-string buffer).
    std::vector<char> storage_;
    std::vector<Entry> entries_;
    SnapshotStats stats_;
    int64_t started_at_ns_ = 0;
};

// Bytewise comparison with '/' below every other byte: the snapshot's order.
bool tree_order_less(std::string_view a, std::string_view b);

struct SnapshotOptions {
    // Applied while walking; null or empty: everything is included.
    const frontend::DockerIgnore* ignore = nullptr;
    // Consulted for every regular file and updated afterwards (not saved).
    StatCache* stat_cache = nullptr;
    // Directories walked in parallel: 0 = a default for the machine (at most
    // 4), 1 = on the calling thread only.
    unsigned threads = 0;
};

// Walks `context_dir` once through `fs`: symlinks are recorded as symlinks
// and never followed; fifos and devices are recorded, never read; a Unix
// socket is recorded as an empty regular file (BuildKit sends it so);
// whole directories are skipped when the ignore rules exclude everything
// below them; an excluded directory is kept only when an exception pattern
// re-includes something beneath it. Throws Error(kSystem) naming the path
// when an entry cannot be read.
ContextSnapshot snapshot_context(Filesystem& fs, const std::string& context_dir,
                                 const SnapshotOptions& options = {});

}  // namespace strata::cache
