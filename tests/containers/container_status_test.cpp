#include <gtest/gtest.h>

#include <chrono>

#include "containers/container_record.hpp"

namespace strata::containers {
namespace {

using namespace std::chrono;

// 2026-01-01T00:00:00Z
const system_clock::time_point kEpoch = system_clock::time_point(seconds(1767225600));

TEST(StatusText, Table) {
    struct Row {
        Status status;
        std::optional<int> code;
        const char* started;
        const char* finished;
        system_clock::duration since;  // now - the relevant time (started or finished)
        const char* want;
    };
    const char* t0 = "2026-01-01T00:00:00Z";
    const Row rows[] = {
        {Status::kCreated, std::nullopt, "", "", seconds(0), "Created"},
        {Status::kRunning, std::nullopt, t0, "", milliseconds(300), "Up Less than a second"},
        {Status::kRunning, std::nullopt, t0, "", seconds(1), "Up 1 second"},
        {Status::kRunning, std::nullopt, t0, "", seconds(5), "Up 5 seconds"},
        {Status::kRunning, std::nullopt, t0, "", seconds(59), "Up 59 seconds"},
        {Status::kRunning, std::nullopt, t0, "", seconds(90), "Up About a minute"},
        {Status::kRunning, std::nullopt, t0, "", minutes(3), "Up 3 minutes"},
        {Status::kRunning, std::nullopt, t0, "", minutes(59), "Up 59 minutes"},
        {Status::kRunning, std::nullopt, t0, "", minutes(60), "Up About an hour"},
        {Status::kRunning, std::nullopt, t0, "", minutes(90), "Up 2 hours"},
        {Status::kRunning, std::nullopt, t0, "", hours(47), "Up 47 hours"},
        {Status::kRunning, std::nullopt, t0, "", hours(48), "Up 2 days"},
        {Status::kRunning, std::nullopt, t0, "", hours(24 * 14), "Up 2 weeks"},
        {Status::kRunning, std::nullopt, t0, "", hours(24 * 60), "Up 2 months"},
        {Status::kRunning, std::nullopt, t0, "", hours(24 * 365 * 3), "Up 3 years"},
        {Status::kExited, 0, t0, t0, seconds(3), "Exited (0) 3 seconds ago"},
        {Status::kExited, 137, t0, t0, minutes(3), "Exited (137) 3 minutes ago"},
        {Status::kExited, std::nullopt, t0, "", minutes(3), "Exited (unknown)"},
        {Status::kExited, std::nullopt, t0, t0, minutes(3), "Exited (unknown)"},
    };
    for (const auto& r : rows) {
        ContainerState s;
        s.status = r.status;
        s.exit_code = r.code;
        s.started_at = r.started;
        s.finished_at = r.finished;
        EXPECT_EQ(status_text(s, kEpoch + r.since), r.want) << r.want;
    }
}

TEST(StatusText, FractionalTimestamps) {
    ContainerState s;
    s.status = Status::kRunning;
    s.started_at = "2026-01-01T00:00:00.75Z";
    EXPECT_EQ(status_text(s, kEpoch + milliseconds(1700)), "Up Less than a second");
    EXPECT_EQ(status_text(s, kEpoch + milliseconds(1750)), "Up 1 second");
}

TEST(StatusName, RoundTrips) {
    for (Status s : {Status::kCreated, Status::kRunning, Status::kExited})
        EXPECT_EQ(parse_status(status_name(s)), s);
    EXPECT_FALSE(parse_status("paused"));
}

}  // namespace
}  // namespace strata::containers
