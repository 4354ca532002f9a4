// Internal to the layer writer: regular files' contents (and a LayerFile's
// xattrs) read ahead on the thread pool, in tar order, while the writing
// thread builds headers and hashes. A layer of many small files costs four
// system calls per file (open, listxattr, read, close), a layer of large ones
// the copying of their bytes out of the page cache; this moves both off the
// thread that hashes. Small files are read whole, several to a task; a large
// file in 1 MiB pieces from one descriptor; at most kWindowBytes ahead of the
// writer. What a file's open or read throws is thrown where the writer
// reaches that file, so errors are those of the plain loop; the tar is byte
// for byte the same.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/thread_pool.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_node.hpp"

namespace strata::store::layer_detail {

class ReadAhead {
  public:
    // A file being read: opened once, by whichever of its pieces runs first
    // (a file of one piece, most of them, by that piece: no once_flag, whose
    // completion costs a futex wake-up per file).
    struct File {
        std::once_flag opened;
        OpenedFile bytes;  // a LayerFile's also carries its xattrs
        std::string path;  // for messages
        std::exception_ptr error;
        std::atomic<size_t> pieces_left{0};  // the descriptor closes after the last
        size_t pieces = 0;
        size_t node = 0;
        // A one-piece stored file: the 512-byte header before its bytes was
        // read with them (and checked), at Piece::data - 512.
        bool header_read = false;
    };
    struct Piece {
        File* file = nullptr;
        uint64_t offset = 0;
        size_t length = 0;
        const char* data = nullptr;  // in its chunk's buffer, once read
        std::exception_ptr error;
    };

    // Whether reading ahead pays for these files (`needs_data[i]`: node i is
    // a regular file whose bytes go into the tar): enough of them, or enough
    // bytes, to share. Counted before anything is allocated.
    static bool worthwhile(const std::vector<Node>& nodes, const std::vector<bool>& needs_data);

    // `rootfd` and `dir`: the walked tree, as the writer opens its files.
    ReadAhead(const std::vector<Node>& nodes, const std::vector<bool>& needs_data, int rootfd,
              const std::filesystem::path& dir);

    // The first piece of node `i`'s bytes (kNone: it has none read ahead);
    // the rest follow it in order.
    size_t first(size_t i) const { return first_[i]; }

    // Piece `ref`, waiting for it. The pieces before it are let go.
    Piece& take(size_t ref);

    static constexpr size_t kNone = ~size_t{0};

  private:
    static constexpr uint64_t kSmallFile = 256u << 10;
    static constexpr uint64_t kPiece = 1u << 20;
    static constexpr size_t kChunkFiles = 64;
    static constexpr uint64_t kChunkBytes = 1u << 20;
    static constexpr uint64_t kWindowBytes = 8u << 20;
    static constexpr size_t kMinFiles = 32;
    static constexpr uint64_t kMinBytes = 4u << 20;

    struct Chunk {
        std::vector<Piece> pieces;
        uint64_t bytes = 0;
        std::unique_ptr<char[]> buffer;  // every piece's bytes, one allocation
        std::atomic<bool> done{false};
    };

    // Queues the chunks from `c` on, while they fit in the window.
    void submit_from(size_t c);
    void read_chunk(Chunk& chunk);
    void open(File& file, const Node& node);
    // Reads the piece into `to` (room for its length, and kHeader bytes
    // before it for a one-piece LayerFile with StoredBytes: the header is
    // checked in the same read).
    void read_piece(Piece& piece, char* to);

    const std::vector<Node>& nodes_;
    const int rootfd_;
    const std::filesystem::path& dir_;
    std::vector<size_t> first_;  // per node: its first piece in refs_, or kNone
    std::vector<std::unique_ptr<File>> files_;
    std::vector<std::pair<size_t, size_t>> refs_;  // per piece: chunk, index in it
    std::vector<std::unique_ptr<Chunk>> chunks_;
    size_t submitted_ = 0;
    TaskGroup group_;  // last: destroyed first, waiting for running reads
};

}  // namespace strata::store::layer_detail
