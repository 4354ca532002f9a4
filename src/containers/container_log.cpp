#include "containers/container_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "store/image_config_time.hpp"

namespace strata::containers {

namespace {

constexpr size_t kMaxLine = 16 * 1024;  // Docker's json-file splits longer lines here

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // a full disk loses log lines, never the container
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

LogWriter::LogWriter(const std::filesystem::path& file)
    : fd_(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) {
    if (!fd_) throw system_error("open the container log", file.string());
}

LogWriter::~LogWriter() {
    if (fd_) flush();
}

void LogWriter::emit(std::string_view text, bool is_stderr) {
    nlohmann::json j;
    // Invalid UTF-8 from a process is replaced, not an exception.
    j["log"] = std::string(text);
    j["stream"] = is_stderr ? "stderr" : "stdout";
    j["time"] = store::format_timestamp(store::now_timestamp());
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    write_all(fd_.get(), line);
}

void LogWriter::write(std::string_view bytes, bool is_stderr) {
    std::string& pending = pending_[is_stderr ? 1 : 0];
    while (!bytes.empty()) {
        const size_t nl = bytes.find('\n');
        const size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
        pending.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        size_t off = 0;
        while (pending.size() - off > kMaxLine) {
            emit(std::string_view(pending).substr(off, kMaxLine), is_stderr);
            off += kMaxLine;
        }
        pending.erase(0, off);
        if (nl != std::string_view::npos || pending.size() == kMaxLine) {
            emit(pending, is_stderr);
            pending.clear();
        }
    }
}

void LogWriter::flush() {
    for (int s = 0; s < 2; ++s) {
        if (pending_[s].empty()) continue;
        emit(pending_[s], s == 1);
        pending_[s].clear();
    }
}

uint64_t read_log(const std::filesystem::path& file, uint64_t offset,
                  const std::function<void(const LogEntry&)>& each) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return offset;  // nothing written yet
        throw system_error("open the container log", file.string());
    }
    std::string buf;
    char chunk[64 * 1024];
    uint64_t pos = offset;
    for (;;) {
        const ssize_t n = ::pread(fd.get(), chunk, sizeof chunk, static_cast<off_t>(pos));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read the container log", file.string());
        }
        if (n == 0) break;
        buf.append(chunk, static_cast<size_t>(n));
        pos += static_cast<uint64_t>(n);
        size_t start = 0;
        for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
            const auto j = nlohmann::json::parse(buf.begin() + static_cast<std::ptrdiff_t>(start),
                                                 buf.begin() + static_cast<std::ptrdiff_t>(nl),
                                                 nullptr, false);
            offset += nl + 1 - start;
            if (!j.is_object() || !j.contains("log") || !j["log"].is_string()) continue;
            LogEntry e;
            e.log = j["log"].get<std::string>();
            e.is_stderr = j.value("stream", "") == "stderr";
            e.time = j.value("time", "");
            each(e);
        }
        buf.erase(0, start);
    }
    return offset;
}

std::vector<LogEntry> tail_log(const std::filesystem::path& file, std::optional<size_t> n,
                               uint64_t* end_offset) {
    std::deque<LogEntry> kept;
    const uint64_t end = read_log(file, 0, [&](const LogEntry& e) {
        if (n && *n == 0) return;
        kept.push_back(e);
        if (n && kept.size() > *n) kept.pop_front();
    });
    if (end_offset) *end_offset = end;
    return {kept.begin(), kept.end()};
}

}  // namespace strata::containers
