// Docker's words for a container's state: State.Status and the STATUS column
// of `docker ps` (docker/cli's container formatter over go-units'
// HumanDuration).
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/human_duration.hpp"
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

std::string_view mount_type_name(MountSpec::Type t) {
    switch (t) {
        case MountSpec::Type::kBind:
            return "bind";
        case MountSpec::Type::kVolume:
            return "volume";
        case MountSpec::Type::kTmpfs:
            return "tmpfs";
    }
    return "bind";
}

std::optional<Status> parse_status(std::string_view word) {
    if (word == "created") return Status::kCreated;
    if (word == "running") return Status::kRunning;
    if (word == "exited") return Status::kExited;
    return std::nullopt;
}

std::string human_duration(std::chrono::system_clock::duration d) {
    return strata::human_duration(std::chrono::duration_cast<std::chrono::seconds>(d).count());
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
