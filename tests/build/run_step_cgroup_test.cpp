// Each RUN step of a build is a container with a cgroup of its own, made
// for the step and removed after it: the device allow-list, the pids limit
// and the killing of leftovers hold for every step, not only the first;
// and a killed build leaves no cgroup once the next strata has started.
// (The step's container joins its cgroup through the v1 `tasks` files,
// which move one thread without the global lock: see Cgroup::join_fds.)
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sandbox/cgroup_place.hpp"
#include "sandbox_security_fixture.hpp"

namespace strata::buildtest {
namespace {

using Clock = std::chrono::steady_clock;

class RunStepCgroupTest : public SandboxSecurityTest {};

// Three steps each make /dev/kmsg's node and try to read it: the
// allow-list refuses it in every one, while /dev/null's numbers open.
TEST_F(RunStepCgroupTest, TheDeviceAllowListHoldsInEveryStep) {
    std::string text = "FROM busybox:latest\n";
    for (int i = 1; i <= 3; ++i)
        text += fmt::format(
            "RUN mknod /kmsg{0} c 1 11 && mknod /null{0} c 1 3 && "
            "(cat /kmsg{0} > /dev/null 2>/kmsg{0}.err; echo rc=$? >> /kmsg{0}.err) && "
            "(echo x > /null{0} 2>/null{0}.err; echo rc=$? >> /null{0}.err)\n",
            i);
    const Tree t = rootfs(build(text));
    for (int i = 1; i <= 3; ++i) {
        const std::string kmsg = t.at(fmt::format("/kmsg{}.err", i)).data;
        EXPECT_TRUE(contains(kmsg, "Operation not permitted")) << "step " << i << ": " << kmsg;
        EXPECT_FALSE(contains(kmsg, "rc=0")) << "step " << i << ": " << kmsg;
        const std::string null = t.at(fmt::format("/null{}.err", i)).data;
        EXPECT_TRUE(contains(null, "rc=0")) << "step " << i << ": " << null;
    }
    expect_nothing_left("three steps");
}

// A step that leaves background processes behind: they are gone before the
// next step starts (its PID namespace ends with its init, its cgroup is
// emptied and removed).
TEST_F(RunStepCgroupTest, AStepsBackgroundProcessesAreGoneBeforeTheNextStep) {
    dockerfile(
        "FROM busybox:latest\n"
        "RUN for i in 1 2 3; do sleep 43 & done; echo started\n"
        "RUN sleep 2\n");
    const executor::BuildRequest req = request();
    std::optional<std::string> err;
    std::jthread builder([&] { err = failure(req); });  // joined on any exit
    // While the second step runs, nothing of the first one does.
    int second_seen = 0, leftovers = 0;
    for (const auto end = Clock::now() + std::chrono::seconds(30);
         second_seen < 5 && Clock::now() < end;) {
        if (processes_running("sleep 2") > 0) {
            ++second_seen;
            leftovers += processes_running("sleep 43");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    builder.join();
    EXPECT_FALSE(err) << *err;
    EXPECT_GT(second_seen, 0) << "the second step was never seen running";
    EXPECT_EQ(leftovers, 0) << "the first step's sleepers ran on into the second step";
    EXPECT_EQ(wait_until_gone("sleep 43"), 0);
    expect_nothing_left("background processes");
}

// The pids limit is per step: two steps that each start 60 sleepers and
// end pass under --pids-limit 100 (the first one's are gone when the second
// starts); a third that starts 300 fails on the limit.
TEST_F(RunStepCgroupTest, ThePidsLimitCountsEachStepAlone) {
    executor::RunnerOptions o;
    o.limits.pids = 100;
    use_runner(o);
    const std::string sixty = "for i in $(seq 60); do sleep 38 & done; echo started";
    const std::string two = "FROM busybox:latest\nRUN " + sixty + " 1\nRUN " + sixty + " 2\n";
    EXPECT_FALSE(failure(two)) << "two steps of 60 processes each under --pids-limit 100";
    const auto err =
        failure(two + "RUN for i in $(seq 300); do sleep 38 & done; echo all started\n");
    ASSERT_TRUE(err) << "a step started 300 processes under --pids-limit 100";
    EXPECT_TRUE(contains(*err, "pids limit was reached")) << *err;
    EXPECT_EQ(wait_until_gone("sleep 38"), 0);
    expect_nothing_left("pids limit per step");
}

// strata killed (SIGKILL) in the middle of a step: its step's cgroup may
// stay behind, and the next strata removes it before its first RUN step.
TEST_F(RunStepCgroupTest, AKilledBuildsCgroupIsRemovedByTheNextStrata) {
    dockerfile("FROM busybox:latest\nRUN sleep 59\n");
    std::atomic<bool> saw_cgroup{false};
    const CliRun killed =
        run_strata({"--root", root().string(), "build", "-q", ctx().string()}, [&](pid_t pid) {
            const std::string prefix = fmt::format("strata-{}-", pid);
            for (const auto end = Clock::now() + std::chrono::seconds(40); Clock::now() < end;) {
                if (!cgroups_named(prefix).empty() && processes_running("sleep 59") > 0) {
                    saw_cgroup = true;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            ::kill(pid, SIGKILL);
        });
    ASSERT_TRUE(saw_cgroup) << "the step's cgroup was never seen: " << killed.output;
    EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
    EXPECT_EQ(wait_until_gone("sleep 59"), 0) << "the killed build's step still runs";

    dockerfile("FROM busybox:latest\nRUN echo next > /next\n");
    const CliRun next = run_strata({"--root", root().string(), "build", "-q", ctx().string()});
    EXPECT_EQ(next.exit_code, 0) << next.output;
    EXPECT_EQ(cgroups_named(fmt::format("strata-{}-", killed.pid)), std::vector<std::string>{})
        << "the killed build's cgroups are still there";
    EXPECT_EQ(cgroups_named(fmt::format("strata-{}-", next.pid)), std::vector<std::string>{});
}

// The same sweep when the build's first step to run is a COPY: the RUN
// after it is warmed up meanwhile, and the sweep runs beside the warm-up
// (ContainerRunner::warm_up), not in the first container's start.
TEST_F(RunStepCgroupTest, AStaleCgroupIsRemovedByABuildThatStartsWithACopy) {
    std::string why;
    const auto place = sandbox::own_cgroup_place(why);
    ASSERT_TRUE(place) << why;
    std::string parent = place->v2;
    if (place->version == sandbox::CgroupVersion::kV1) {
        ASSERT_TRUE(place->v1.count("pids"));
        parent = place->v1.at("pids");
    }
    const pid_t gone = ::fork();
    ASSERT_GE(gone, 0);
    if (gone == 0) ::_exit(0);
    ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
    const std::string stale = fmt::format("{}/strata-{}-12345-c1", parent, gone);
    ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << stale;

    dockerfile("FROM busybox:latest\nCOPY Dockerfile /d\nRUN echo next > /next\n");
    const CliRun next = run_strata({"--root", root().string(), "build", "-q", ctx().string()});
    EXPECT_EQ(next.exit_code, 0) << next.output;
    EXPECT_FALSE(fs::exists(stale)) << "the stale cgroup is still there";
    ::rmdir(stale.c_str());
}

}  // namespace
}  // namespace strata::buildtest
