// Isolation::privileged as Docker's --privileged, against the default (real
// containers on a busybox root): every capability, no seccomp, /sys
// writable, nothing masked, the host's device nodes.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "container_fixture.hpp"

namespace strata::sandbox::testing {
namespace {

// "CapEff:\t..." of this process: every capability strata has, which is what
// a privileged container gets (all the kernel knows, where strata has them).
std::string own_cap_eff() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("CapEff:", 0) == 0) return line;
    return "";
}

std::vector<std::string> output(Sandbox& sandbox, const Spec& s, Result* result = nullptr) {
    std::vector<std::string> lines;
    const Result r = sandbox.run(s, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.setup_error, "");
    if (result) *result = r;
    return lines;
}

// A character or block device of the host's /dev (not one every container
// has), for the test that it shows in a privileged container.
std::string host_device() {
    for (const char* name : {"loop-control", "vda", "sda", "nvme0n1", "kmsg", "mem", "vcs"}) {
        struct stat st {};
        const std::string p = std::string("/dev/") + name;
        if (::lstat(p.c_str(), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
            return name;
    }
    return "";
}

const char* const kProbe =
    "grep -E '^(CapEff|Seccomp):' /proc/self/status; "
    "grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; "
    "[ -c /proc/interrupts ] && echo interrupts-masked || echo interrupts-real; "
    "(echo 64 > /proc/sys/net/ipv4/ip_default_ttl) 2>/dev/null && echo procsys-rw || "
    "echo procsys-ro; "
    "(echo 777 > /sys/class/net/lo/tx_queue_len) 2>/dev/null && echo sys-written || "
    "echo sys-refused";

TEST_F(ContainerTest, PrivilegedHasEveryCapabilityNoSeccompAndWritableSys) {
    Spec s = spec(sh(kProbe));
    s.isolation.privileged = true;
    const auto lines = output(sandbox_, s);
    ASSERT_EQ(lines.size(), 6u);
    EXPECT_EQ(lines[0], own_cap_eff());
    EXPECT_EQ(lines[1], "Seccomp:\t0");
    EXPECT_EQ(lines[2], "rw");
    EXPECT_EQ(lines[3], "interrupts-real");
    // Both the container's own (network none: its own network namespace).
    EXPECT_EQ(lines[4], "procsys-rw");
    EXPECT_EQ(lines[5], "sys-written");
}

TEST_F(ContainerTest, DefaultIsNotPrivileged) {
    const auto lines = output(sandbox_, spec(sh(kProbe)));
    ASSERT_EQ(lines.size(), 6u);
    EXPECT_EQ(lines[0], "CapEff:\t00000000a80425fb");
    EXPECT_EQ(lines[1], "Seccomp:\t2");
    EXPECT_EQ(lines[2], "ro");
    EXPECT_EQ(lines[3], "interrupts-masked");  // /dev/null on it
    EXPECT_EQ(lines[4], "procsys-ro");
    EXPECT_EQ(lines[5], "sys-refused");
}

TEST_F(ContainerTest, PrivilegedSeesTheHostsDevices) {
    const std::string dev = host_device();
    if (dev.empty()) GTEST_SKIP() << "no device in /dev to look for";
    struct stat host {};
    ASSERT_EQ(::stat(("/dev/" + dev).c_str(), &host), 0);
    const std::string probe =
        "stat -c '%t %T %a' /dev/" + dev + " 2>&1; ls /dev/pts; ls -l /dev/ptmx";
    Spec s = spec(sh(probe));
    s.isolation.privileged = true;
    const auto lines = output(sandbox_, s);
    ASSERT_GE(lines.size(), 2u);
    char want[64];
    std::snprintf(want, sizeof want, "%x %x %o", major(host.st_rdev), minor(host.st_rdev),
                  host.st_mode & 07777);
    EXPECT_EQ(lines[0], want);
    // The terminals stay the container's own.
    EXPECT_EQ(lines[1], "ptmx");
    EXPECT_NE(lines.back().find("-> pts/ptmx"), std::string::npos) << lines.back();

    // Not privileged: no such node, and the device allow-list would refuse it.
    const auto plain =
        output(sandbox_, spec(sh("[ -e /dev/" + dev + " ] && echo there || echo absent")));
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(plain[0], "absent");
}

TEST_F(ContainerTest, PrivilegedCanReadAHostBlockDevice) {
    // The devices cgroup allows every device (with the default allow-list a
    // node made with mknod cannot be opened).
    // One this process can read itself (a sandboxed host may refuse them all).
    std::string block;
    for (const auto& e : fs::directory_iterator("/dev")) {
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) continue;
        UniqueFd fd(::open(e.path().c_str(), O_RDONLY | O_CLOEXEC));
        char buf[512];
        if (fd && ::read(fd.get(), buf, sizeof buf) == ssize_t(sizeof buf)) {
            block = e.path().filename().string();
            break;
        }
    }
    if (block.empty()) GTEST_SKIP() << "no block device in /dev that this process may read";
    Spec s = spec(sh("dd if=/dev/" + block + " of=/dev/null bs=512 count=1 2>&1 | tail -1"));
    s.isolation.privileged = true;
    Result r;
    const auto lines = output(sandbox_, s, &r);
    EXPECT_EQ(r.exit_code, 0);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("512 bytes"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace strata::sandbox::testing
