#include "store/content_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/read_buffer.hpp"

namespace strata::store {

namespace {

constexpr size_t kWriteBuffer = 1 << 20;

void make_dirs(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw system_error("create directory", dir.string(), ec.value());
}

// Hashes everything readable from fd.
Digest hash_fd(int fd, const std::string& what, uint64_t* size_out = nullptr) {
    Sha256 h;
    ReadBuffer buf(1 << 20);
    uint64_t total = 0;
    for (;;) {
        ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", what);
        }
        if (r == 0) break;
        h.update(buf.data(), static_cast<size_t>(r));
        total += static_cast<uint64_t>(r);
    }
    if (size_out) *size_out = total;
    return h.finish();
}

}  // namespace

ContentStore::ContentStore(std::filesystem::path root) : root_(std::move(root)) {
    make_dirs(root_ / "blobs" / "sha256");
    make_dirs(tmp_dir());
}

std::filesystem::path ContentStore::blob_path(const Digest& digest) const {
    if (digest.algorithm != "sha256" || digest.hex.size() != 64)
        throw Error(ErrorKind::kParse, "unsupported digest '" + digest.str() + "'");
    return root_ / "blobs" / "sha256" / digest.hex;
}

bool ContentStore::has(const Digest& digest) const {
    struct stat st {};
    return ::stat(blob_path(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t ContentStore::size(const Digest& digest) const {
    auto p = blob_path(digest);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw Error(ErrorKind::kNotFound,
                        "blob " + digest.str() + " not found in " + p.parent_path().string());
        throw system_error("stat", p.string());
    }
    return static_cast<uint64_t>(st.st_size);
}

UniqueFd ContentStore::open(const Digest& digest) const {
    auto p = blob_path(digest);
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            throw Error(ErrorKind::kNotFound,
                        "blob " + digest.str() + " not found in " + p.parent_path().string());
        throw system_error("open", p.string());
    }
    return fd;
}

std::string ContentStore::read(const Digest& digest) const {
    auto fd = open(digest);
    auto p = blob_path(digest);
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t r = ::read(fd.get(), buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", p.string());
        }
        if (r == 0) break;
        data.append(buf, static_cast<size_t>(r));
    }
    auto actual = sha256_of(data);
    if (actual != digest)
        throw Error(ErrorKind::kCorrupt,
                    "blob " + p.string() + " is corrupt: its content hashes to " + actual.str());
    return data;
}

void ContentStore::sync_renames() const {
    fsync_dir(root_ / "blobs" / "sha256");
}

Digest ContentStore::put(std::string_view data, DirSync sync) {
    // A rebuild that changed nothing writes the same configs and manifests
    // again: skip the temp file, fsync and rename when the blob is there.
    Digest d = sha256_of(data);
    if (has(d)) return d;
    auto w = writer();
    w.write(data);
    return w.commit(std::nullopt, sync);
}

Digest ContentStore::put_fd(int fd, const std::optional<Digest>& expected) {
    auto w = writer();
    ReadBuffer buf(1 << 20);
    for (;;) {
        ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", "blob input");
        }
        if (r == 0) break;
        w.write(buf.data(), static_cast<size_t>(r));
    }
    return w.commit(expected);
}

ContentStore::Writer ContentStore::writer() {
    return new_writer(true);
}

ContentStore::Writer ContentStore::prehashed_writer() {
    return new_writer(false);
}

ContentStore::Writer ContentStore::new_writer(bool hash) {
    std::string tmpl = (tmp_dir() / "blob-XXXXXX").string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw system_error("create temp file", tmpl);
    UniqueFd owned(fd);
    if (::fchmod(fd, 0644) != 0) {
        int err = errno;
        ::unlink(tmpl.c_str());
        throw system_error("chmod", tmpl, err);
    }
    return Writer(*this, std::move(owned), tmpl, hash);
}

void ContentStore::remove(const Digest& digest) {
    auto p = blob_path(digest);
    if (::unlink(p.c_str()) != 0) {
        if (errno == ENOENT) return;
        throw system_error("unlink", p.string());
    }
    fsync_dir(p.parent_path());
}

std::vector<Digest> ContentStore::list() const {
    std::vector<Digest> out;
    auto dir = root_ / "blobs" / "sha256";
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (auto d = Digest::try_parse("sha256:" + it->path().filename().string()))
            out.push_back(*d);
    }
    if (ec) throw system_error("list", dir.string(), ec.value());
    std::sort(out.begin(), out.end());
    return out;
}

bool ContentStore::verify(const Digest& digest) const {
    auto p = blob_path(digest);
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return false;
        throw system_error("open", p.string());
    }
    return hash_fd(fd.get(), p.string()) == digest;
}

// --- Writer -----------------------------------------------------------------

ContentStore::Writer::Writer(ContentStore& store, UniqueFd fd, std::filesystem::path temp,
                             bool hash)
    : store_(&store), fd_(std::move(fd)), temp_(std::move(temp)), hashing_(hash) {
    buffer_.reserve(kWriteBuffer);
}

ContentStore::Writer::Writer(Writer&& other) noexcept
    : store_(other.store_),
      fd_(std::move(other.fd_)),
      temp_(std::move(other.temp_)),
      hash_(std::move(other.hash_)),
      size_(other.size_),
      written_(other.written_),
      writeback_(other.writeback_),
      buffer_(std::move(other.buffer_)),
      likely_(std::move(other.likely_)),
      likely_digest_(std::move(other.likely_digest_)),
      matched_(other.matched_),
      done_(other.done_),
      hashing_(other.hashing_) {
    other.done_ = true;
    other.temp_.clear();
}

ContentStore::Writer::~Writer() {
    if (!done_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void ContentStore::Writer::write(const void* data, size_t n) {
    if (done_) throw Error(ErrorKind::kInternal, "write to a committed blob writer");
    if (hashing_) hash_.update(data, n);
    size_ += n;
    if (buffer_.size() + n > kWriteBuffer) flush();
    if (n >= kWriteBuffer) {
        write_out(data, n);
    } else {
        buffer_.append(static_cast<const char*>(data), n);
    }
}

void ContentStore::Writer::flush() {
    if (buffer_.empty()) return;
    write_out(buffer_.data(), buffer_.size());
    buffer_.clear();
}

void ContentStore::Writer::compare_with(const Digest& likely) {
    if (size_ != 0) throw Error(ErrorKind::kInternal, "compare_with after a write");
    likely_.reset(::open(store_->blob_path(likely).c_str(), O_RDONLY | O_CLOEXEC));
    likely_digest_ = likely;
}

bool ContentStore::Writer::matches(const void* data, size_t n) {
    if (!theirs_ || theirs_->size() < n) theirs_.emplace(std::max<size_t>(n, 1 << 20));
    char* theirs = theirs_->data();
    size_t got = 0;
    while (got < n) {
        ssize_t r =
            ::pread(likely_.get(), theirs + got, n - got, static_cast<off_t>(matched_ + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;  // shorter, or unreadable: just write
        got += static_cast<size_t>(r);
    }
    return std::memcmp(theirs, data, n) == 0;
}

void ContentStore::Writer::diverge() {
    if (!likely_) return;
    UniqueFd from = std::move(likely_);
    // The matched bytes, copied within the filesystem.
    off_t in = 0;
    while (static_cast<uint64_t>(in) < matched_) {
        ssize_t r = ::copy_file_range(from.get(), &in, fd_.get(), nullptr,
                                      static_cast<size_t>(matched_ - static_cast<uint64_t>(in)), 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            // No copy_file_range here (or the blob went short): by hand.
            if (!theirs_) theirs_.emplace(1 << 20);
            ReadBuffer& buf = *theirs_;
            while (static_cast<uint64_t>(in) < matched_) {
                const size_t want = static_cast<size_t>(
                    std::min<uint64_t>(buf.size(), matched_ - static_cast<uint64_t>(in)));
                ssize_t got = ::pread(from.get(), buf.data(), want, in);
                if (got < 0 && errno == EINTR) continue;
                if (got <= 0)
                    throw system_error("read", store_->blob_path(likely_digest_).string());
                write_all(fd_.get(), buf.data(), static_cast<size_t>(got), temp_.string());
                in += got;
            }
            break;
        }
    }
    written_ = matched_;
    theirs_.reset();
}

void ContentStore::Writer::write_out(const void* data, size_t n) {
    if (likely_) {
        if (matches(data, n)) {
            matched_ += n;
            return;
        }
        diverge();
    }
    write_all(fd_.get(), data, n, temp_.string());
    written_ += n;
    // Start the disk writes of what came so far, without waiting for them,
    // so that commit()'s fsync waits only for the last few MiB instead of
    // the whole blob: on a pull or a large layer, the disk works while the
    // next bytes arrive. A hint only: its failure is not an error (fsync
    // still makes the blob durable).
    constexpr uint64_t kWritebackChunk = 8u << 20;
    if (written_ - writeback_ >= kWritebackChunk) {
        ::sync_file_range(fd_.get(), static_cast<off_t>(writeback_),
                          static_cast<off_t>(written_ - writeback_), SYNC_FILE_RANGE_WRITE);
        writeback_ = written_;
    }
}

Digest ContentStore::Writer::digest_so_far() const {
    Sha256 copy(hash_);
    return copy.finish();
}

Digest ContentStore::Writer::commit(const std::optional<Digest>& expected, DirSync sync) {
    if (done_) throw Error(ErrorKind::kInternal, "blob writer committed twice");
    flush();
    if (!hashing_ && !expected)
        throw Error(ErrorKind::kInternal, "a prehashed blob writer needs the digest");
    auto digest = hashing_ ? hash_.finish() : *expected;
    done_ = true;
    if (expected && *expected != digest) {
        ::unlink(temp_.c_str());
        throw Error(ErrorKind::kCorrupt, "digest mismatch: expected " + expected->str() + ", got " +
                                             digest.str() + " (" + std::to_string(size_) +
                                             " bytes)");
    }
    auto target = store_->blob_path(digest);
    // Every byte matched the likely blob, and it is this blob: nothing was
    // written, nothing is to be (it was synced when it was written).
    if (likely_) {
        struct stat lst {};
        if (digest == likely_digest_ && ::fstat(likely_.get(), &lst) == 0 &&
            static_cast<uint64_t>(lst.st_size) == size_ && ::access(target.c_str(), F_OK) == 0) {
            likely_.reset();
            fd_.reset();
            ::unlink(temp_.c_str());
            return digest;
        }
        try {
            diverge();  // removed meanwhile, or other bytes: the temp file gets them all
        } catch (...) {
            ::unlink(temp_.c_str());
            throw;
        }
    }
    // The same bytes again (a rebuild that made the same layer): the blob in
    // place was verified and synced when it was written.
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size_) {
        fd_.reset();
        ::unlink(temp_.c_str());
        return digest;
    }
    if (::fsync(fd_.get()) != 0) {
        int err = errno;
        ::unlink(temp_.c_str());
        throw system_error("fsync", temp_.string(), err);
    }
    fd_.reset();
    if (::rename(temp_.c_str(), target.c_str()) != 0) {
        int err = errno;
        ::unlink(temp_.c_str());
        throw system_error("rename", target.string(), err);
    }
    if (sync == DirSync::kNow) fsync_dir(target.parent_path());
    return digest;
}

}  // namespace strata::store
