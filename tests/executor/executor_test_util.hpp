// Helpers for the COPY/ADD engine tests: building small trees from a compact
// spec, snapshotting a layer directory into comparable lines, and making tar
// archives with libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::executor::test_util {

namespace fs = std::filesystem;

inline constexpr time_t kMtime = 1600000000;  // what tree() gives every entry

// A bound Unix socket at `path` (short: sun_path is limited) with permission
// bits `mode`; the socket itself is closed, the file stays.
inline void make_socket(const fs::path& path, mode_t mode) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error("socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path)
        throw std::runtime_error("socket path too long: " + path.string());
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(path.c_str(), mode) != 0)
        throw std::runtime_error("bind/chmod " + path.string());
}

inline void write_text(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string read_text(const fs::path& p) {
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

// Builds a tree under `root` from lines:
//   "f PATH MODE [UID:GID] [=CONTENT]"   regular file (content defaults to PATH)
//   "d PATH MODE [UID:GID]"              directory
//   "l PATH TARGET"                      symlink
//   "h PATH EXISTING"                    hardlink to an earlier file
//   "w PATH"                             overlay whiteout (char 0:0)
//   "o PATH"                             mark directory opaque (trusted.overlay.opaque=y)
// Parent directories are created 0755. Every entry gets mtime kMtime.
inline void tree(const fs::path& root, const std::vector<std::string>& spec) {
    fs::create_directories(root);
    std::vector<fs::path> touched;
    for (const auto& line : spec) {
        std::istringstream in(line);
        std::string kind, path;
        in >> kind >> path;
        fs::path p = root / path;
        fs::create_directories(p.parent_path());
        if (kind == "f" || kind == "d") {
            std::string mode_s, rest;
            in >> mode_s;
            std::getline(in, rest);
            if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
            uid_t uid = 0;
            gid_t gid = 0;
            std::string content = path;
            if (!rest.empty() && rest.front() != '=') {
                size_t sp = rest.find(' ');
                std::string ids = rest.substr(0, sp);
                rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
                uid = static_cast<uid_t>(std::stoul(ids.substr(0, ids.find(':'))));
                gid = static_cast<gid_t>(std::stoul(ids.substr(ids.find(':') + 1)));
            }
            if (!rest.empty() && rest.front() == '=') content = rest.substr(1);
            if (kind == "f") {
                write_text(p, content);
            } else {
                fs::create_directories(p);
            }
            if (::lchown(p.c_str(), uid, gid) != 0) throw std::runtime_error("chown " + line);
            if (::chmod(p.c_str(), static_cast<mode_t>(std::stoul(mode_s, nullptr, 8))) != 0)
                throw std::runtime_error("chmod " + line);
        } else if (kind == "l") {
            std::string target;
            in >> target;
            if (::symlink(target.c_str(), p.c_str()) != 0)
                throw std::runtime_error("symlink " + line);
        } else if (kind == "h") {
            std::string existing;
            in >> existing;
            fs::create_hard_link(root / existing, p);
        } else if (kind == "w") {
            if (::mknod(p.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
                throw std::runtime_error("mknod " + line);
        } else if (kind == "o") {
            fs::create_directories(p);
            if (::setxattr(p.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
                throw std::runtime_error("setxattr " + line);
        } else {
            throw std::runtime_error("bad tree spec: " + line);
        }
        touched.push_back(p);
    }
    // Times last, deepest first, so that creating children does not undo them.
    std::vector<fs::path> all;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        all.push_back(it->path());
    std::sort(all.begin(), all.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() > b.string().size();
    });
    for (const auto& p : all)
        set_mtime(p, kMtime);
}

struct SnapshotOptions {
    bool mtimes = false;  // append " @<mtime>" to every line
};

// One line per entry below `root`, sorted by path:
//   "d /app 0755 0:0", "f /app/a 0644 0:0 =content", "l /app/l -> target 0:0",
//   "c /dev/x 0:0" (char device), "p /fifo 0644 0:0"; hardlinked files get
//   " #<n>" where n numbers the distinct inodes with more than one link.
inline std::vector<std::string> snapshot(const fs::path& root, SnapshotOptions opts = {}) {
    std::vector<std::pair<std::string, std::string>> lines;
    std::map<ino_t, int> link_ids;
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        paths.push_back(it->path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
        std::string rel = (fs::path("/") / p.lexically_relative(root)).string();
        char mode[16];
        snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        std::string ids = std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
        std::string line;
        if (S_ISDIR(st.st_mode)) {
            line = "d " + rel + " " + mode + " " + ids;
        } else if (S_ISREG(st.st_mode)) {
            line = "f " + rel + " " + mode + " " + ids + " =" + read_text(p);
            if (st.st_nlink > 1) {
                auto it = link_ids.find(st.st_ino);
                if (it == link_ids.end())
                    it = link_ids.emplace(st.st_ino, static_cast<int>(link_ids.size()) + 1).first;
                line += " #" + std::to_string(it->second);
            }
        } else if (S_ISLNK(st.st_mode)) {
            line = "l " + rel + " -> " + fs::read_symlink(p).string() + " " + ids;
        } else if (S_ISCHR(st.st_mode)) {
            line = "c " + rel + " " + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev)) + " " + ids;
        } else if (S_ISFIFO(st.st_mode)) {
            line = "p " + rel + " " + mode + " " + ids;
        } else {
            line = "? " + rel;
        }
        if (opts.mtimes) line += " @" + std::to_string(st.st_mtim.tv_sec);
        lines.emplace_back(rel, line);
    }
    std::vector<std::string> out;
    for (auto& [k, v] : lines)
        out.push_back(v);
    return out;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

// join_lines of the lines in sorted order (snapshots are compared sorted).
inline std::string sorted_lines(std::vector<std::string> lines) {
    std::sort(lines.begin(), lines.end());
    return join_lines(lines);
}

// An entry of a test archive.
struct TarEntry {
    std::string name;
    char type = 'f';   // 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' char device
    std::string data;  // file content, or link target
    int mode = 0644;
    int uid = 0, gid = 0;
    time_t mtime = 1500000000;
};

// Writes a tar (compression: "none", "gzip", "bzip2", "xz", "zstd") to `path`.
inline void write_tar(const fs::path& path, const std::vector<TarEntry>& entries,
                      const std::string& compression = "none") {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (compression == "gzip") archive_write_add_filter_gzip(a);
    if (compression == "bzip2") archive_write_add_filter_bzip2(a);
    if (compression == "xz") archive_write_add_filter_xz(a);
    if (compression == "zstd") archive_write_add_filter_zstd(a);
    if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK)
        throw std::runtime_error(std::string("archive open: ") + archive_error_string(a));
    for (const auto& e : entries) {
        struct archive_entry* en = archive_entry_new();
        archive_entry_set_pathname(en, e.name.c_str());
        archive_entry_set_uid(en, e.uid);
        archive_entry_set_gid(en, e.gid);
        archive_entry_set_mtime(en, e.mtime, 0);
        archive_entry_set_perm(en, static_cast<mode_t>(e.mode));
        switch (e.type) {
            case 'f':
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
                break;
            case 'd':
                archive_entry_set_filetype(en, AE_IFDIR);
                break;
            case 'l':
                archive_entry_set_filetype(en, AE_IFLNK);
                archive_entry_set_symlink(en, e.data.c_str());
                break;
            case 'h':
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_hardlink(en, e.data.c_str());
                break;
            case 'c':
                archive_entry_set_filetype(en, AE_IFCHR);
                archive_entry_set_rdev(en, makedev(1, 3));
                break;
        }
        archive_write_header(a, en);
        if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

}  // namespace strata::executor::test_util
