// Small helpers shared by the libFuzzer targets that read files.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::fuzz {

// The input as a file descriptor (a memfd, positioned at 0).
inline UniqueFd memfd_of(const uint8_t* data, size_t size) {
    UniqueFd fd(::memfd_create("fuzz-input", MFD_CLOEXEC));
    if (!fd) throw system_error("memfd_create", "fuzz-input");
    write_all(fd.get(), data, size, "fuzz-input");
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw system_error("lseek", "fuzz-input");
    return fd;
}

// A scratch directory for this fuzzer process, removed at exit: on
// $FUZZ_SCRATCH, else /dev/shm (tmpfs keeps the fsyncs cheap), else /tmp.
inline const std::filesystem::path& scratch_root() {
    static TempDir dir = [] {
        const char* env = std::getenv("FUZZ_SCRATCH");
        std::filesystem::path parent = env && *env ? env : "/dev/shm";
        if (!std::filesystem::is_directory(parent)) parent = "/tmp";
        return TempDir::create(parent, "strata-fuzz-");
    }();
    return dir.path();
}

// With FUZZ_VERBOSE set, prints why an input was refused (to check that a
// seed reaches as deep as intended, or to read a reproducer's path).
inline void note_refusal(const Error& e) {
    static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
}

}  // namespace strata::fuzz
