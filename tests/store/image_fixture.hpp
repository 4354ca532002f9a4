// Helpers for the image store, archive and CLI tests: a busybox rootfs
// tarball (as bench/setup-peers.sh builds one), a tar builder for crafted
// archives, running the strata binary, and snapshots of a store directory.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/sigpipe_block.hpp"
#include "base/temp_dir.hpp"
#include "store/digest.hpp"

namespace strata::imagetest {

namespace fs = std::filesystem;

inline TempDir scratch(std::string_view prefix = "strata-image-test-") {
    return TempDir::create(fs::temp_directory_path(), prefix);
}

inline void write_file(const fs::path& p, std::string_view content) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("write " + p.string());
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("read " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline int shell(const std::string& cmd) {
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline bool have_tool(const std::string& name) {
    return shell("command -v " + name + " >/dev/null 2>&1") == 0;
}

// A busybox root filesystem under dir/rootfs and its tarball dir/rootfs.tar:
// /bin/busybox with a symlink per applet, /etc/passwd, /etc/group, /tmp,
// /root. `extra` is appended to /etc/motd so that two calls can differ.
inline fs::path make_busybox_rootfs(const fs::path& dir, const std::string& extra = "") {
    fs::path root = dir / "rootfs";
    fs::path tar = dir / "rootfs.tar";
    fs::create_directories(root);
    std::string cmd = "set -e; r='" + root.string() +
                      "'; mkdir -p \"$r/bin\" \"$r/etc\" \"$r/tmp\" \"$r/root\";" +
                      " cp /bin/busybox \"$r/bin/busybox\";" +
                      " (cd \"$r/bin\" && for c in $(./busybox --list); do [ -e \"$c\" ] || ln -s "
                      "busybox \"$c\"; done);" +
                      " printf 'root:x:0:0:root:/root:/bin/sh\\n' >\"$r/etc/passwd\";" +
                      " printf 'root:x:0:\\n' >\"$r/etc/group\";" + " printf '%s\\n' '" + extra +
                      "' >\"$r/etc/motd\";" +
                      " (cd \"$r\" && tar --numeric-owner --sort=name -cf '" + tar.string() +
                      "' .)";
    if (shell(cmd) != 0) throw std::runtime_error("building the busybox rootfs failed");
    return tar;
}

// Builds tar archives entry by entry (libarchive, PAX), for crafted inputs.
class TarBuilder {
  public:
    explicit TarBuilder(bool gzip = false) : a_(archive_write_new()) {
        archive_write_set_format_pax_restricted(a_);
        if (gzip) archive_write_add_filter_gzip(a_);
        archive_write_set_bytes_in_last_block(a_, 1);
        archive_write_open(a_, this, nullptr, &TarBuilder::on_write, nullptr);
    }
    ~TarBuilder() {
        if (a_) archive_write_free(a_);
    }
    TarBuilder& file(const std::string& name, std::string_view data, mode_t mode = 0644) {
        auto* e = entry(name, AE_IFREG, mode);
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        archive_write_header(a_, e);
        archive_write_data(a_, data.data(), data.size());
        archive_entry_free(e);
        return *this;
    }
    TarBuilder& dir(const std::string& name) { return simple(name, AE_IFDIR, 0755); }
    TarBuilder& symlink(const std::string& name, const std::string& target) {
        auto* e = entry(name, AE_IFLNK, 0777);
        archive_entry_set_symlink(e, target.c_str());
        archive_write_header(a_, e);
        archive_entry_free(e);
        return *this;
    }
    TarBuilder& hardlink(const std::string& name, const std::string& target) {
        auto* e = entry(name, AE_IFREG, 0644);
        archive_entry_set_hardlink(e, target.c_str());
        archive_entry_set_size(e, 0);
        archive_write_header(a_, e);
        archive_entry_free(e);
        return *this;
    }
    TarBuilder& chardev(const std::string& name) { return simple(name, AE_IFCHR, 0644); }
    std::string finish() {
        archive_write_close(a_);
        archive_write_free(a_);
        a_ = nullptr;
        return out_;
    }

  private:
    struct archive_entry* entry(const std::string& name, unsigned type, mode_t mode) {
        auto* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, mode);
        archive_entry_set_mtime(e, 0, 0);
        return e;
    }
    TarBuilder& simple(const std::string& name, unsigned type, mode_t mode) {
        auto* e = entry(name, type, mode);
        archive_write_header(a_, e);
        archive_entry_free(e);
        return *this;
    }
    static la_ssize_t on_write(struct archive*, void* ctx, const void* buf, size_t n) {
        static_cast<TarBuilder*>(ctx)->out_.append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
    struct archive* a_;
    std::string out_;
};

inline std::string sha256_hex(std::string_view data) {
    return store::sha256_of(data).hex;
}

// The entries of a tar (any compression): name → content (regular files) or
// "-> target" (links) or "<dir>".
inline std::map<std::string, std::string> tar_entries(const std::string& bytes) {
    std::map<std::string, std::string> out;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK)
        throw std::runtime_error("not a tar");
    struct archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) == AE_IFDIR) {
            out[name] = "<dir>";
        } else if (archive_entry_filetype(e) == AE_IFLNK) {
            out[name] = std::string("-> ") + archive_entry_symlink(e);
        } else {
            std::string data;
            char buf[65536];
            la_ssize_t n;
            while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
                data.append(buf, size_t(n));
            out[name] = data;
        }
    }
    archive_read_free(a);
    return out;
}

struct RunResult {
    int code = -1;
    std::string out;
    std::string err;
};

// Runs argv (argv[0] a path) with optional stdin bytes (or a file), extra
// environment, and captures stdout and stderr.
inline RunResult run(const std::vector<std::string>& argv, const std::string& input = {},
                     const std::map<std::string, std::string>& env = {},
                     const std::string& stdin_file = {}) {
    int in[2], out[2], err[2];
    if (pipe(in) || pipe(out) || pipe(err)) throw std::runtime_error("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        if (!stdin_file.empty()) {
            int fd = ::open(stdin_file.c_str(), O_RDONLY);
            dup2(fd, 0);
        } else {
            dup2(in[0], 0);
        }
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
            close(fd);
        for (const auto& [k, v] : env)
            setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    RunResult r;
    size_t written = 0;
    if (input.empty() || !stdin_file.empty()) {
        close(in[1]);
        in[1] = -1;
    }
    struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        poll(fds, in[1] >= 0 ? 3 : 2, -1);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[65536];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, size_t(n));
            }
        }
        if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            // The child may exit without reading all of its input (a usage
            // error): EPIPE, never a SIGPIPE that kills the test.
            ssize_t n = -1;
            if (fds[2].revents & POLLOUT) {
                SigpipeBlock sigpipe;
                n = write(in[1], input.data() + written,
                          std::min<size_t>(65536, input.size() - written));
                if (n < 0 && errno == EPIPE) sigpipe.saw_epipe();
            }
            if (n > 0) written += size_t(n);
            if (n <= 0 || written == input.size()) {
                close(in[1]);
                in[1] = -1;
                fds[2].fd = -1;
            }
        }
    }
    if (in[1] >= 0) close(in[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// Runs the strata binary against a store root.
inline RunResult strata(const fs::path& root, std::vector<std::string> args,
                        const std::string& input = {},
                        const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {STRATA_BINARY, "--root", root.string()});
    return run(args, input, env);
}

// What a store directory holds: relative path → type and content hash, lock
// files and the (transient) tmp/ directory's children left out.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> out;
    if (!fs::exists(root)) return out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        std::string rel = fs::relative(it->path(), root).string();
        if (rel == "lock" || rel == "gc.lock" || rel.rfind("tmp/", 0) == 0) continue;
        if (it->is_directory() && !it->is_symlink()) {
            out[rel] = "dir";
        } else if (it->is_regular_file()) {
            out[rel] = sha256_hex(read_file(it->path()));
        } else {
            out[rel] = "other";
        }
    }
    return out;
}

inline bool tmp_is_empty(const fs::path& root) {
    return !fs::exists(root / "tmp") || fs::is_empty(root / "tmp");
}

}  // namespace strata::imagetest
