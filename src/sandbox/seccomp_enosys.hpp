// Syscalls newer than a seccomp profile: ENOSYS, as runc answers them, not
// the profile's default errno. Docker's profile denies what it does not list
// with EPERM; a syscall added to the kernel after the profile was written
// (say, a new variant of an old one) then looks forbidden, and a libc that
// tries it first and falls back to the old one on ENOSYS fails instead.
// runc prepends a few instructions to the compiled filter: per
// architecture, a syscall number above the highest the profile names gets
// ENOSYS; every other one goes on to the filter. strata does the same
// (without runc's setup(2) case for s390, which strata does not run on).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::sandbox {

// The highest syscall number a profile names, per architecture of its
// filter. x32 shares x86-64's AUDIT_ARCH and marks its numbers with bit 30.
struct SyscallLimit {
    uint32_t audit_arch = 0;              // AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, ...
    std::optional<uint32_t> highest;      // numbers without bit 30 (all of them off x86-64)
    std::optional<uint32_t> highest_x32;  // x86-64 only: numbers with bit 30 (x32)
};

// The instructions to put before a filter (as raw `struct sock_filter`
// bytes): a syscall of an architecture in `limits` whose number is above
// its limit returns ENOSYS; everything else jumps to the instruction right
// after them, the filter's first. Empty when `limits` is.
std::string enosys_prefix(const std::vector<SyscallLimit>& limits);

}  // namespace strata::sandbox
