// The processes on the machine, as /proc lists them — read so that processes
// exiting meanwhile (their directories vanish under the listing) never make
// a test throw: a test that polls /proc while a build runs on another thread
// must not unwind past that thread.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
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

// The raw command line of the process at `dir` (NUL-separated), "" when it
// has gone.
inline std::string process_cmdline(const std::filesystem::path& dir) {
    std::ifstream in(dir / "cmdline");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace strata::test_support
