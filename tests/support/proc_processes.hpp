// The processes on the machine, as /proc lists them — read so that processes
// exiting meanwhile (their directories vanish under the listing) never make
// a test throw: a test that polls /proc while a build runs on another thread
// must not unwind past that thread.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace strata::test_support {

// /proc/<pid> of every process listed at the time.
inline std::vector<std::filesystem::path> process_dirs() {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc", ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
            out.push_back(it->path());
    }
    return out;
}

// A file of /proc/<pid>: what could be read, "" when the process has gone.
// Not through std::ifstream: a read that fails because the process exits
// meanwhile (ESRCH) makes libstdc++'s filebuf throw.
inline std::string read_proc_file(const std::filesystem::path& path) {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

// The raw command line of the process at `dir` (NUL-separated), "" when it
// has gone.
inline std::string process_cmdline(const std::filesystem::path& dir) {
    return read_proc_file(dir / "cmdline");
}

}  // namespace strata::test_support
