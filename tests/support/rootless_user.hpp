// Running the strata binary as an unprivileged user, for the rootless tests
// (tests/build/rootless_test.cpp, tests/cli/container_rootless_cli_test.cpp).
//
// The root test process makes the user `strata-rootless` (with subordinate
// ids 200000:65536 in /etc/subuid and /etc/subgid unless useradd gave it
// some), copies strata and strata-init to a world-readable temp directory
// (the checkout may sit under a home only root can enter), writes a busybox
// root filesystem tar there (scripts/busybox-rootfs.sh), and gives the user
// a home of its own (0700) with XDG_DATA_HOME under it: the store. strata
// runs through runuser with a clean environment. One rootless test runs at a
// time on the machine (a lock file): they share the user and count its
// processes. The fixture skips, saying why, when root, useradd, runuser,
// newuidmap/newgidmap or /bin/busybox are missing.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "cli/rootless.hpp"
#include "support/proc_processes.hpp"

namespace strata::rootlesstest {

namespace fs = std::filesystem;

inline constexpr const char* kUser = "strata-rootless";  // with subordinate ids

struct Out {
    int status = -1;   // exit status, or 128 + signal
    std::string text;  // stdout and stderr
};

// `cmd` through /bin/sh, its stdout and stderr together.
inline Out shell(const std::string& cmd) {
    Out out;
    std::FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        out.text.append(buf, n);
    const int st = ::pclose(p);
    out.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return out;
}

// `s` as one word for /bin/sh.
inline std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The line of a `tar -tv` listing that names `path` ("" when none).
inline std::string listing_entry(const std::string& listing, const std::string& path) {
    std::istringstream in(listing);
    for (std::string line; std::getline(in, line);) {
        const size_t at = line.rfind(' ');
        if (at != std::string::npos && line.substr(at + 1) == path) return line;
    }
    return {};
}

inline bool executable(const char* path) {
    return ::access(path, X_OK) == 0;
}

// Processes (pid → command line) whose real uid is in [lo, hi); zombies
// left out (they hold nothing and wait for their parent).
inline std::map<int, std::string> processes_of(uid_t lo, uid_t hi) {
    std::map<int, std::string> out;
    for (const auto& dir : test_support::process_dirs()) {
        const std::string name = dir.filename().string();
        std::ifstream status(dir / "status");
        uid_t uid = 0;
        bool found = false;
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("Uid:", 0) == 0) {
                uid = static_cast<uid_t>(std::stoul(line.substr(4)));
                found = true;
                break;
            }
            if (line.rfind("State:", 0) == 0 && line.find("zombie") != std::string::npos) break;
        }
        if (!found || uid < lo || uid >= hi) continue;
        std::string cmd = test_support::process_cmdline(dir);
        for (char& c : cmd)
            if (c == '\0') c = ' ';
        out[std::stoi(name)] = cmd;
    }
    return out;
}

class RootlessFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to create the unprivileged test user";
        if (!executable("/usr/sbin/useradd")) GTEST_SKIP() << "useradd is missing (passwd)";
        if (!executable("/usr/bin/newuidmap") || !executable("/usr/bin/newgidmap"))
            GTEST_SKIP() << "newuidmap/newgidmap are missing (apt-get install uidmap)";
        if (!executable("/usr/sbin/runuser")) GTEST_SKIP() << "runuser is missing (util-linux)";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "needs busybox-static (/bin/busybox)";
        // One rootless test at a time on this machine (they share the user,
        // and count its processes), also across build directories.
        lock_.reset(::open("/tmp/strata-rootless-test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        ASSERT_TRUE(lock_) << "open the lock file";
        ASSERT_EQ(::flock(lock_.get(), LOCK_EX), 0);

        // The user, with a subordinate range (useradd may have given one).
        if (!::getpwnam(kUser)) {
            const Out o = shell(std::string("useradd -M -s /usr/sbin/nologin ") + kUser);
            ASSERT_EQ(o.status, 0) << o.text;
        }
        for (const char* file : {"/etc/subuid", "/etc/subgid"}) {
            const Out o = shell(std::string("grep -q '^") + kUser + ":' " + file + " || echo '" +
                                kUser + ":200000:65536' >> " + file);
            ASSERT_EQ(o.status, 0) << o.text;
        }
        const passwd* pw = ::getpwnam(kUser);
        ASSERT_NE(pw, nullptr);
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
        std::ifstream subuid("/etc/subuid");
        std::string text((std::istreambuf_iterator<char>(subuid)),
                         std::istreambuf_iterator<char>());
        const auto ranges = cli::subordinate_ranges(text, kUser, uid_);
        ASSERT_FALSE(ranges.empty());
        sub_start_ = static_cast<uid_t>(ranges[0].start);
        sub_count_ = static_cast<uid_t>(ranges[0].count);

        // Everything the user needs, world-readable.
        dir_.emplace(TempDir::create("/tmp", "strata-rootless-"));
        ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
        fs::create_directories(bin());
        // Hard links where they can be (strata with its debug information
        // is hundreds of megabytes); copies across file systems.
        for (const char* b : {STRATA_BINARY, STRATA_INIT}) {
            std::error_code ec;
            fs::create_hard_link(b, bin() / fs::path(b).filename(), ec);
            if (ec) fs::copy_file(b, bin() / fs::path(b).filename());
        }
        const Out bb = shell(std::string(STRATA_SOURCE_DIR) + "/scripts/busybox-rootfs.sh " +
                             quoted(image_tar().string()));
        ASSERT_EQ(bb.status, 0) << bb.text;
        ASSERT_EQ(shell("chmod -R a+rX " + quoted(dir_->path().string())).status, 0);
        fs::create_directories(home());
        ASSERT_EQ(::chown(home().c_str(), uid_, gid_), 0);
        ASSERT_EQ(::chmod(home().c_str(), 0700), 0);
    }

    void TearDown() override {
        if (dir_) {
            // Nothing of the user's may outlive a test (a failed one included).
            for (const auto& [pid, cmd] : leftover_processes())
                ::kill(pid, SIGKILL);
        }
    }

    fs::path bin() const { return dir_->path() / "bin"; }
    fs::path home() const { return dir_->path() / "home"; }
    fs::path xdg() const { return home() / "xdg"; }
    fs::path image_tar() const { return dir_->path() / "busybox.tar"; }
    fs::path store_dir() const { return xdg() / "strata"; }

    // The strata command line, run as `user` with a clean environment.
    std::string command(const std::string& args, const char* user = kUser,
                        bool with_xdg = true) const {
        std::string env = "env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=" + quoted(home());
        if (with_xdg) env += " XDG_DATA_HOME=" + quoted(xdg().string());
        return std::string("cd / && runuser -u ") + user + " -- " + env + " " +
               quoted((bin() / "strata").string()) + " " + args;
    }
    Out strata(const std::string& args, const char* user = kUser, bool with_xdg = true) const {
        return shell(command(args, user, with_xdg));
    }

    // The user's processes and those of its subordinate ids (a container's
    // user other than root), pid → command line.
    std::map<int, std::string> leftover_processes() const {
        auto left = processes_of(uid_, uid_ + 1);
        auto sub = processes_of(sub_start_, sub_start_ + sub_count_);
        left.insert(sub.begin(), sub.end());
        return left;
    }

    UniqueFd lock_;
    std::optional<TempDir> dir_;
    uid_t uid_ = 0, sub_start_ = 0, sub_count_ = 0;
    gid_t gid_ = 0;
};

}  // namespace strata::rootlesstest
