// Real cgroups, as root: children join through join_fds(), hit the pids,
// memory, CPU and device limits, and the destructor kills and removes.
#include "sandbox/cgroup.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "cgroup_test_child.hpp"
#include "sandbox/cgroup_files.hpp"

// CgroupLimits are spelled with designated initializers, naming only the
// limits a test sets; the others keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace strata::sandbox {
namespace {

using testing::Child;
using testing::Pipe;

#define REQUIRE_ROOT() \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups"

std::optional<Cgroup> must_create(const std::string& name, const CgroupLimits& limits) {
    std::string why;
    auto cg = Cgroup::create(name, limits, why);
    EXPECT_TRUE(cg.has_value()) << why;
    return cg;
}

std::string read(const std::string& path) {
    return cgroup_files::read_value(path).value_or("<unreadable>");
}

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
    return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

TEST(Cgroup, ChildThatJoinsIsInEveryHierarchyAndIsKilledWithIt) {
    REQUIRE_ROOT();
    auto cg = must_create("join", {.memory_bytes = 64 << 20, .cpus = 1.0, .pids = 50});
    ASSERT_TRUE(cg);
    for (const char* c : {"pids", "memory", "cpu", "devices"})
        EXPECT_FALSE(cg->dir_of(c).empty()) << c;
    const std::vector<std::string> dirs = cg->dirs();
    for (const auto& d : dirs) {
        EXPECT_EQ(std::filesystem::path(d).filename().string(), own_cgroup_prefix() + "join");
        EXPECT_TRUE(std::filesystem::is_directory(d)) << d;
    }

    Pipe pipe;
    Child child([&] {
        pipe.close_read();
        testing::join(*cg);
        pipe.send("j", 1);
        ::pause();
        return 0;
    });
    pipe.close_write();
    char c;
    ASSERT_TRUE(pipe.receive(&c, 1));
    for (const auto& d : dirs)
        EXPECT_TRUE(contains(testing::procs_of(d), child.pid())) << d;

    cg.reset();  // kills the child and removes the directories
    const int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    for (const auto& d : dirs)
        EXPECT_FALSE(std::filesystem::exists(d)) << d;
}

// v1: the join descriptors are the `tasks` files (a thread moving itself
// skips the global lock that cgroup.procs takes); a single-threaded child
// that joins is wholly inside, and so is everything it starts afterwards.
TEST(Cgroup, JoinMovesTheWholeChildAndWhatItStartsWithoutCgroupProcs) {
    REQUIRE_ROOT();
    auto cg = must_create("tasks", {.pids = 20});
    ASSERT_TRUE(cg);
    ASSERT_EQ(cg->join_fds().size(), cg->dirs().size());
    for (size_t i = 0; i < cg->join_fds().size(); ++i) {
        const std::string target =
            std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(cg->join_fds()[i]))
                .string();
        EXPECT_EQ(target, cg->dirs()[i] +
                              (cg->version() == CgroupVersion::kV1 ? "/tasks" : "/cgroup.procs"));
    }

    Pipe pipe;
    Child child([&] {
        pipe.close_read();
        testing::join(*cg);
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::pause();
            ::_exit(0);
        }
        pipe.send(&grandchild, sizeof grandchild);
        ::pause();
        return 0;
    });
    pipe.close_write();
    pid_t grandchild = -1;
    ASSERT_TRUE(pipe.receive(&grandchild, sizeof grandchild));
    ASSERT_GT(grandchild, 0);
    for (const auto& d : cg->dirs()) {
        const auto procs = testing::procs_of(d);
        EXPECT_TRUE(contains(procs, child.pid())) << d;
        EXPECT_TRUE(contains(procs, grandchild)) << d;
    }
    EXPECT_EQ(read(cg->dir_of("pids") + "/pids.current"), "2\n");
    cg.reset();  // kills both
    const int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    EXPECT_FALSE(testing::running(grandchild));
}

TEST(Cgroup, AddPutsAProcessInFromOutside) {
    REQUIRE_ROOT();
    auto cg = must_create("add", {.pids = 10, .devices = false});
    ASSERT_TRUE(cg);
    Child child([] {
        ::pause();
        return 0;
    });
    cg->add(child.pid());
    for (const auto& d : cg->dirs())
        EXPECT_TRUE(contains(testing::procs_of(d), child.pid())) << d;
    EXPECT_THROW(cg->add(999'999'999), Error);
}

TEST(Cgroup, PidsLimitStopsForksAndTheDestructorKillsEveryProcess) {
    REQUIRE_ROOT();
    auto cg = must_create("pids", {.pids = 100, .devices = false});
    ASSERT_TRUE(cg);
    EXPECT_EQ(read(cg->dir_of("pids") + "/pids.max"), "100\n");
    EXPECT_FALSE(cg->pids_limit_hit());

    Pipe pipe;
    Child child([&] {
        pipe.close_read();
        testing::join(*cg);
        // Bounded: 300 attempts, each child a `sleep 30` that ends by itself.
        int started = 0, refused = 0;
        for (int i = 0; i < 300; ++i) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
                ::_exit(127);
            }
            if (pid > 0)
                ++started;
            else if (errno == EAGAIN)
                ++refused;
        }
        const int counts[2] = {started, refused};
        pipe.send(counts, sizeof(counts));
        ::pause();
        return 0;
    });
    pipe.close_write();
    int counts[2] = {-1, -1};
    ASSERT_TRUE(pipe.receive(counts, sizeof(counts)));
    EXPECT_LE(counts[0], 99);  // the child itself is one of the 100
    EXPECT_GE(counts[0], 90);
    EXPECT_EQ(counts[0] + counts[1], 300);
    EXPECT_TRUE(cg->pids_limit_hit());

    const std::vector<pid_t> inside = testing::procs_of(cg->dir_of("pids"));
    EXPECT_EQ(inside.size(), static_cast<size_t>(counts[0] + 1));
    const std::vector<std::string> dirs = cg->dirs();
    const auto before = std::chrono::steady_clock::now();
    cg.reset();
    const auto took = std::chrono::steady_clock::now() - before;
    std::cout << "killed " << inside.size() << " processes and removed " << dirs.size()
              << " directories in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    child.wait();
    for (pid_t pid : inside)
        EXPECT_FALSE(testing::running(pid)) << pid;
    for (const auto& d : dirs)
        EXPECT_FALSE(std::filesystem::exists(d)) << d;
}

TEST(Cgroup, MemoryLimitKillsAChildThatTouchesMore) {
    REQUIRE_ROOT();
    const int64_t limit = 32 << 20;
    auto cg = must_create("memory", {.memory_bytes = limit, .devices = false});
    ASSERT_TRUE(cg);
    const std::string dir = cg->dir_of("memory");
    if (cg->version() == CgroupVersion::kV1) {
        EXPECT_EQ(read(dir + "/memory.limit_in_bytes"), std::to_string(limit) + "\n");
        if (cgroup_files::exists(dir + "/memory.memsw.limit_in_bytes")) {
            EXPECT_EQ(read(dir + "/memory.memsw.limit_in_bytes"), std::to_string(limit) + "\n");
        }
    } else {
        EXPECT_EQ(read(dir + "/memory.max"), std::to_string(limit) + "\n");
    }
    EXPECT_FALSE(cg->oom_killed());

    Child child([&] {
        testing::join(*cg);
        const size_t size = 200 << 20;
        auto* p = static_cast<volatile char*>(std::malloc(size));
        if (!p) return 2;
        for (size_t i = 0; i < size; i += 4096)
            p[i] = 1;
        return 0;  // not reached when the limit works
    });
    const int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_TRUE(cg->oom_killed());
}

TEST(Cgroup, CpuQuotaIsWrittenAndHoldsABusyChildBack) {
    REQUIRE_ROOT();
    auto cg = must_create("cpu", {.cpus = 0.25, .devices = false});
    ASSERT_TRUE(cg);
    const std::string dir = cg->dir_of("cpu");
    if (cg->version() == CgroupVersion::kV1) {
        EXPECT_EQ(read(dir + "/cpu.cfs_period_us"), "100000\n");
        EXPECT_EQ(read(dir + "/cpu.cfs_quota_us"), "25000\n");
    } else {
        EXPECT_EQ(read(dir + "/cpu.max"), "25000 100000\n");
    }
    // A child that spins for one second of wall time gets about a quarter
    // second of CPU.
    Child child([&] {
        testing::join(*cg);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (std::chrono::steady_clock::now() < end) {
        }
        return 0;
    });
    rusage usage{};
    child.wait(&usage);
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::cout << "CPU time of a 1 s busy loop under --cpus 0.25: " << cpu << " s\n";
    EXPECT_LT(cpu, 0.6);
}

TEST(Cgroup, DeviceAllowListLetsMknodButNotOpenOfTheRootDisk) {
    REQUIRE_ROOT();
    auto cg = must_create("devices", {.devices = true});
    ASSERT_TRUE(cg);
    if (cg->version() == CgroupVersion::kV1) {
        const std::string list = read(cg->dir_of("devices") + "/devices.list");
        EXPECT_NE(list.find("b *:* m"), std::string::npos) << list;
        EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
        EXPECT_NE(list.find("c 10:200 rwm"), std::string::npos) << list;
        EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;
    }
    const TempDir tmp = TempDir::create("/tmp", "strata-cgroup-dev-");

    testing::expect_default_device_rules(*cg, tmp.path());
}

TEST(Cgroup, StaleCgroupsOfGoneProcessesAreKilledAndRemoved) {
    REQUIRE_ROOT();
    std::string why;
    const auto place = own_cgroup_place(why);
    ASSERT_TRUE(place) << why;

    // A pid that no longer runs, and this process's pid with another start time.
    pid_t gone = -1;
    {
        Child quick([] { return 0; });
        quick.wait();
        gone = quick.pid();
    }
    const std::vector<std::string> stale_names = {
        "strata-" + std::to_string(gone) + "-12345-stale",
        "strata-" + std::to_string(::getpid()) + "-1-reused"};
    std::vector<std::string> parents;
    if (place->version == CgroupVersion::kV1) {
        for (const char* c : {"pids", "freezer", "memory"})
            if (place->v1.count(c)) parents.push_back(place->v1.at(c));
    }
    if (!place->v2.empty()) parents.push_back(place->v2);
    std::vector<std::string> stale_dirs;
    for (const auto& parent : parents)
        for (const auto& name : stale_names) {
            stale_dirs.push_back(parent + "/" + name);
            ASSERT_EQ(::mkdir(stale_dirs.back().c_str(), 0755), 0) << stale_dirs.back();
        }
    // A leftover process in the first stale cgroup (v1 hierarchies).
    Child leftover([] {
        ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
        return 127;
    });
    // (one cgroup per hierarchy: each stale_names[0] directory)
    for (size_t i = 0; i < stale_dirs.size(); i += stale_names.size())
        EXPECT_EQ(cgroup_files::write_value(stale_dirs[i] + "/cgroup.procs",
                                            std::to_string(leftover.pid())),
                  0)
            << stale_dirs[i];

    auto live = must_create("live", {.pids = 10, .devices = false});
    ASSERT_TRUE(live);
    remove_stale_cgroups();

    for (const auto& d : stale_dirs)
        EXPECT_FALSE(std::filesystem::exists(d)) << d;
    const int status = leftover.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    for (const auto& d : live->dirs())
        EXPECT_TRUE(std::filesystem::exists(d)) << d;
}

// The sweep is claimed once per process: whoever claims it owes it (the
// build's warm-up hands it to the pool), and remove_stale_cgroups_once()
// on anybody else's path returns at once instead of sweeping again.
TEST(Cgroup, AClaimedSweepIsNotRunAgainByOnce) {
    REQUIRE_ROOT();
    std::string why;
    const auto place = own_cgroup_place(why);
    ASSERT_TRUE(place) << why;
    const std::string parent = place->version == CgroupVersion::kV1 && place->v1.count("pids")
                                   ? place->v1.at("pids")
                                   : place->v2;
    ASSERT_FALSE(parent.empty());
    pid_t gone = -1;
    {
        Child quick([] { return 0; });
        quick.wait();
        gone = quick.pid();
    }
    const std::string stale = parent + "/strata-" + std::to_string(gone) + "-12345-claimed";
    ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << stale;
    claim_stale_cgroups_sweep();  // first here or earlier in this process: claimed now
    EXPECT_FALSE(claim_stale_cgroups_sweep());
    remove_stale_cgroups_once();
    EXPECT_TRUE(std::filesystem::exists(stale)) << "swept again by a caller that did not claim";
    remove_stale_cgroups();  // what the claimer runs
    EXPECT_FALSE(std::filesystem::exists(stale));
    ::rmdir(stale.c_str());
}

TEST(Cgroup, NonRootGetsAReasonInsteadOfAnException) {
    REQUIRE_ROOT();
    Pipe pipe;
    Child child([&] {
        pipe.close_read();
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            return 3;
        try {
            std::string why;
            auto cg = Cgroup::create("nobody", {.pids = 100}, why);
            pipe.send(why.data(), why.size());
            return cg ? 1 : 0;
        } catch (const std::exception& e) {
            pipe.send(e.what(), std::strlen(e.what()));
            return 2;
        }
    });
    pipe.close_write();
    const std::string why = pipe.receive_all();
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << why;
    std::cout << "why: " << why << "\n";
    EXPECT_NE(why.find("Permission denied"), std::string::npos) << why;
    EXPECT_NE(why.find("without"), std::string::npos) << why;
}

TEST(Cgroup, BadLimitsAndNamesAreErrors) {
    std::string why;
    EXPECT_THROW(Cgroup::create("x", {.cpus = 0.001}, why), Error);
    EXPECT_THROW(Cgroup::create("x", {.memory_bytes = 1024}, why), Error);
    EXPECT_THROW(Cgroup::create("../x", {}, why), Error);
    EXPECT_THROW(Cgroup::create("", {}, why), Error);
}

TEST(Cgroup, SameNameTwiceIsAConflict) {
    REQUIRE_ROOT();
    auto first = must_create("twice", {.pids = 10, .devices = false});
    ASSERT_TRUE(first);
    std::string why;
    EXPECT_THROW(Cgroup::create("twice", {.pids = 10, .devices = false}, why), Error);
    EXPECT_TRUE(std::filesystem::exists(first->dirs().front()));
}

}  // namespace
}  // namespace strata::sandbox
