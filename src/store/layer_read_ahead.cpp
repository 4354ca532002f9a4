#include "store/layer_read_ahead.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.hpp"

namespace strata::store::layer_detail {

bool ReadAhead::worthwhile(const std::vector<Node>& nodes, const std::vector<bool>& needs_data) {
    size_t files = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (!needs_data[i]) continue;
        ++files;
        bytes += static_cast<uint64_t>(nodes[i].st.st_size);
        if (files >= kMinFiles || bytes >= kMinBytes) return true;
    }
    return false;
}

ReadAhead::ReadAhead(const std::vector<Node>& nodes, const std::vector<bool>& needs_data,
                     int rootfd, const std::filesystem::path& dir)
    : nodes_(nodes), rootfd_(rootfd), dir_(dir), first_(nodes.size(), kNone) {
    Chunk* chunk = nullptr;
    auto new_chunk = [&] {
        chunks_.push_back(std::make_unique<Chunk>());
        chunk = chunks_.back().get();
    };
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (!needs_data[i]) continue;
        const auto size = static_cast<uint64_t>(nodes[i].st.st_size);
        files_.push_back(std::make_unique<File>());
        File* file = files_.back().get();
        file->node = i;
        const bool small = size <= kSmallFile;
        if (!small || !chunk || chunk->pieces.size() >= kChunkFiles || chunk->bytes >= kChunkBytes)
            new_chunk();
        first_[i] = refs_.size();
        uint64_t offset = 0;
        size_t pieces = 0;
        do {  // an empty file has one empty piece: it is still opened
            if (!small && offset > 0) new_chunk();
            Piece piece;
            piece.file = file;
            piece.offset = offset;
            piece.length = static_cast<size_t>(std::min<uint64_t>(size - offset, kPiece));
            refs_.push_back({chunks_.size() - 1, chunk->pieces.size()});
            chunk->bytes += piece.length;
            chunk->pieces.push_back(std::move(piece));
            offset += kPiece;
            ++pieces;
        } while (offset < size);
        file->pieces_left = pieces;
        file->pieces = pieces;
    }
}

ReadAhead::Piece& ReadAhead::take(size_t ref) {
    const auto [c, k] = refs_[ref];
    submit_from(c);
    Chunk& chunk = *chunks_[c];
    group_.run_until([&chunk] { return chunk.done.load(std::memory_order_acquire); });
    if (c > 0) chunks_[c - 1].reset();  // the chunk before is done with
    return chunk.pieces[k];
}

void ReadAhead::submit_from(size_t c) {
    uint64_t ahead = 0;
    for (size_t k = c; k < submitted_; ++k)
        if (chunks_[k]) ahead += chunks_[k]->bytes;
    while (submitted_ < chunks_.size() &&
           (submitted_ <= c || ahead + chunks_[submitted_]->bytes <= kWindowBytes)) {
        Chunk* chunk = chunks_[submitted_].get();
        ahead += chunk->bytes;
        ++submitted_;
        group_.submit([this, chunk] { read_chunk(*chunk); });
    }
}

namespace {

constexpr size_t kHeader = 512;  // a ustar header block

// A one-piece LayerFile whose bytes are stored: read with the header before them.
bool stored_one_piece(const ReadAhead::File& file, const Node& node) {
    return file.pieces == 1 && node.kind == Node::Kind::kFile && node.file->stored &&
           node.file->stored->blob && node.file->stored->offset >= kHeader;
}

void pread_all(int fd, char* to, size_t length, uint64_t at, const std::string& path) {
    for (size_t got = 0; got < length;) {
        ssize_t r = ::pread(fd, to + got, length - got, static_cast<off_t>(at + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", path);
        }
        if (r == 0) file_shrank(path);
        got += static_cast<size_t>(r);
    }
}

}  // namespace

void ReadAhead::read_chunk(Chunk& chunk) {
    size_t room = 0;
    for (const Piece& piece : chunk.pieces)
        room += piece.length + kHeader;
    chunk.buffer = std::make_unique_for_overwrite<char[]>(room);
    char* at = chunk.buffer.get();
    for (Piece& piece : chunk.pieces) {
        try {
            read_piece(piece, at + kHeader);
        } catch (...) {
            piece.error = std::current_exception();
        }
        at += piece.length + kHeader;
        if (piece.file->pieces_left.fetch_sub(1) == 1) {
            piece.file->bytes.own.reset();
            piece.file->bytes.shared.reset();
        }
    }
    chunk.done.store(true, std::memory_order_release);
}

void ReadAhead::open(File& file, const Node& node) {
    try {
        if (node.kind == Node::Kind::kFile) {
            file.path = node.file->shown;
            file.bytes = open_layer_file(*node.file);
        } else {
            file.path = (dir_ / node.source).string();
        }
        if (file.bytes.fd() < 0) file.bytes.own = open_tree_file(rootfd_, node, dir_);
    } catch (...) {
        file.error = std::current_exception();
    }
}

void ReadAhead::read_piece(Piece& piece, char* to) {
    File& file = *piece.file;
    const Node& node = nodes_[file.node];
    if (stored_one_piece(file, node)) {
        // Header and bytes in one read; the source only if the header differs.
        const StoredBytes& stored = *node.file->stored;
        file.path = node.file->shown;
        try {
            pread_all(stored.blob->get(), to - kHeader, kHeader + piece.length,
                      stored.offset - kHeader, file.path);
            if (regular_file_header(reinterpret_cast<const unsigned char*>(to - kHeader),
                                    piece.length)) {
                file.bytes.stored = true;
                file.header_read = true;
                piece.data = to;
                return;
            }
        } catch (const Error&) {
            // Shorter than the index says: read from the source below.
        }
        file.bytes = open_layer_source(*node.file);
    } else if (file.pieces == 1) {
        open(file, node);
    } else {
        std::call_once(file.opened, [&] { open(file, node); });
    }
    if (file.error) std::rethrow_exception(file.error);
    pread_all(file.bytes.fd(), to, piece.length, file.bytes.base + piece.offset, file.path);
    piece.data = to;
}

}  // namespace strata::store::layer_detail
