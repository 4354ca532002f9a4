// A container's output log in Docker's json-file format: one JSON object per
// line, `{"log":"text\n","stream":"stdout","time":"2026-12-05T09:00:00.1Z"}`.
// A line the process has not ended yet is held until its newline comes, it
// reaches 16 KiB (Docker's split size) or the writer is flushed; such a piece
// is written without a trailing "\n" in "log", as Docker writes it.
//
// The writer appends (O_APPEND, one write(2) per entry, so a reader never
// sees half an entry); readers take what is complete and stop at a partial
// last line, which a follower reads again when it has grown.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::containers {

class LogWriter {
  public:
    explicit LogWriter(const std::filesystem::path& file);
    LogWriter(LogWriter&&) noexcept = default;
    ~LogWriter();

    // Bytes the process wrote on stdout or stderr, as they come.
    void write(std::string_view bytes, bool is_stderr);
    // Writes out the unfinished lines (at the container's end).
    void flush();

  private:
    void emit(std::string_view text, bool is_stderr);
    UniqueFd fd_;
    std::string pending_[2];  // stdout, stderr
};

struct LogEntry {
    std::string log;  // the bytes, with their "\n" when the line ended
    bool is_stderr = false;
    std::string time;  // RFC 3339 nano, UTC
};

// Reads the complete entries from byte `offset` on; returns the offset after
// the last complete line. Lines that are not JSON (a torn file) are skipped.
uint64_t read_log(const std::filesystem::path& file, uint64_t offset,
                  const std::function<void(const LogEntry&)>& each);

// The last `n` entries of the log (all when nullopt), and the offset after them.
std::vector<LogEntry> tail_log(const std::filesystem::path& file, std::optional<size_t> n,
                               uint64_t* end_offset = nullptr);

}  // namespace strata::containers
