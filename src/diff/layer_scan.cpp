#include "diff/layer_scan.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "store/digest.hpp"
#include "store/tar_input.hpp"
#include "store/whiteout.hpp"

namespace strata::diff {

const char* entry_type_name(EntryType t) {
    switch (t) {
        case EntryType::kFile:
            return "file";
        case EntryType::kDir:
            return "directory";
        case EntryType::kSymlink:
            return "symlink";
        case EntryType::kChar:
            return "char device";
        case EntryType::kBlock:
            return "block device";
        case EntryType::kFifo:
            return "fifo";
        case EntryType::kSocket:
            return "socket";
        case EntryType::kWhiteout:
            return "whiteout";
        case EntryType::kOpaque:
            return "opaque marker";
    }
    return "?";
}

std::string clean_entry_path(std::string_view name) {
    return go::path::clean(std::string("/").append(name));  // not "/" + ...: GCC 12 -Wrestrict
}

namespace {

EntryType type_of(mode_t ft) {
    switch (ft) {
        case AE_IFDIR:
            return EntryType::kDir;
        case AE_IFLNK:
            return EntryType::kSymlink;
        case AE_IFCHR:
            return EntryType::kChar;
        case AE_IFBLK:
            return EntryType::kBlock;
        case AE_IFIFO:
            return EntryType::kFifo;
        case AE_IFSOCK:
            return EntryType::kSocket;
        default:
            return EntryType::kFile;
    }
}

bool looks_like_text(std::string_view s) {
    for (unsigned char c : s)
        if (c == 0) return false;
    return true;
}

}  // namespace

LayerFiles scan_layer(const ChunkSource& source, const std::string& what, TextBudget& budget) {
    // The store's reader: gzip through GzipDecoder (ISA-L, or zlib when
    // STRATA_GZIP=zlib), everything else libarchive knows through libarchive.
    store::TarInput in([&source] { return source(); }, what, nullptr, nullptr,
                       store::TarFilters::kAll);
    in.skip_digest();  // files are hashed one by one below; the diffID is not needed

    LayerFiles out;
    store::Sha256 order;
    std::string small;
    static const std::vector<char> zeros(64 * 1024, 0);
    for (;;) {
        struct archive_entry* e = in.next();
        if (e == nullptr) break;
        const std::string last = in.entry_name();
        order.update(last);
        order.update("\0", 1);
        ++out.tar_entries;

        FileEntry f;
        std::string path = clean_entry_path(last);
        std::string parent = path.substr(0, path.rfind('/'));
        std::string base = path.substr(path.rfind('/') + 1);
        auto wh = store::classify_whiteout(base);
        if (wh.kind == store::WhiteoutKind::kMeta) continue;
        if (wh.kind == store::WhiteoutKind::kOpaque) {
            f.type = EntryType::kOpaque;
        } else if (wh.kind == store::WhiteoutKind::kWhiteout) {
            f.type = EntryType::kWhiteout;
            path = parent + "/" + std::string(wh.target);
        } else {
            f.type = type_of(archive_entry_filetype(e));
        }
        f.path = path;
        f.mode = archive_entry_perm(e) & 07777;
        f.uid = archive_entry_uid(e);
        f.gid = archive_entry_gid(e);
        f.mtime = archive_entry_mtime(e);
        f.mtime_ns = archive_entry_mtime_nsec(e);
        if (const char* l = archive_entry_symlink(e); l && f.type == EntryType::kSymlink)
            f.link = l;
        if (f.type == EntryType::kChar || f.type == EntryType::kBlock) {
            f.dev_major = archive_entry_rdevmajor(e);
            f.dev_minor = archive_entry_rdevminor(e);
        }
        archive_entry_xattr_reset(e);
        const char* xname = nullptr;
        const void* xval = nullptr;
        size_t xsize = 0;
        while (archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK)
            f.xattrs[xname] = std::string(static_cast<const char*>(xval), xsize);

        if (const char* h = archive_entry_hardlink(e)) {
            f.hardlink = clean_entry_path(h);
            // A hard link has no data of its own: it shares its target's.
            if (auto it = out.entries.find(f.hardlink); it != out.entries.end()) {
                f.type = it->second.type;
                f.size = it->second.size;
                f.sha256 = it->second.sha256;
                f.text = it->second.text;
            }
        } else if (f.type == EntryType::kFile) {
            f.size = archive_entry_size(e);
            store::Sha256 h;
            int64_t pos = 0;
            small.clear();
            const bool keep = f.size <= kTextLimit;
            in.read_data([&](const void* buf, size_t size, int64_t offset) {
                while (pos < offset) {  // a hole of a sparse entry reads as zeros
                    size_t n = size_t(std::min<int64_t>(offset - pos, int64_t(zeros.size())));
                    h.update(zeros.data(), n);
                    if (keep) small.append(n, '\0');
                    pos += int64_t(n);
                }
                h.update(buf, size);
                if (keep) small.append(static_cast<const char*>(buf), size);
                pos += int64_t(size);
            });
            while (pos < f.size) {
                size_t n = size_t(std::min<int64_t>(f.size - pos, int64_t(zeros.size())));
                h.update(zeros.data(), n);
                if (keep) small.append(n, '\0');
                pos += int64_t(n);
            }
            f.sha256 = h.finish().hex;
            if (keep && looks_like_text(small) && budget.left >= int64_t(small.size())) {
                budget.left -= int64_t(small.size());
                f.text = small;
            }
        }
        std::string key = f.type == EntryType::kOpaque ? path : f.path;
        out.entries[key] = std::move(f);
    }
    in.finish_member();
    out.order_digest = order.finish().hex;
    return out;
}

LayerFiles scan_layer_fd(int fd, const std::string& what, TextBudget& budget) {
    std::vector<char> buf(1 << 20);
    ChunkSource src = [&]() -> std::string_view {
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n >= 0) return {buf.data(), size_t(n)};
            if (errno != EINTR) throw system_error("read", what);
        }
    };
    return scan_layer(src, what, budget);
}

}  // namespace strata::diff
