#include "base/signal_names.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace strata {
namespace {

TEST(SignalNames, DockerSpellings) {
    struct Row {
        const char* text;
        std::optional<int> want;
    };
    const Row rows[] = {
        {"KILL", SIGKILL},
        {"SIGKILL", SIGKILL},
        {"kill", SIGKILL},
        {"sigterm", SIGTERM},
        {"9", 9},
        {"64", 64},
        {"USR1", SIGUSR1},
        {"QUIT", SIGQUIT},
        {"CLD", SIGCHLD},
        {"RTMIN", 34},
        {"RTMIN+3", 37},
        {"RTMAX-1", 63},
        {"RTMAX", 64},
        {"0", std::nullopt},
        {"65", std::nullopt},
        {"", std::nullopt},
        {"NOPE", std::nullopt},
        {"RTMIN+16", std::nullopt},
        {"RTMIN+03", std::nullopt},
        {"-9", std::nullopt},
        {"SIG", std::nullopt},
    };
    for (const Row& r : rows)
        EXPECT_EQ(signal_number(r.text), r.want) << r.text;
}

}  // namespace
}  // namespace strata
