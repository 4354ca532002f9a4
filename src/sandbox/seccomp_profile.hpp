// Seccomp profiles in Docker's JSON format, compiled with libseccomp to a
// classic BPF program for this machine's architecture.
//
// The rules that pick which entries of a profile apply are moby's
// (profiles/seccomp): `includes.caps` needs every listed capability,
// `excludes.caps` drops the entry if any listed one is held, `minKernel` is
// "<kernel>.<major>" compared with uname's release, `arches` name Go's
// architectures ("amd64", "arm64", ...). How an entry becomes a rule is runc's
// (libcontainer/seccomp): a syscall libseccomp does not know is skipped, an
// entry whose action equals the default action is skipped, SCMP_ACT_ERRNO
// without errnoRet returns EPERM, SCMP_CMP_MASKED_EQ takes `value` as the
// mask and `valueTwo` as the value the masked argument must equal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::sandbox {

// Compiles the profile `json_text` for the native architecture plus the
// sub-architectures the profile's archMap lists for it (x86_64: x86, x32).
// `caps` are the container's capabilities ("CAP_SYS_ADMIN"; any case, with or
// without "CAP_"). Returns the filter as raw bytes — an array of
// `struct sock_filter` — or an empty string when the profile has neither a
// defaultAction nor syscalls (moby's "seccomp disabled"). Throws Error
// (kParse) naming `origin` and the offending field for a malformed profile.
std::string compile_seccomp_profile(std::string_view json_text,
                                    const std::vector<std::string>& caps, std::string_view origin);

// The same as compiled on a kernel of release `kernel_release` ("6.1"):
// the build-time compile of the default profile (seccomp_embed_main.cpp).
std::string compile_seccomp_profile_for_kernel(std::string_view json_text,
                                               const std::vector<std::string>& caps,
                                               std::string_view origin,
                                               std::string_view kernel_release);
// The newest "minKernel" the profile's includes/excludes name ("4.8"), ""
// when none: on any kernel at least that new, a compile gives the same.
std::string newest_min_kernel(std::string_view json_text, std::string_view origin);
// Whether the running kernel is at least `release` ("<kernel>.<major>").
bool running_kernel_at_least(std::string_view release);
// Sorted, deduplicated, spelled "CAP_SYS_ADMIN" where the name is known.
std::vector<std::string> canonical_capabilities(const std::vector<std::string>& caps);

// Docker's default profile (src/sandbox/docker-seccomp-default.json, embedded
// at build time) compiled for `caps`. For Docker's default capabilities the
// program was compiled when strata was built (seccomp_default.cpp): the
// compile costs ~11 ms of CPU, a fifth of a small cold build. Other sets are
// compiled once per process; safe to call from several threads. The
// reference stays valid for the life of the process.
const std::string& default_seccomp_bpf(const std::vector<std::string>& caps);

// The text of Docker's default profile, as embedded.
std::string_view docker_default_seccomp_profile();

// A sealed memfd holding `bpf`, for strata-init to read with
// load_seccomp_filter() (runtime/seccomp_load.hpp). Close-on-exec, so that it
// leaks into no other child: dup2 it onto the descriptor strata-init expects
// in the container's process (dup2 clears the flag on the copy).
UniqueFd seccomp_bpf_memfd(std::string_view bpf);

}  // namespace strata::sandbox
