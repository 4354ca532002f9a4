// A process's start time: with its pid, what names one process for good (a
// pid is reused once its process is gone; the pair is not).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace strata::sandbox {

// Field 22 of /proc/PID/stat (clock ticks after boot); nullopt when there is
// no such process.
std::optional<uint64_t> process_start_time(pid_t pid);

// The same field from the text of a stat file (the command name in field 2
// may hold spaces and parentheses: fields are counted after its last ')').
std::optional<uint64_t> parse_start_time(std::string_view stat);

}  // namespace strata::sandbox
