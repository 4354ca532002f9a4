#include "sandbox/capabilities.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace strata::sandbox {
namespace {

TEST(Capabilities, NumbersMatchTheKernelHeaders) {
    EXPECT_EQ(capability_number("CAP_CHOWN"), CAP_CHOWN);
    EXPECT_EQ(capability_number("sys_admin"), CAP_SYS_ADMIN);
    EXPECT_EQ(capability_number("CAP_MKNOD"), CAP_MKNOD);
    EXPECT_EQ(capability_number("CAP_AUDIT_READ"), CAP_AUDIT_READ);
    EXPECT_EQ(capability_number("CAP_BPF"), 39);
    EXPECT_EQ(capability_number("CAP_NOPE"), std::nullopt);
}

TEST(Capabilities, DockerDefaultIsFourteen) {
    EXPECT_EQ(default_capabilities().size(), 14u);
    const uint64_t m = capability_mask(default_capabilities());
    EXPECT_TRUE(m & (uint64_t{1} << CAP_MKNOD));
    EXPECT_FALSE(m & (uint64_t{1} << CAP_SYS_ADMIN));
    EXPECT_FALSE(m & (uint64_t{1} << CAP_NET_ADMIN));
}

}  // namespace
}  // namespace strata::sandbox
