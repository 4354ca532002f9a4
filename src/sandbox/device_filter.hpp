// The devices a container may use: runc's default allow-list, written as
// cgroup v1 `devices.allow` lines and as a cgroup v2 device program
// (BPF_PROG_TYPE_CGROUP_DEVICE, emitted here instruction by instruction,
// loaded and attached with the raw bpf(2) system call).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::sandbox {

inline constexpr int64_t kAnyDeviceNumber = -1;

// One allow rule, as in the v1 devices controller: "c 1:3 rwm".
struct DeviceRule {
    char type = 'a';                   // 'c' (char), 'b' (block) or 'a' (both)
    int64_t major = kAnyDeviceNumber;  // kAnyDeviceNumber = "*"
    int64_t minor = kAnyDeviceNumber;
    std::string access = "rwm";  // a subset of "rwm": read, write, mknod
};

// runc's default allow-list (libcontainer/specconv AllowedDevices, runc
// 1.2.4 and later): mknod of any node; null, zero, full, random, urandom,
// tty, ptmx, the pty slaves (136:*) and tun (10:200, removed in runc 1.2.0
// and put back in 1.2.4). /dev/console (5:1) has not been in it since runc
// 1.0.0-rc95: a container's console is a pty, which 136:* covers.
const std::vector<DeviceRule>& default_device_rules();

// The rule as the v1 controller's devices.allow takes it: "c 1:3 rwm", "b *:* m".
std::string device_rule_line(const DeviceRule& rule);

// A program that returns 1 (allow) when an access matches one of `allow`
// and 0 (the kernel answers EPERM) otherwise. An access matches a rule when
// type, major and minor match and every requested access (an open for
// reading and writing asks for both) is among the rule's.
std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& allow);

// Loads `device_filter_program(allow)` (bpf BPF_PROG_LOAD). Throws Error
// with the verifier's log when the kernel refuses it.
UniqueFd load_device_filter(const std::vector<DeviceRule>& allow);

// Attaches a loaded device program to the cgroup open at `cgroup_dir_fd`
// (bpf BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI so that
// programs attached above keep running too). The cgroup keeps the program
// for as long as it exists. `cgroup_path` names it in errors.
void attach_device_filter(int cgroup_dir_fd, int program_fd, std::string_view cgroup_path);

}  // namespace strata::sandbox
