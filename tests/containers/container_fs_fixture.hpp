// Hand-made overlay layers for the container filesystem tests (diff, commit,
// export, cp): lower layer directories and an upper directory written in
// overlay's format (whiteouts as character devices 0:0, opaque directories
// by xattr), with the times and modes a test needs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/temp_dir.hpp"

namespace strata::containers::fstest {

namespace fs = std::filesystem;

inline void put(const fs::path& p, std::string_view content, mode_t mode = 0644) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    ::chmod(p.c_str(), mode);
}

inline std::string get(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void mkdirs(const fs::path& p, mode_t mode = 0755) {
    fs::create_directories(p);
    ::chmod(p.c_str(), mode);
}

// An overlay whiteout: a character device 0:0 (needs root).
inline void whiteout(const fs::path& p) {
    fs::create_directories(p.parent_path());
    ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << p;
}

inline void make_opaque(const fs::path& dir) {
    ASSERT_EQ(::setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << dir;
}

// Gives `to` the mode, owner and mtime of `from` (a directory "copied up").
inline void same_metadata(const fs::path& from, const fs::path& to) {
    struct stat st {};
    ASSERT_EQ(::lstat(from.c_str(), &st), 0);
    ::chmod(to.c_str(), st.st_mode & 07777);
    ::lchown(to.c_str(), st.st_uid, st.st_gid);
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

inline void set_mtime(const fs::path& p, time_t sec) {
    const struct timespec times[2] = {{sec, 0}, {sec, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// Output of a shell command.
inline std::string sh(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.append(buf, n);
    ::pclose(f);
    return out;
}

inline bool is_root() {
    return ::geteuid() == 0;
}

}  // namespace strata::containers::fstest
