// The device allow-list: its rules, the BPF program emitted for cgroup v2,
// and that program at work in a real cgroup2 tree (on this machine the
// empty one at /sys/fs/cgroup/unified).
#include "sandbox/device_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "base/temp_dir.hpp"
#include "cgroup_test_child.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_place.hpp"

// CgroupLimits are spelled with designated initializers, naming only the
// limits a test sets; the others keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace strata::sandbox {
namespace {

TEST(DeviceFilter, DefaultRulesAreRuncs) {
    std::vector<std::string> lines;
    for (const auto& r : default_device_rules())
        lines.push_back(device_rule_line(r));
    const std::vector<std::string> expected = {
        "c *:* m",   "b *:* m",   "c 1:3 rwm",   "c 1:8 rwm", "c 1:7 rwm",   "c 5:0 rwm",
        "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"};
    EXPECT_EQ(lines, expected);
}

TEST(DeviceFilter, ProgramHasOneBlockPerRuleAndDeniesAtTheEnd) {
    const std::vector<DeviceRule> rules = {{'c', 1, 3, "rwm"},
                                           {'b', kAnyDeviceNumber, kAnyDeviceNumber, "m"}};
    const auto prog = device_filter_program(rules);
    // 6 to decode the context; rule 1: type, major, minor, r0=1, exit;
    // rule 2: type, access (mov, and, jne), r0=1, exit; then r0=0, exit.
    ASSERT_EQ(prog.size(), 6u + 5u + 6u + 2u);
    EXPECT_EQ(prog.back().code, BPF_JMP | BPF_EXIT);
    EXPECT_EQ(prog[prog.size() - 2].imm, 0);
    // Every jump of rule 1 lands on rule 2's first instruction (index 11).
    for (size_t i = 6; i < 11; ++i)
        if (prog[i].code == (BPF_JMP | BPF_JNE | BPF_K)) {
            EXPECT_EQ(i + 1 + static_cast<size_t>(prog[i].off), 11u) << i;
        }
    // Every jump of rule 2 lands on the final deny (index 17).
    for (size_t i = 11; i < 17; ++i)
        if (prog[i].code == (BPF_JMP | BPF_JNE | BPF_K)) {
            EXPECT_EQ(i + 1 + static_cast<size_t>(prog[i].off), 17u) << i;
        }
}

TEST(DeviceFilter, KernelAcceptsTheProgram) {
    if (::geteuid() != 0) GTEST_SKIP() << "loading a BPF program needs CAP_BPF";
    const UniqueFd fd = load_device_filter(default_device_rules());
    EXPECT_TRUE(fd);
}

// The cgroup2 tree: the v2 place of this process (the unified tree of a
// hybrid system), or nothing.
std::optional<CgroupPlace> v2_place() {
    std::string why;
    auto place = own_cgroup_place(why);
    if (!place || place->v2.empty()) return std::nullopt;
    place->version = CgroupVersion::kV2;
    place->v1.clear();
    return place;
}

TEST(DeviceFilter, CgroupV2ProgramRefusesTheRootDiskAndAllowsNull) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto place = v2_place();
    if (!place) GTEST_SKIP() << "no cgroup2 tree is mounted";
    std::string why;
    auto cg = Cgroup::create_in(*place, "devices-v2", {.devices = true}, why);
    ASSERT_TRUE(cg) << why;
    ASSERT_EQ(cg->dirs().size(), 1u);
    EXPECT_EQ(cg->dirs()[0], place->v2 + "/" + own_cgroup_prefix() + "devices-v2");
    const TempDir tmp = TempDir::create("/tmp", "strata-devfilter-");

    testing::expect_default_device_rules(*cg, tmp.path());

    const std::string dir = cg->dirs()[0];
    cg.reset();
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(DeviceFilter, AccessMustBeASubsetOfTheRules) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto place = v2_place();
    if (!place) GTEST_SKIP() << "no cgroup2 tree is mounted";
    std::string why;
    auto cg = Cgroup::create_in(*place, "access-v2", {.devices = false}, why);
    ASSERT_TRUE(cg) << why;
    // /dev/null readable only; any char node may be made.
    const std::vector<DeviceRule> rules = {{'c', 1, 3, "r"},
                                           {'c', kAnyDeviceNumber, kAnyDeviceNumber, "m"}};
    const UniqueFd dir(::open(cg->dirs()[0].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir);
    attach_device_filter(dir.get(), load_device_filter(rules).get(), cg->dirs()[0]);
    const TempDir tmp = TempDir::create("/tmp", "strata-devaccess-");
    const std::string node = (tmp.path() / "null").string();

    testing::Pipe pipe;
    testing::Child child([&] {
        pipe.close_read();
        testing::join(*cg);
        int results[4];
        auto open_errno = [](const char* path, int flags) {
            const int fd = ::open(path, flags | O_CLOEXEC);
            if (fd < 0) return errno;
            ::close(fd);
            return 0;
        };
        results[0] = open_errno("/dev/null", O_RDONLY);
        results[1] = open_errno("/dev/null", O_WRONLY);
        results[2] = open_errno("/dev/null", O_RDWR);
        results[3] = ::mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0 ? 0 : errno;
        pipe.send(results, sizeof(results));
        return 0;
    });
    pipe.close_write();
    int results[4] = {-1, -1, -1, -1};
    ASSERT_TRUE(pipe.receive(results, sizeof(results)));
    child.wait();
    EXPECT_EQ(results[0], 0);
    EXPECT_EQ(results[1], EPERM);
    EXPECT_EQ(results[2], EPERM) << "read and write together need both";
    EXPECT_EQ(results[3], 0);
}

TEST(DeviceFilter, CgroupV2WithoutTheMemoryControllerGivesAReason) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto place = v2_place();
    if (!place) GTEST_SKIP() << "no cgroup2 tree is mounted";
    std::ifstream in(place->v2 + "/cgroup.controllers");
    std::string available((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (available.find("memory") != std::string::npos)
        GTEST_SKIP() << "the memory controller is there";
    std::string why;
    auto cg = Cgroup::create_in(*place, "no-memory", {.memory_bytes = 64 << 20}, why);
    EXPECT_FALSE(cg);
    EXPECT_NE(why.find("memory controller"), std::string::npos) << why;
    EXPECT_FALSE(std::filesystem::exists(place->v2 + "/" + own_cgroup_prefix() + "no-memory"));
}

}  // namespace
}  // namespace strata::sandbox
