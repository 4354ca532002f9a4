#include "store/layer_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/read_buffer.hpp"
#include "base/unique_fd.hpp"
#include "store/layer_node.hpp"
#include "store/layer_read_ahead.hpp"
#include "store/safe_path.hpp"
#include "store/tar_input.hpp"
#include "store/tar_locale.hpp"
#include "store/threaded_compressor.hpp"
#include "store/whiteout.hpp"

namespace strata::store {

namespace {

using layer_detail::file_shrank;
using layer_detail::header_names;
using layer_detail::Node;
using layer_detail::open_layer_file;
using layer_detail::open_tree_file;
using layer_detail::OpenedFile;
using layer_detail::read_layer_xattrs;
using layer_detail::ReadAhead;

class Walker {
  public:
    Walker(std::filesystem::path root, const std::set<std::string>& exclude)
        : root_(std::move(root)), exclude_(exclude) {}

    std::vector<Node> walk(const std::vector<LayerFile>& files) {
        UniqueFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw system_error("open layer directory", root_.string());
        visit(fd.get(), "");
        const auto by_name = [](const Node& a, const Node& b) { return a.name < b.name; };
        // The tree's entries sorted, then the files (a COPY gives them
        // sorted already) merged in: 10,000 Nodes moved about by a sort
        // cost milliseconds.
        std::sort(nodes_.begin(), nodes_.end(), by_name);
        const auto walked = static_cast<std::ptrdiff_t>(nodes_.size());
        nodes_.reserve(nodes_.size() + files.size());
        for (const auto& f : files) {
            Node node;
            node.kind = Node::Kind::kFile;
            node.name = f.name;
            node.st = f.st;
            node.file = &f;
            nodes_.push_back(std::move(node));
        }
        const auto first_file = nodes_.begin() + walked;
        if (!std::is_sorted(first_file, nodes_.end(), by_name))
            std::sort(first_file, nodes_.end(), by_name);
        std::inplace_merge(nodes_.begin(), first_file, nodes_.end(), by_name);
        for (size_t i = 1; i < nodes_.size(); ++i)
            if (nodes_[i].name == nodes_[i - 1].name)
                throw Error(ErrorKind::kConflict,
                            "layer directory " + root_.string() + ": two entries map to '" +
                                nodes_[i].name +
                                "' (a whiteout and a file named like it, or a file given twice)");
        return std::move(nodes_);
    }

  private:
    void visit(int dirfd, const std::string& rel) {
        for (auto& name : list_dir(dirfd, (root_ / rel).string())) {
            std::string path = rel.empty() ? name : rel + "/" + name;
            if (exclude_.count(path)) continue;
            Node node;
            if (::fstatat(dirfd, name.c_str(), &node.st, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("stat", (root_ / path).string());
            node.source = path;
            if (is_overlay_whiteout(node.st)) {
                node.kind = Node::Kind::kWhiteout;
                node.name = rel.empty() ? std::string(kWhiteoutPrefix) + name
                                        : rel + "/" + std::string(kWhiteoutPrefix) + name;
                nodes_.push_back(std::move(node));
                continue;
            }
            if (S_ISSOCK(node.st.st_mode)) continue;  // sockets do not belong in a layer
            node.name = path;
            const std::string host = (root_ / path).string();
            node.xattrs = read_layer_xattrs(host.c_str(), -1, host);
            if (S_ISDIR(node.st.st_mode)) {
                UniqueFd sub(
                    ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub) throw system_error("open", (root_ / path).string());
                if (is_opaque_dir(sub.get())) {
                    Node marker;
                    marker.kind = Node::Kind::kOpaque;
                    marker.name = path + "/" + std::string(kOpaqueMarker);
                    marker.source = path;
                    marker.st = node.st;
                    nodes_.push_back(std::move(marker));
                }
                nodes_.push_back(std::move(node));
                visit(sub.get(), path);
                continue;
            }
            nodes_.push_back(std::move(node));
        }
    }

    std::filesystem::path root_;
    const std::set<std::string>& exclude_;
    std::vector<Node> nodes_;
};

// The tar → (hash) → compressor → (hash) → sink pipeline.
class TarOutput {
  public:
    // `sink` runs on the compressor's worker thread.
    TarOutput(Compression c, const ByteSink& sink)
        : compression_(c), compressor_(c, [this, &sink](const void* d, size_t n) {
              // Uncompressed: the blob is the tar, its digest is the diffID.
              if (compression_ != Compression::kNone) digest_.update(d, n);
              size_ += n;
              sink(d, n);
          }) {
        a_ = archive_write_new();
        if (!a_) throw Error(ErrorKind::kInternal, "archive_write_new failed");
        // pax_restricted: ustar headers, with a PAX extended header only for
        // what ustar cannot hold (long names, big ids, xattrs).
        if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK) fail("set format");
        // Unblocked: file data goes straight to on_write, without a copy into
        // libarchive's block buffer (ThreadedCompressor batches it anyway).
        archive_write_set_bytes_per_block(a_, 0);
        archive_write_set_bytes_in_last_block(a_, 1);  // no padding past the end marker
        if (archive_write_open2(a_, this, nullptr, &TarOutput::on_write, nullptr, nullptr) !=
            ARCHIVE_OK)
            fail("open");
    }
    ~TarOutput() {
        if (a_) archive_write_free(a_);
    }

    struct archive* archive() {
        return a_;
    }

    void header(struct archive_entry* e, const std::string& name) {
        finish_entry(name);
        header_start_ = tar_size_;
        // ARCHIVE_WARN: written, with a fallback (e.g. a name that is not
        // UTF-8 stored as raw bytes).
        int r = archive_write_header(a_, e);
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail("entry '" + name + "'");
    }
    // An entry's bytes as they are (a header this binary made before, the
    // data, the padding to a whole block), between libarchive's entries.
    void raw_entry(const char* header_and_data, uint64_t data_size, const std::string& name) {
        finish_entry(name);
        header_start_ = tar_size_;
        emit(header_and_data, static_cast<size_t>(kBlock + data_size));
        static const char zeros[kBlock] = {};
        if (const uint64_t rest = data_size % kBlock; rest != 0)
            emit(zeros, static_cast<size_t>(kBlock - rest));
    }
    // Where the last header() or raw_entry() started.
    uint64_t header_start() const { return header_start_; }
    void data(const void* p, size_t n, const std::string& name) {
        auto* c = static_cast<const char*>(p);
        while (n > 0) {
            la_ssize_t w = archive_write_data(a_, c, n);
            if (w <= 0) fail("entry '" + name + "'");
            c += w;
            n -= static_cast<size_t>(w);
        }
    }
    // Bytes of tar written so far: after header(), where the entry's data starts.
    uint64_t position() const { return tar_size_; }
    LayerBlob close(Compression c) {
        if (archive_write_close(a_) != ARCHIVE_OK) fail("close");
        compressor_.finish();
        LayerBlob out;
        out.diff_id = diff_id_.finish();
        out.digest = c == Compression::kNone ? out.diff_id : digest_.finish();
        out.size = size_;
        out.tar_size = tar_size_;
        out.media_type = layer_media_type(c);
        return out;
    }

    static constexpr uint64_t kBlock = 512;

  private:
    // The padding of the entry before: then tar_size_ is where the next starts.
    void finish_entry(const std::string& name) {
        if (archive_write_finish_entry(a_) != ARCHIVE_OK) fail("entry before '" + name + "'");
    }
    void emit(const void* buf, size_t n) {
        diff_id_.update(buf, n);
        tar_size_ += n;
        compressor_.write(buf, n);
    }
    static la_ssize_t on_write(struct archive*, void* ctx, const void* buf, size_t n) {
        auto* self = static_cast<TarOutput*>(ctx);
        try {
            self->emit(buf, n);
        } catch (...) {
            self->error_ = std::current_exception();
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }
    [[noreturn]] void fail(const std::string& what) {
        if (error_) std::rethrow_exception(error_);
        const char* msg = archive_error_string(a_);
        throw Error(ErrorKind::kInternal,
                    "writing layer tar: " + what + ": " + (msg ? msg : "error"));
    }

    Compression compression_;
    Sha256 diff_id_;
    Sha256 digest_;
    uint64_t size_ = 0;
    uint64_t tar_size_ = 0;
    uint64_t header_start_ = 0;
    ThreadedCompressor compressor_;  // last but one: its worker uses the members above
    struct archive* a_ = nullptr;
    std::exception_ptr error_;
};

struct EntryDeleter {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// Streams exactly st_size bytes of `file` (`path`) into the entry.
void copy_file_data(TarOutput& out, const OpenedFile& file, const Node& node,
                    const std::string& path, ReadBuffer& buf) {
    auto remaining = static_cast<uint64_t>(node.st.st_size);
    uint64_t at = file.base;
    while (remaining > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, buf.size()));
        ssize_t r = ::pread(file.fd(), buf.data(), want, static_cast<off_t>(at));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", path);
        }
        if (r == 0) file_shrank(path);
        out.data(buf.data(), static_cast<size_t>(r), node.name);
        remaining -= static_cast<uint64_t>(r);
        at += static_cast<uint64_t>(r);
    }
}

}  // namespace

LayerBlob write_layer_to(const std::filesystem::path& dir, const ByteSink& sink,
                         const LayerWriteOptions& opts) {
    return write_layer_to(dir, {}, sink, opts);
}

LayerBlob write_layer_to(const std::filesystem::path& dir, const std::vector<LayerFile>& files,
                         const ByteSink& sink, const LayerWriteOptions& opts) {
    ScopedUtf8Locale utf8;
    auto nodes = Walker(dir, opts.exclude).walk(files);
    UniqueFd rootfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw system_error("open layer directory", dir.string());
    if (!opts.name_prefix.empty()) {
        for (auto& node : nodes)
            node.name = opts.name_prefix + "/" + node.name;
        Node top;
        top.name = opts.name_prefix;
        top.source = ".";
        if (::fstat(rootfd.get(), &top.st) != 0) throw system_error("stat", dir.string());
        const std::string host = dir.string();
        top.xattrs = read_layer_xattrs(host.c_str(), -1, host);
        nodes.insert(nodes.begin(), std::move(top));
    }

    // Which regular files have their bytes in the tar: each but the later
    // names of a hardlink group (decided here for the read-ahead, below for
    // the headers, by the same rule).
    std::vector<bool> needs_data(nodes.size(), false);
    {
        std::set<std::pair<dev_t, ino_t>> seen;
        for (size_t i = 0; i < nodes.size(); ++i) {
            const auto& n = nodes[i];
            if (n.kind == Node::Kind::kWhiteout || n.kind == Node::Kind::kOpaque ||
                !S_ISREG(n.st.st_mode))
                continue;
            needs_data[i] = n.st.st_nlink <= 1 || seen.insert({n.st.st_dev, n.st.st_ino}).second;
        }
    }
    std::optional<ReadAhead> ahead;
    if (opts.read_ahead && ReadAhead::worthwhile(nodes, needs_data))
        ahead.emplace(nodes, needs_data, rootfd.get(), dir);

    TarOutput out(opts.compression, sink);
    std::map<std::pair<dev_t, ino_t>, std::string> first_link;  // hardlink groups
    std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
    ReadBuffer buf(1 << 20);
    uint64_t content_size = 0;
    std::vector<WrittenFile> written(files.size());

    for (size_t index = 0; index < nodes.size(); ++index) {
        auto& node = nodes[index];
        // Its bytes read ahead: the first piece here (an open error shows
        // now, as it would below), the rest as they are written.
        size_t piece = ahead ? ahead->first(index) : ReadAhead::kNone;
        ReadAhead::Piece* read = piece != ReadAhead::kNone ? &ahead->take(piece) : nullptr;
        if (read && read->error) std::rethrow_exception(read->error);
        const auto& st = node.st;
        // Whole seconds, clamped: no atime/ctime, no sub-second noise.
        int64_t mtime = st.st_mtim.tv_sec;
        if (opts.source_date_epoch && mtime > *opts.source_date_epoch)
            mtime = *opts.source_date_epoch;
        WrittenFile* report = node.kind == Node::Kind::kFile
                                  ? &written[static_cast<size_t>(node.file - files.data())]
                                  : nullptr;
        if (report) {
            report->header =
                HeaderInputs{static_cast<uint32_t>(st.st_mode), st.st_uid, st.st_gid, mtime};
            // Its header and bytes read from the last layer, the header made
            // by this binary from the same inputs: copied as they are.
            const auto& stored = node.file->stored;
            if (read && read->file->header_read && stored && stored->header &&
                *stored->header == report->header && opts.name_prefix.empty() &&
                read->length == static_cast<uint64_t>(st.st_size) &&
                header_names(reinterpret_cast<const unsigned char*>(read->data) - TarOutput::kBlock,
                             node.name)) {
                out.raw_entry(read->data - TarOutput::kBlock, read->length, node.name);
                report->offset = out.header_start() + TarOutput::kBlock;
                report->header_size = TarOutput::kBlock;
                report->stored = true;
                content_size += static_cast<uint64_t>(st.st_size);
                continue;
            }
        }
        archive_entry_clear(e.get());
        archive_entry_copy_pathname(e.get(), node.name.c_str());
        archive_entry_set_uid(e.get(), st.st_uid);
        archive_entry_set_gid(e.get(), st.st_gid);
        archive_entry_set_mtime(e.get(), mtime, 0);

        if (node.kind == Node::Kind::kWhiteout || node.kind == Node::Kind::kOpaque) {
            // Whiteout and opaque markers: empty regular files with the owner
            // of what they stand for. An opaque marker keeps its directory's
            // permission bits; a whiteout is 0600, as BuildKit writes them
            // (overlayfs makes its whiteout devices mode 0).
            const mode_t perm = node.kind == Node::Kind::kWhiteout ? 0600 : (st.st_mode & 0777);
            archive_entry_set_mode(e.get(), AE_IFREG | perm);
            archive_entry_set_size(e.get(), 0);
            out.header(e.get(), node.name);
            continue;
        }
        archive_entry_set_mode(e.get(), st.st_mode);
        // A LayerFile is opened here, its xattrs read like a found file's.
        OpenedFile source;
        std::string path;
        if (read) {
            if (report) {
                node.xattrs = std::move(read->file->bytes.xattrs);
                report->stored = read->file->bytes.stored;
            }
        } else if (report) {
            source = open_layer_file(*node.file);
            path = node.file->shown;
            node.xattrs = std::move(source.xattrs);
            report->stored = source.stored;
        } else {
            path = (dir / node.source).string();
        }
        if (report) report->xattrs = !node.xattrs.empty();
        for (const auto& [k, v] : node.xattrs)
            archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());

        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            auto [it, inserted] = first_link.try_emplace({st.st_dev, st.st_ino}, node.name);
            if (!inserted) {
                archive_entry_copy_hardlink(e.get(), it->second.c_str());
                archive_entry_set_size(e.get(), 0);
                out.header(e.get(), node.name);
                continue;
            }
        }
        switch (st.st_mode & S_IFMT) {
            case S_IFREG:
                archive_entry_set_size(e.get(), st.st_size);
                out.header(e.get(), node.name);
                if (report) {
                    report->offset = out.position();
                    report->header_size = report->offset - out.header_start();
                }
                if (read) {
                    for (auto left = static_cast<uint64_t>(st.st_size);;) {
                        if (read->length > 0) out.data(read->data, read->length, node.name);
                        left -= read->length;
                        if (left == 0) break;
                        read = &ahead->take(++piece);  // the piece before is let go
                        if (read->error) std::rethrow_exception(read->error);
                    }
                } else {
                    if (source.fd() < 0) source.own = open_tree_file(rootfd.get(), node, dir);
                    copy_file_data(out, source, node, path, buf);
                }
                content_size += static_cast<uint64_t>(st.st_size);
                break;
            case S_IFLNK: {
                std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
                ssize_t n =
                    ::readlinkat(rootfd.get(), node.source.c_str(), target.data(), target.size());
                if (n < 0) throw system_error("readlink", (dir / node.source).string());
                target.resize(static_cast<size_t>(n));
                content_size += target.size();
                archive_entry_copy_symlink(e.get(), target.c_str());
                archive_entry_set_size(e.get(), 0);
                out.header(e.get(), node.name);
                break;
            }
            case S_IFCHR:
            case S_IFBLK:
                archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
                archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
                archive_entry_set_size(e.get(), 0);
                out.header(e.get(), node.name);
                break;
            default:  // directories, fifos
                archive_entry_set_size(e.get(), 0);
                out.header(e.get(), node.name);
                break;
        }
    }
    LayerBlob blob = out.close(opts.compression);
    blob.content_size = content_size;
    blob.files = std::move(written);
    return blob;
}

LayerBlob write_layer(const std::filesystem::path& dir, ContentStore& store,
                      const LayerWriteOptions& opts) {
    return write_layer(dir, {}, store, opts);
}

LayerBlob write_layer(const std::filesystem::path& dir, const std::vector<LayerFile>& files,
                      ContentStore& store, const LayerWriteOptions& opts) {
    // write_layer_to hashes exactly the bytes it hands to the sink.
    auto w = store.prehashed_writer();
    if (opts.likely_blob && opts.compression == Compression::kNone)
        w.compare_with(*opts.likely_blob);
    auto blob = write_layer_to(
        dir, files, [&w](const void* d, size_t n) { w.write(d, n); }, opts);
    w.commit(blob.digest, opts.dir_sync);
    return blob;
}

LayerBlob store_layer_tar(int fd, ContentStore& store, const StoreTarOptions& opts) {
    ScopedUtf8Locale utf8;
    auto w = store.writer();
    Sha256 digest;
    uint64_t size = 0;
    Compressor compressor(opts.compression, [&](const void* d, size_t n) {
        digest.update(d, n);
        size += n;
        w.write(d, n);
    });
    uint64_t tar_size = 0;
    TarInput in(fd, "layer tar", nullptr, [&](const void* d, size_t n) {
        tar_size += n;
        compressor.write(d, n);
    });
    while (in.next() != nullptr) {
        // Headers are checked by next(); data is streamed through the hooks.
    }
    LayerBlob blob;
    blob.diff_id = in.finish();
    compressor.finish();
    if (opts.expected_diff_id && *opts.expected_diff_id != blob.diff_id)
        throw Error(ErrorKind::kCorrupt, "layer tar: diffID mismatch: expected " +
                                             opts.expected_diff_id->str() + ", got " +
                                             blob.diff_id.str());
    blob.digest = w.commit(digest.finish());
    blob.size = size;
    blob.tar_size = tar_size;
    blob.media_type = layer_media_type(opts.compression);
    return blob;
}

LayerBlob store_layer_tar(const std::filesystem::path& tar, ContentStore& store,
                          const StoreTarOptions& opts) {
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", tar.string());
    return store_layer_tar(fd.get(), store, opts);
}

LayerBlob store_layer_blob(int fd, ContentStore& store,
                           const std::optional<Digest>& expected_digest,
                           const std::optional<Digest>& expected_diff_id) {
    ScopedUtf8Locale utf8;
    auto w = store.writer();
    uint64_t tar_size = 0;
    TarInput in(
        fd, "layer blob", [&w](const void* d, size_t n) { w.write(d, n); },
        [&tar_size](const void*, size_t n) { tar_size += n; });
    while (in.next() != nullptr) {
    }
    LayerBlob blob;
    blob.diff_id = in.finish();
    if (expected_diff_id && *expected_diff_id != blob.diff_id)
        throw Error(ErrorKind::kCorrupt, "layer blob: diffID mismatch: expected " +
                                             expected_diff_id->str() + ", got " +
                                             blob.diff_id.str());
    blob.size = w.size();
    blob.tar_size = tar_size;
    blob.digest = w.commit(expected_digest);
    blob.media_type = layer_media_type(in.compression());
    return blob;
}

}  // namespace strata::store
