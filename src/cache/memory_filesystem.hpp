// An in-memory Filesystem for tests (ninja's VirtualFileSystem): a tree of
// nodes with inode numbers, owners and timestamps that the test controls,
// and counters of every operation so a test can assert "no file was read".
//
// The clock does not move on its own: every change stamps mtime/ctime with
// now_ns(), and advance() moves it, so a test can make a change fall within
// the same timestamp tick as a snapshot (the "racy" case).
//
// Paths are '/'-separated and relative to the filesystem's root ("" or "/"
// is the root, "ctx/a.txt" a file). Parents are created as needed (0755).
// Directories hand out listings in reverse name order, so that the walker's
// sorting is exercised.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cache/context_entry.hpp"
#include "cache/filesystem.hpp"

namespace strata::cache {

class MemoryFilesystem final : public Filesystem {
  public:
    struct Counters {
        std::atomic<uint64_t> lists{0}, stats{0}, opens{0}, readlinks{0}, reads{0};
        std::atomic<uint64_t> bytes_read{0};
    };

    MemoryFilesystem();
    ~MemoryFilesystem() override;

    std::unique_ptr<Directory> open_root(const std::string& path) override;
    int64_t now_ns() override { return now_; }
    bool thread_safe() const override { return true; }  // while no test mutates it

    void add_dir(std::string_view path, uint32_t mode = 0755);
    void add_file(std::string_view path, std::string_view content, uint32_t mode = 0644);
    void add_symlink(std::string_view path, std::string_view target);
    // A fifo, socket or device node.
    void add_special(std::string_view path, EntryType type, uint64_t rdev = 0,
                     uint32_t mode = 0644);

    // New content: size, mtime and ctime change; the inode stays.
    void write(std::string_view path, std::string_view content);
    // Sets timestamps as utimensat would (ctime becomes now, unless given).
    void set_mtime(std::string_view path, int64_t mtime_ns);
    void set_times(std::string_view path, int64_t mtime_ns, int64_t ctime_ns);
    void chmod(std::string_view path, uint32_t mode);
    void chown(std::string_view path, uint32_t uid, uint32_t gid);
    // Changes the inode number only (as if restored from a backup).
    void set_inode(std::string_view path, uint64_t ino);
    void remove(std::string_view path);  // recursively
    void rename(std::string_view from, std::string_view to);
    // Makes an entry unreadable: opening or reading it fails with EACCES.
    void deny(std::string_view path);

    void advance(int64_t ns) { now_ += ns; }
    void set_now(int64_t ns) { now_ = ns; }
    // Content is handed to readers in chunks of at most this size.
    void set_read_chunk(size_t n) { read_chunk_ = n; }

    Counters& counters() { return counters_; }
    void reset_counters();

    struct Node;

  private:
    Node& lookup(std::string_view path);
    Node& create(std::string_view path, uint32_t st_mode);

    std::unique_ptr<Node> root_;
    int64_t now_ = 1'700'000'000'000'000'000;  // a plausible epoch time
    uint64_t next_ino_ = 100;
    size_t read_chunk_ = SIZE_MAX;
    Counters counters_;
};

}  // namespace strata::cache
