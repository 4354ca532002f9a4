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

void ReadAhead::read_chunk(Chunk& chunk) {
    for (Piece& piece : chunk.pieces) {
        try {
            read_piece(piece);
        } catch (...) {
            piece.error = std::current_exception();
        }
        if (piece.file->pieces_left.fetch_sub(1) == 1) piece.file->fd.reset();
    }
    chunk.done.store(true, std::memory_order_release);
}

void ReadAhead::open(File& file, const Node& node) {
    try {
        if (node.kind == Node::Kind::kFile) {
            LayerFileSource source = node.file->open();
            file.path = node.file->shown;
            if (source.xattrs)
                file.xattrs = read_layer_xattrs(nullptr, source.xattrs.get(), file.path);
            file.fd = std::move(source.data);
        } else {
            file.path = (dir_ / node.source).string();
        }
        if (!file.fd) file.fd = open_tree_file(rootfd_, node, dir_);
    } catch (...) {
        file.error = std::current_exception();
    }
}

void ReadAhead::read_piece(Piece& piece) {
    File& file = *piece.file;
    std::call_once(file.opened, [&] { open(file, nodes_[file.node]); });
    if (file.error) std::rethrow_exception(file.error);
    piece.data = std::make_unique_for_overwrite<char[]>(piece.length);
    for (size_t got = 0; got < piece.length;) {
        ssize_t r = ::pread(file.fd.get(), piece.data.get() + got, piece.length - got,
                            static_cast<off_t>(piece.offset + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", file.path);
        }
        if (r == 0) file_shrank(file.path);
        got += static_cast<size_t>(r);
    }
}

}  // namespace strata::store::layer_detail
