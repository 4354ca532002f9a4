// Helpers for the layer tests: build trees and tars, and describe them so two
// can be compared.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "store/digest.hpp"
#include "store/tar_locale.hpp"

namespace strata::store::testing {

namespace fs = std::filesystem;

inline TempDir scratch(std::string_view prefix = "strata-test-") {
    return TempDir::create(fs::temp_directory_path(), prefix);
}

inline void write_file(const fs::path& p, std::string_view content, mode_t mode = 0644) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (::chmod(p.c_str(), mode) != 0) throw std::runtime_error("chmod " + p.string());
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void set_mtime(const fs::path& p, time_t t) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    if (::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        throw std::runtime_error("utimensat " + p.string());
}

inline void set_xattr(const fs::path& p, const std::string& name, std::string_view value) {
    if (::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0) != 0)
        throw std::runtime_error("setxattr " + name + " " + p.string() + ": " +
                                 std::strerror(errno));
}

// The entries of a store's layers/ directory but its boot stamp (.boot):
// the layers, their copies, and anything left behind.
inline std::vector<std::string> layer_entries(const fs::path& store_root) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(store_root / "layers"))
        if (e.path().filename() != ".boot") out.push_back(e.path().filename().string());
    return out;
}

// Runs `body` in `n` processes forked at once (as several strata processes
// sharing a store) and expects each to succeed: body() true; false or an
// exception fails that child.
inline void expect_all_children_succeed(int n, const std::function<bool()>& body) {
    std::vector<pid_t> kids;
    for (int i = 0; i < n; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            int rc = 2;
            try {
                rc = body() ? 0 : 1;
            } catch (...) {
            }
            ::_exit(rc);
        }
        ASSERT_GT(pid, 0);
        kids.push_back(pid);
    }
    for (const pid_t pid : kids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
}

inline bool is_root() {
    return ::geteuid() == 0;
}

// A v2 file capability granting cap_net_bind_service (bit 10), effective.
inline std::string net_bind_capability() {
    uint32_t words[5] = {0x02000001u, 1u << 10, 0, 0, 0};
    return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

// One line per entry below `root`: type, mode, owner, size, content hash,
// link target, device, xattrs (layer ones and overlay ones), hardlink group.
// With `with_mtime`, mtimes of non-directories too.
inline std::map<std::string, std::string> describe_tree(const fs::path& root,
                                                        bool with_mtime = true) {
    std::map<std::string, std::string> out;
    std::map<std::pair<dev_t, ino_t>, std::string> links;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        auto rel = fs::relative(it->path(), root).string();
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) throw std::runtime_error("lstat " + rel);
        std::ostringstream d;
        d << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
        if (S_ISREG(st.st_mode)) {
            d << " size=" << st.st_size << " sha=" << sha256_of(read_file(it->path())).short_id();
            if (st.st_nlink > 1) {
                auto [l, inserted] = links.try_emplace({st.st_dev, st.st_ino}, rel);
                d << " link-group=" << l->second;
            }
        }
        if (S_ISLNK(st.st_mode)) d << " -> " << fs::read_symlink(it->path()).string();
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            d << " dev=" << major(st.st_rdev) << "," << minor(st.st_rdev);
        if (with_mtime && !S_ISDIR(st.st_mode)) d << " mtime=" << st.st_mtim.tv_sec;
        char names[4096];
        ssize_t n = ::llistxattr(it->path().c_str(), names, sizeof names);
        std::vector<std::string> xs;
        for (ssize_t i = 0; i < n;) {
            std::string name(names + i);
            i += static_cast<ssize_t>(name.size()) + 1;
            if (name.starts_with("security.selinux")) continue;
            char value[4096];
            ssize_t v = ::lgetxattr(it->path().c_str(), name.c_str(), value, sizeof value);
            xs.push_back(name + "=" + sha256_of(std::string_view(value, v < 0 ? 0 : v)).short_id());
        }
        std::sort(xs.begin(), xs.end());
        for (auto& x : xs)
            d << " " << x;
        out[rel] = d.str();
    }
    return out;
}

// Entries of a tar (any compression) as libarchive reads them.
struct TarEntry {
    std::string name;
    mode_t mode = 0;  // with type bits
    int64_t uid = 0, gid = 0, size = 0, mtime = 0;
    bool has_atime = false, has_ctime = false;
    std::string uname, gname, symlink, hardlink, content;
    std::map<std::string, std::string> xattrs;
};

inline std::vector<TarEntry> read_tar(const std::string& bytes) {
    ScopedUtf8Locale utf8;
    std::vector<TarEntry> out;
    struct archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK)
        throw std::runtime_error(archive_error_string(a));
    struct archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        TarEntry t;
        t.name = archive_entry_pathname(e);
        t.mode = archive_entry_mode(e);
        t.uid = archive_entry_uid(e);
        t.gid = archive_entry_gid(e);
        t.size = archive_entry_size(e);
        t.mtime = archive_entry_mtime(e);
        t.has_atime = archive_entry_atime_is_set(e);
        t.has_ctime = archive_entry_ctime_is_set(e);
        if (auto s = archive_entry_uname(e)) t.uname = s;
        if (auto s = archive_entry_gname(e)) t.gname = s;
        if (auto s = archive_entry_symlink(e)) t.symlink = s;
        if (auto s = archive_entry_hardlink(e)) t.hardlink = s;
        if (archive_entry_xattr_reset(e) > 0) {
            const char* k;
            const void* v;
            size_t n;
            while (archive_entry_xattr_next(e, &k, &v, &n) == ARCHIVE_OK)
                t.xattrs[k] = std::string(static_cast<const char*>(v), n);
        }
        char buf[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
            t.content.append(buf, static_cast<size_t>(n));
        out.push_back(std::move(t));
    }
    std::string err = r == ARCHIVE_EOF ? "" : archive_error_string(a);
    archive_read_free(a);
    if (!err.empty()) throw std::runtime_error("read_tar: " + err);
    return out;
}

// Builds (possibly hostile) tars in memory with libarchive, as written: names
// are not sanitised.
class TarBuilder {
  public:
    TarBuilder() {
        a_ = archive_write_new();
        archive_write_set_format_pax_restricted(a_);
        archive_write_set_bytes_in_last_block(a_, 1);
        archive_write_open2(a_, this, nullptr, &TarBuilder::on_write, nullptr, nullptr);
    }
    ~TarBuilder() { archive_write_free(a_); }

    TarBuilder& file(const std::string& name, std::string_view content, mode_t mode = 0644) {
        return add(name, AE_IFREG | mode, content);
    }
    TarBuilder& dir(const std::string& name, mode_t mode = 0755) {
        return add(name, AE_IFDIR | mode, "");
    }
    TarBuilder& symlink(const std::string& name, const std::string& target) {
        return add(name, AE_IFLNK | 0777, "", target);
    }
    TarBuilder& hardlink(const std::string& name, const std::string& target) {
        return add(name, AE_IFREG | 0644, "", "", target);
    }
    std::string finish() {
        archive_write_close(a_);
        return bytes_;
    }

  private:
    TarBuilder& add(const std::string& name, mode_t mode, std::string_view content,
                    const std::string& symlink = "", const std::string& hardlink = "") {
        struct archive_entry* e = archive_entry_new();
        archive_entry_copy_pathname(e, name.c_str());
        archive_entry_set_mode(e, mode);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (!symlink.empty()) archive_entry_copy_symlink(e, symlink.c_str());
        if (!hardlink.empty()) archive_entry_copy_hardlink(e, hardlink.c_str());
        archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
        if (archive_write_header(a_, e) != ARCHIVE_OK)
            throw std::runtime_error(std::string("TarBuilder: ") + archive_error_string(a_));
        if (!content.empty()) archive_write_data(a_, content.data(), content.size());
        archive_entry_free(e);
        return *this;
    }
    static la_ssize_t on_write(struct archive*, void* ctx, const void* buf, size_t n) {
        static_cast<TarBuilder*>(ctx)->bytes_.append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
    ScopedUtf8Locale utf8_;  // first: alive while libarchive converts names
    struct archive* a_;
    std::string bytes_;
};

// A pipe-free way to hand bytes to an fd-taking API: a temp file, rewound.
inline UniqueFd fd_with(const std::string& bytes) {
    char tmpl[] = "/tmp/strata-bytes-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::unlink(tmpl);
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("write");
    ::lseek(fd, 0, SEEK_SET);
    return UniqueFd(fd);
}

}  // namespace strata::store::testing
