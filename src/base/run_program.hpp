// Running a helper program to its end: posix_spawn with three pipes, the
// input written and both outputs read in one poll loop (under a deadline
// when one is given), the child killed and reaped on every way out. For the
// tools strata drives (git, docker-credential-*), never for a RUN step.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

struct ProgramRun {
    std::string program;            // a path, or a name looked up in $PATH
    std::vector<std::string> args;  // argv[1...]
    // The environment, "K=V"; nullopt: this process's.
    std::optional<std::vector<std::string>> env;
    std::filesystem::path cwd;  // empty: this process's
    std::string_view input;     // written to stdin, which is then closed
    std::optional<std::chrono::milliseconds> timeout;
};

struct ProgramResult {
    int status = 0;  // waitpid's
    std::string out, err;
    bool succeeded() const;
    // "exit status 2", "killed by signal 9".
    std::string how() const;
};

// Throws Error(kNotFound) when the program is not there, Error(kSystem) when
// it cannot be started or runs past the timeout (then it is killed).
ProgramResult run_program(const ProgramRun& run);

}  // namespace strata
