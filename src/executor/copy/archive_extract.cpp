#include "executor/copy/archive_extract.hpp"

#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "executor/copy/path_parts.hpp"
#include "store/tar_input.hpp"
#include "store/tar_locale.hpp"

namespace strata::executor {

namespace {

constexpr int kMaxSymlinks = 255;

[[noreturn]] void refuse(const ExtractOptions& o, const std::string& why) {
    throw Error(ErrorKind::kCorrupt, o.what + ": " + why);
}

std::string join_rel(const std::vector<std::string>& parts, size_t n) {
    std::string out;
    for (size_t i = 0; i < n && i < parts.size(); ++i) {
        if (!out.empty()) out += '/';
        out += parts[i];
    }
    return out;
}

// A tar name made relative and clean; "" for the root itself. Names that
// climb out ("../x") are refused.
std::string clean_entry_name(const std::string& raw, const ExtractOptions& o) {
    size_t i = 0;
    while (i < raw.size() && raw[i] == '/')
        ++i;
    std::string name = go::path::clean(raw.substr(i));
    if (name == "." || name.empty()) return "";
    if (name == ".." || name.starts_with("../"))
        refuse(o, "archive path \"" + raw + "\" is outside the extraction root");
    return name;
}

class Extractor {
  public:
    Extractor(DestState& dest, std::string root, const ExtractOptions& o)
        : dest_(dest), root_(std::move(root)), o_(o) {
        clock_gettime(CLOCK_REALTIME, &now_);
    }

    // Errors of the stream (corrupt compression, a truncated or malformed
    // tar) are TarInput's: Error(kCorrupt) naming the ADD and the entry.
    uint64_t run(store::TarInput& in) {
        uint64_t count = 0;
        while (struct archive_entry* entry = in.next()) {
            apply(in, entry);
            ++count;
        }
        in.finish_member();
        return count;
    }

  private:
    std::string abs(const std::string& rel) const {
        if (rel.empty()) return root_;
        return root_ == "/" ? "/" + rel : root_ + "/" + rel;
    }

    // Resolves `name` (relative to the extraction root) through symlinks,
    // which are re-rooted at the extraction root and may not climb out.
    std::vector<std::string> resolve(const std::string& name, bool follow_leaf) {
        std::vector<std::string> parts = split_path(name);
        for (int round = 0; round < kMaxSymlinks; ++round) {
            std::vector<std::string> resolved;
            bool followed = false;
            for (size_t i = 0; i < parts.size(); ++i) {
                if (i + 1 == parts.size() && !follow_leaf) {
                    resolved.push_back(parts[i]);
                    continue;
                }
                std::vector<std::string> candidate = resolved;
                candidate.push_back(parts[i]);
                auto node = dest_.lstat(abs(join_rel(candidate, candidate.size())));
                if (!node) {
                    resolved.insert(resolved.end(), parts.begin() + static_cast<long>(i),
                                    parts.end());
                    return resolved;
                }
                if (node->type != FileType::kSymlink) {
                    resolved.push_back(parts[i]);
                    continue;
                }
                const std::string& target = node->link_target;
                std::string next;
                if (!target.empty() && target.front() == '/') {
                    next = clean_entry_name(target, o_);
                } else {
                    const std::string base = join_rel(resolved, resolved.size());
                    next = go::path::clean(base.empty() ? target : base + "/" + target);
                    if (next == ".") next.clear();
                    if (next == ".." || next.starts_with("../") || next.starts_with("/"))
                        refuse(o_, "archive symlink \"" + join_rel(candidate, candidate.size()) +
                                       "\" points outside the extraction root");
                }
                std::vector<std::string> rebuilt = split_path(next);
                rebuilt.insert(rebuilt.end(), parts.begin() + static_cast<long>(i) + 1,
                               parts.end());
                parts = std::move(rebuilt);
                followed = true;
                break;
            }
            if (!followed) return resolved;
        }
        refuse(o_, "too many symlinks resolving archive path \"" + name + "\"");
    }

    EntryMeta meta_of(struct archive_entry* e) const {
        EntryMeta m;
        m.mode = static_cast<uint32_t>(archive_entry_perm(e)) & 07777;
        if (o_.owner) {
            m.uid = o_.owner->uid;
            m.gid = o_.owner->gid;
        } else {
            m.uid = static_cast<uint32_t>(archive_entry_uid(e));
            m.gid = static_cast<uint32_t>(archive_entry_gid(e));
        }
        // As BuildKit: times before 1970 count as 1970.
        m.mtime.tv_sec = archive_entry_mtime(e);
        m.mtime.tv_nsec = archive_entry_mtime_nsec(e);
        if (m.mtime.tv_sec < 0 || m.mtime.tv_nsec < 0 || m.mtime.tv_nsec > 999999999) {
            m.mtime.tv_sec = 0;
            m.mtime.tv_nsec = 0;
        }
        return m;
    }

    void apply(store::TarInput& in, struct archive_entry* e) {
        const char* raw_name = archive_entry_pathname(e);
        if (!raw_name) refuse(o_, "archive entry with an unreadable name");
        const std::string name = clean_entry_name(raw_name, o_);
        if (name.empty()) return;  // "./": the extraction root itself
        const char* hardlink = archive_entry_hardlink(e);
        const mode_t type = archive_entry_filetype(e);
        const bool is_dir = !hardlink && type == AE_IFDIR;

        const std::vector<std::string> op = resolve(name, is_dir);
        if (op.empty()) return;
        const std::string parent_rel = join_rel(op, op.size() - 1);
        const std::string leaf = op.back();
        LayerTree& tree = dest_.tree();
        LayerTree::Dir parent = dest_.ensure_dir(abs(parent_rel), Owner{0, 0}, now_);

        // Whatever is there goes, unless both are directories.
        const std::string target_abs = abs(join_rel(op, op.size()));
        auto existing = dest_.lstat(target_abs);
        if (existing && !(existing->type == FileType::kDirectory && is_dir)) {
            if (tree.lstat(parent, leaf)) tree.remove(parent, leaf);
        }
        const EntryMeta meta = meta_of(e);

        if (hardlink) {
            std::string link_name = clean_entry_name(hardlink, o_);
            if (link_name.empty())
                refuse(o_, "archive hardlink \"" + std::string(raw_name) +
                               "\" targets the extraction root");
            auto target = resolve(link_name, false);
            const std::string target_path = abs(join_rel(target, target.size()));
            copy_up_file(target_path);
            tree.link(target_path, parent, leaf);
            tree.set_file_meta(parent, leaf, meta);
            return;
        }
        switch (type) {
            case AE_IFDIR: {
                LayerTree::Dir d = tree.make_dir(parent, leaf, meta, true);
                tree.defer_mtime(d.path, meta.mtime);
                return;
            }
            case AE_IFREG:
                tree.write_file_with(
                    parent, leaf, [&](int fd) { return copy_data(in, fd, target_abs); }, meta);
                return;
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                tree.write_symlink(parent, leaf, target ? target : "", meta);
                return;
            }
            default:
                throw Error(ErrorKind::kUsage, o_.what + ": unsupported tar entry \"" +
                                                   std::string(raw_name) + "\" (type " +
                                                   std::to_string(type >> 12) + ")");
        }
    }

    // A hardlink to a file the parent image has but the layer does not:
    // bring the file into the layer first so both names share it.
    void copy_up_file(const std::string& path) {
        auto parts = split_path(path);
        if (parts.empty()) return;
        const std::string leaf = parts.back();
        parts.pop_back();
        LayerTree& tree = dest_.tree();
        auto below = dest_.parent().lookup(path, false);
        auto dir_path = join_abs(parts);
        if (!below || below->type != FileType::kRegular) return;  // link() reports it
        LayerTree::Dir dir = dest_.ensure_dir(dir_path, Owner{0, 0}, now_);
        if (tree.lstat(dir, leaf)) return;
        EntryMeta m;
        m.mode = below->st.st_mode & 07777;
        m.uid = below->st.st_uid;
        m.gid = below->st.st_gid;
        m.mtime = below->st.st_mtim;
        UniqueFd src = dest_.parent().open_file(*below);
        tree.write_file(dir, leaf, src.get(), m, src.get());
    }

    uint64_t copy_data(store::TarInput& in, int fd, const std::string& what) {
        uint64_t total = 0;
        in.read_data([&](const void* buf, size_t size, int64_t offset) {
            const char* p = static_cast<const char*>(buf);
            for (size_t done = 0; done < size;) {
                ssize_t w = ::pwrite(fd, p + done, size - done, offset + static_cast<off_t>(done));
                if (w < 0) {
                    if (errno == EINTR) continue;
                    throw system_error("write", what);
                }
                done += static_cast<size_t>(w);
            }
            total = std::max<uint64_t>(total, static_cast<uint64_t>(offset) + size);
        });
        // A sparse tail leaves the file short: give it its full size.
        if (::ftruncate(fd, static_cast<off_t>(total)) != 0) throw system_error("truncate", what);
        return total;
    }

    DestState& dest_;
    std::string root_;
    const ExtractOptions& o_;
    struct timespec now_ {};
};

}  // namespace

// Both read through the store's reader of compressed tars: gzip through
// GzipDecoder (ISA-L, or zlib when STRATA_GZIP=zlib); zstd, bzip2 and xz —
// with gzip the four that Docker's DecompressStream knows — through libarchive.

bool is_tar_archive(int fd) {
    store::ScopedUtf8Locale utf8;
    if (::lseek(fd, 0, SEEK_SET) != 0) return false;
    bool ok = false;
    try {
        store::TarInput in(fd, "archive", nullptr, nullptr, store::TarFilters::kDocker);
        in.skip_digest();
        ok = in.next() != nullptr;
    } catch (const Error& e) {
        // Not a (compressed) tar: copied as a plain file. Anything else —
        // a read error, a bad STRATA_GZIP — is an error.
        if (e.kind() != ErrorKind::kCorrupt) throw;
    }
    if (::lseek(fd, 0, SEEK_SET) != 0) throw system_error("seek", "archive");
    return ok;
}

uint64_t extract_tar(int fd, DestState& dest, const std::string& dest_dir,
                     const ExtractOptions& options) {
    store::ScopedUtf8Locale utf8;
    if (::lseek(fd, 0, SEEK_SET) != 0) throw system_error("seek", options.what);
    store::TarInput in(fd, options.what, nullptr, nullptr, store::TarFilters::kDocker);
    in.skip_digest();
    Extractor ex(dest, dest_dir, options);
    return ex.run(in);
}

}  // namespace strata::executor
