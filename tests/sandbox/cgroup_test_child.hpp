// Helpers for the cgroup and device-filter tests: a forked child that is
// killed and reaped when the test ends, a pipe to hear from it, and a probe
// of which device nodes a process may create and open.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstring>
#include <iostream>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "sandbox/cgroup.hpp"

namespace strata::sandbox::testing {

// A pipe from the child to the test.
class Pipe {
  public:
    Pipe() {
        if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    void close_read() {
        if (fds_[0] >= 0) ::close(fds_[0]);
        fds_[0] = -1;
    }
    void close_write() {
        if (fds_[1] >= 0) ::close(fds_[1]);
        fds_[1] = -1;
    }
    // In the child: only write(2).
    void send(const void* data, size_t size) const {
        if (::write(fds_[1], data, size) != static_cast<ssize_t>(size)) ::_exit(120);
    }
    // In the test, after the child was started and close_write() called.
    bool receive(void* data, size_t size) const {
        auto* p = static_cast<char*>(data);
        size_t got = 0;
        while (got < size) {
            const ssize_t n = ::read(fds_[0], p + got, size - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            got += static_cast<size_t>(n);
        }
        return true;
    }
    std::string receive_all() const {
        std::string out;
        char buf[512];
        ssize_t n;
        while ((n = ::read(fds_[0], buf, sizeof(buf))) > 0)
            out.append(buf, static_cast<size_t>(n));
        return out;
    }

  private:
    int fds_[2];
};

// A forked child running `body`; its exit status is body's return value.
// The destructor kills and reaps a child that the test did not wait for.
class Child {
  public:
    explicit Child(const std::function<int()>& body) {
        pid_ = ::fork();
        if (pid_ == 0) ::_exit(body());
    }
    ~Child() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return pid_; }
    // The exit status; `usage` gets the child's resource use.
    int wait(rusage* usage = nullptr) {
        if (!reaped_) {
            while (::wait4(pid_, &status_, 0, usage) < 0 && errno == EINTR) {
            }
            reaped_ = true;
        }
        return status_;
    }

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
};

// In a child: join the cgroup the way the sandbox's child does.
inline void join(const Cgroup& cgroup) {
    for (int fd : cgroup.join_fds())
        if (::write(fd, "0", 1) != 1) ::_exit(121);
}

// The device number of the disk that holds "/" (254:0 for /dev/vda), or of
// the first disk /proc/partitions lists when "/" is not on a block device.
inline dev_t root_disk() {
    struct stat st {};
    if (::stat("/", &st) == 0 && major(st.st_dev) != 0) return st.st_dev;
    std::ifstream partitions("/proc/partitions");
    std::string line;
    while (std::getline(partitions, line)) {
        unsigned maj = 0, min = 0;
        unsigned long long blocks = 0;
        char name[64];
        if (std::sscanf(line.c_str(), " %u %u %llu %63s", &maj, &min, &blocks, name) == 4)
            return makedev(maj, min);
    }
    return makedev(0, 0);
}

// What happened to one device node: errno of mknod and of open (0 = worked).
struct NodeResult {
    int mknod_errno = -1;
    int open_errno = -1;
};

struct DeviceProbe {
    NodeResult disk;  // block node of the root disk, opened for reading
    NodeResult loop;  // b 7:0, a block device that root may open where the host allows the disk not
    NodeResult null;  // c 1:3, opened for reading and writing
    NodeResult kmsg;  // c 1:11, not on the allow-list
};

// Makes the nodes in `dir` (with names carrying `tag`) and opens them. Only
// system calls: safe in a child of a (single-threaded) test.
inline DeviceProbe probe_devices(const std::string& dir, const char* tag) {
    DeviceProbe r;
    auto node = [&](const std::string& name, mode_t type, dev_t dev, int flags) {
        NodeResult n;
        const std::string path = dir + "/" + tag + "-" + name;
        n.mknod_errno = ::mknod(path.c_str(), type | 0600, dev) == 0 ? 0 : errno;
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
        n.open_errno = fd >= 0 ? 0 : errno;
        if (fd >= 0) ::close(fd);
        return n;
    };
    r.disk = node("disk", S_IFBLK, root_disk(), O_RDONLY);
    r.loop = node("loop", S_IFBLK, makedev(7, 0), O_RDONLY);
    r.null = node("null", S_IFCHR, makedev(1, 3), O_RDWR);
    r.kmsg = node("kmsg", S_IFCHR, makedev(1, 11), O_RDONLY);
    return r;
}

// Runs probe_devices in a child that first joins `cgroup` (or no cgroup).
inline DeviceProbe probe_in_child(const Cgroup* cgroup, const std::string& dir, const char* tag) {
    Pipe pipe;
    Child child([&] {
        pipe.close_read();
        if (cgroup) join(*cgroup);
        const DeviceProbe r = probe_devices(dir, tag);
        pipe.send(&r, sizeof(r));
        return 0;
    });
    pipe.close_write();
    DeviceProbe r;
    if (!pipe.receive(&r, sizeof(r))) r = DeviceProbe{};
    child.wait();
    return r;
}

inline bool running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    if (text.empty()) return false;
    const size_t paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z' &&
           text[paren + 2] != 'X';
}

inline std::vector<pid_t> procs_of(const std::string& dir) {
    std::vector<pid_t> pids;
    std::ifstream in(dir + "/cgroup.procs");
    pid_t pid;
    while (in >> pid)
        pids.push_back(pid);
    return pids;
}

// runc's default allow-list at work in `cg`: any node may be made, only
// the allowed ones (here /dev/null) opened. Outside the cgroup first, to
// show what the host itself allows (some hosts, like this test VM, refuse
// even root the root disk; /dev/kmsg and loop0 then show that the refusals
// inside come from the cgroup).
inline void expect_default_device_rules(const Cgroup& cg, const std::string& dir) {
    const auto outside = testing::probe_in_child(nullptr, dir, "outside");
    std::cout << "outside the cgroup: open of the root disk node: "
              << std::strerror(outside.disk.open_errno)
              << ", loop0: " << std::strerror(outside.loop.open_errno) << "\n";
    EXPECT_EQ(outside.disk.mknod_errno, 0);
    EXPECT_EQ(outside.kmsg.open_errno, 0);

    const auto inside = testing::probe_in_child(&cg, dir, "inside");
    EXPECT_EQ(inside.disk.mknod_errno, 0) << "mknod is allowed for every node (b *:* m)";
    EXPECT_EQ(inside.disk.open_errno, EPERM);
    EXPECT_EQ(inside.loop.mknod_errno, 0);
    if (outside.loop.open_errno == 0) {
        EXPECT_EQ(inside.loop.open_errno, EPERM);
    }
    EXPECT_EQ(inside.null.mknod_errno, 0);
    EXPECT_EQ(inside.null.open_errno, 0);
    EXPECT_EQ(inside.kmsg.mknod_errno, 0);
    EXPECT_EQ(inside.kmsg.open_errno, EPERM);
}

}  // namespace strata::sandbox::testing
