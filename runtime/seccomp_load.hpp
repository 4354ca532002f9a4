// Installs a seccomp filter that strata compiled (src/sandbox/seccomp_profile.hpp)
// and handed over as a memfd of raw `struct sock_filter` entries.
//
// Header-only and free of the rest of strata: strata-init is a small static
// program of its own.
//
// When to call it. Loading a filter needs either no_new_privs or
// CAP_SYS_ADMIN. runc does it in two ways (libcontainer/standard_init_linux.go):
// with NoNewPrivileges it sets PR_SET_NO_NEW_PRIVS and loads the filter as
// late as possible, right before execve, so that few of its own syscalls
// must pass the filter; without NoNewPrivileges it loads the filter *before*
// finalizeNamespace drops capabilities and switches to the container's user,
// while it still has CAP_SYS_ADMIN — so no_new_privs stays off and setuid
// binaries (sudo, su, ping) keep working in the container. This loader does
// not touch no_new_privs; the caller picks the moment. Every syscall the
// caller makes after it (setgroups, setresuid, capset, execve, ...) must be
// allowed by the profile; Docker's default allows them.
#pragma once

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

// Reads the BPF program from `fd` (a memfd: from offset 0, whatever the
// fd's position; a pipe works too) and installs it on the calling thread
// with seccomp(SECCOMP_SET_MODE_FILTER, 0, ...). No TSYNC: strata-init is
// single threaded. On failure returns false with a message in `error`; `fd`
// is left open either way. Global, like the rest of strata-init.
inline bool load_seccomp_filter(int fd, std::string& error) {
    std::string bytes;
    char chunk[4096];
    bool seekable = true;
    for (;;) {
        const ssize_t n = seekable
                              ? pread(fd, chunk, sizeof chunk, static_cast<off_t>(bytes.size()))
                              : read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == ESPIPE && seekable) {
            seekable = false;
            continue;
        }
        if (n < 0) {
            error = std::string("seccomp: reading the filter from fd ") + std::to_string(fd) +
                    ": " + strerror(errno);
            return false;
        }
        if (n == 0) break;
        bytes.append(chunk, static_cast<size_t>(n));
    }
    if (bytes.size() % sizeof(sock_filter) != 0) {
        error = "seccomp: the filter in fd " + std::to_string(fd) + " (" +
                std::to_string(bytes.size()) + " bytes) is not a whole number of BPF instructions";
        return false;
    }
    std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
    if (program.empty() || program.size() > BPF_MAXINSNS) {
        error = "seccomp: the filter in fd " + std::to_string(fd) + " has " +
                std::to_string(program.size()) + " instructions (the kernel takes 1 to " +
                std::to_string(BPF_MAXINSNS) + ")";
        return false;
    }
    memcpy(program.data(), bytes.data(), bytes.size());
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.size());
    prog.filter = program.data();
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        const int err = errno;
        error = std::string("seccomp(SECCOMP_SET_MODE_FILTER): ") + strerror(err);
        if (err == EACCES)
            error +=
                " (loading a filter needs CAP_SYS_ADMIN or PR_SET_NO_NEW_PRIVS: load it "
                "before dropping capabilities, or set no_new_privs first)";
        else if (err == EINVAL)
            error += " (the kernel rejected the program: was it compiled for this machine?)";
        return false;
    }
    return true;
}
