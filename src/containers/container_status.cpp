// Docker's words for a container's state: State.Status and the STATUS column
// of `docker ps` (docker/cli's container formatter over go-units'
// HumanDuration).
#include <fmt/format.h>

#include "base/error.hpp"
#include "containers/container_record.hpp"
#include "store/image_config_time.hpp"

namespace strata::containers {
namespace {

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& text) {
    if (text.empty()) return std::nullopt;
    auto t = store::parse_timestamp(text);
    if (!t) return std::nullopt;
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(t->seconds) + std::chrono::nanoseconds(t->nanos)));
}

}  // namespace

std::string_view status_name(Status s) {
    switch (s) {
        case Status::kCreated:
            return "created";
        case Status::kRunning:
            return "running";
        case Status::kExited:
            return "exited";
    }
    return "created";
}

std::optional<Status> parse_status(std::string_view word) {
    if (word == "created") return Status::kCreated;
    if (word == "running") return Status::kRunning;
    if (word == "exited") return Status::kExited;
    return std::nullopt;
}

std::string human_duration(std::chrono::system_clock::duration d) {
    using namespace std::chrono;
    const double secs = duration<double>(d).count();
    const auto seconds = static_cast<int64_t>(secs);
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < 60) return fmt::format("{} seconds", seconds);
    const auto minutes = static_cast<int64_t>(secs / 60);
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return fmt::format("{} minutes", minutes);
    const auto hours = static_cast<int64_t>(secs / 3600 + 0.5);  // rounded, as go-units
    if (hours == 1) return "About an hour";
    if (hours < 48) return fmt::format("{} hours", hours);
    if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
    if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
    if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
    return fmt::format("{} years", static_cast<int64_t>(secs / 3600) / 24 / 365);
}

std::string status_text(const ContainerState& s, std::chrono::system_clock::time_point now) {
    switch (s.status) {
        case Status::kCreated:
            return "Created";
        case Status::kRunning: {
            auto started = parse_time(s.started_at);
            return "Up " + human_duration(started ? now - *started : std::chrono::seconds(0));
        }
        case Status::kExited: {
            if (!s.exit_code) return "Exited (unknown)";
            auto finished = parse_time(s.finished_at);
            if (!finished) return fmt::format("Exited ({})", *s.exit_code);
            return fmt::format("Exited ({}) {} ago", *s.exit_code, human_duration(now - *finished));
        }
    }
    return "Created";
}

void check_removable(const Container& c) {
    if (c.state.status == Status::kRunning)
        throw Error(ErrorKind::kConflict,
                    fmt::format("You cannot remove a running container {}. Stop the container "
                                "before attempting removal or force remove",
                                c.id));
}

}  // namespace strata::containers
