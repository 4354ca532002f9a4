// Real containers for the sandbox's tests: a busybox root filesystem (one
// layer directory with /bin/busybox, a link for each of its applets,
// /etc/passwd and /etc/group, and no /etc/hosts, so that the sandbox has
// mount points to make) and a Sandbox on this build's strata-init. Skips
// when not root or without /bin/busybox.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/sandbox.hpp"

namespace strata::sandbox::testing {

namespace fs = std::filesystem;

struct TestPipe {
    UniqueFd read, write;
    TestPipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

// What `fd` gives until `needle` has come (or EOF, an error such as the EIO
// of a terminal's master after its last slave closed, or `timeout`).
inline std::string read_until(int fd, const std::string& needle,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (needle.empty() || got.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    return got;
}

// Everything until EOF (or EIO, or `timeout`).
inline std::string read_all(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return read_until(fd, "", timeout);
}

inline std::string run_host(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

class ContainerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "/bin/busybox is not installed";
        dir_.emplace(TempDir::create(fs::temp_directory_path(), "strata-sandbox-test-"));
        layer_ = dir_->path() / "layers" / "busybox";
        for (const char* d : {"bin", "etc", "root", "tmp", "home"})
            fs::create_directories(layer_ / d);
        fs::permissions(layer_ / "tmp", fs::perms::all | fs::perms::sticky_bit);
        fs::copy_file("/bin/busybox", layer_ / "bin/busybox");
        std::istringstream applets(run_host("/bin/busybox --list"));
        for (std::string a; std::getline(applets, a);)
            if (!a.empty() && a != "busybox") fs::create_symlink("busybox", layer_ / "bin" / a);
        write(layer_ / "etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/home:/bin/false\n");
        write(layer_ / "etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
        fs::create_directories(dir_->path() / "scratch");
    }

    static void write(const fs::path& p, const std::string& content) {
        std::ofstream(p) << content;
    }

    // A container of `argv` on the busybox layer with an upper directory of
    // its own (`upper_name`), no network.
    Spec spec(std::vector<std::string> argv, const std::string& upper_name = "upper") {
        Spec s;
        s.root.lower = {layer_};
        s.root.upper = dir_->path() / upper_name;
        s.root.work = dir_->path() / (upper_name + "-work");
        fs::create_directories(s.root.upper);
        fs::create_directories(s.root.work);
        s.scratch_parent = dir_->path() / "scratch";
        s.process.argv = std::move(argv);
        s.process.env = {"PATH=/bin"};
        s.process.hostname = "sandboxtest";
        s.isolation.network = Network::kNone;
        s.description = "test container";
        return s;
    }

    static std::vector<std::string> sh(const std::string& script) { return {"sh", "-c", script}; }

    const fs::path& layer() const { return layer_; }

    // STRATA_TEST_INIT: another strata-init for these tests (e.g. one built
    // with sanitizers, to run the containers' init under them).
    static std::string init_binary() {
        const char* other = std::getenv("STRATA_TEST_INIT");
        return other && *other ? other : STRATA_INIT;
    }
    Sandbox sandbox_{init_binary()};
    std::optional<TempDir> dir_;
    fs::path layer_;
};

}  // namespace strata::sandbox::testing
