// Finding strata's own cgroups from /proc/self/mountinfo and /proc/self/cgroup.
#include "sandbox/cgroup_place.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_files.hpp"
#include "sandbox/cgroup_name.hpp"

namespace strata::sandbox {
namespace {

constexpr std::string_view kHybridMounts =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:5 - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupPlace, HybridSystemUsesTheV1Hierarchies) {
    const auto place = parse_cgroup_place(kHybridMounts,
                                          "9:name=systemd:/user.slice\n"
                                          "8:pids:/user.slice\n"
                                          "4:memory:/process_api/e8b2\n"
                                          "1:cpu,cpuacct:/\n"
                                          "0::/user.slice\n",
                                          false);
    ASSERT_TRUE(place);
    EXPECT_EQ(place->version, CgroupVersion::kV1);
    EXPECT_EQ(place->v1.at("pids"), "/sys/fs/cgroup/pids/user.slice");
    EXPECT_EQ(place->v1.at("memory"), "/sys/fs/cgroup/memory/process_api/e8b2");
    EXPECT_EQ(place->v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_EQ(place->v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_EQ(place->v1.count("name=systemd"), 0u);
    EXPECT_EQ(place->v2, "/sys/fs/cgroup/unified/user.slice");
}

TEST(CgroupPlace, UnifiedSystem) {
    const auto place = parse_cgroup_place(
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n", true);
    ASSERT_TRUE(place);
    EXPECT_EQ(place->version, CgroupVersion::kV2);
    EXPECT_TRUE(place->v1.empty());
    EXPECT_EQ(place->v2, "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
}

TEST(CgroupPlace, MountOfASubtreeAndEscapedMountPoint) {
    // A container whose /sys/fs/cgroup/memory shows only /docker/abc of the
    // host's hierarchy; a mount point with a space in it.
    const auto place = parse_cgroup_place(
        "50 40 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "51 40 0:36 /other /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "52 40 0:36 / /mnt/my\\040pids rw - cgroup cgroup rw,pids\n",
        "4:memory:/docker/abc/build\n8:pids:/docker/abc\n", false);
    ASSERT_TRUE(place);
    EXPECT_EQ(place->v1.at("memory"), "/sys/fs/cgroup/memory/build");
    EXPECT_EQ(place->v1.at("pids"), "/mnt/my pids/docker/abc");
}

TEST(CgroupPlace, NothingMounted) {
    EXPECT_FALSE(parse_cgroup_place("27 1 254:0 / / rw - ext4 /dev/vda rw\n", "0::/\n", false));
}

TEST(CgroupPlace, ThisProcess) {
    std::string why;
    const auto place = own_cgroup_place(why);
    ASSERT_TRUE(place) << why;
    if (place->version == CgroupVersion::kV2)
        EXPECT_FALSE(place->v2.empty());
    else
        EXPECT_FALSE(place->v1.empty());
}

TEST(CgroupName, OwnerParsedAndCheckedByStartTime) {
    const auto owner = parse_cgroup_owner("strata-123-4567-run-step-3");
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, 123);
    EXPECT_EQ(owner->start_time, 4567u);
    EXPECT_FALSE(parse_cgroup_owner("strata-x-1-a"));
    EXPECT_FALSE(parse_cgroup_owner("docker-123-4567-a"));
    EXPECT_FALSE(parse_cgroup_owner("strata-123"));

    const auto self = parse_cgroup_owner(own_cgroup_prefix() + "x");
    ASSERT_TRUE(self);
    EXPECT_EQ(self->pid, ::getpid());
    EXPECT_FALSE(owner_gone(*self));
    EXPECT_TRUE(owner_gone(CgroupOwner{self->pid, self->start_time + 1}));
    // Field 22 of /proc/self/stat, read the simple way (comm has no spaces here).
    std::ifstream stat("/proc/self/stat");
    std::string field;
    for (int i = 0; i < 22; ++i)
        stat >> field;
    EXPECT_EQ(std::to_string(self->start_time), field);
}

TEST(CgroupFiles, KeyedValues) {
    const std::string events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
    EXPECT_EQ(cgroup_files::keyed_value(events, "oom_kill"), 2);
    EXPECT_EQ(cgroup_files::keyed_value(events, "oom"), 3);
    EXPECT_EQ(cgroup_files::keyed_value(events, "max"), 12);
    EXPECT_EQ(cgroup_files::keyed_value(events, "absent"), 0);
}

}  // namespace
}  // namespace strata::sandbox
