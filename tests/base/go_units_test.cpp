// go-units' RAMInBytes: the forms Docker and BuildKit accept, and their errors.
#include <gtest/gtest.h>

#include "base/go/units.hpp"

namespace strata {
namespace {

TEST(RamInBytes, GoUnitsForms) {
    EXPECT_EQ(go::units::ram_in_bytes("0"), 0u);
    EXPECT_EQ(go::units::ram_in_bytes("1024"), 1024u);
    EXPECT_EQ(go::units::ram_in_bytes("64m"), 64ull << 20);
    EXPECT_EQ(go::units::ram_in_bytes("64M"), 64ull << 20);
    EXPECT_EQ(go::units::ram_in_bytes("1g"), 1ull << 30);
    EXPECT_EQ(go::units::ram_in_bytes("1GiB"), 1ull << 30);
    EXPECT_EQ(go::units::ram_in_bytes("1gb"), 1ull << 30);
    EXPECT_EQ(go::units::ram_in_bytes("512k"), 512ull << 10);
    EXPECT_EQ(go::units::ram_in_bytes("512 kb"), 512ull << 10);
    EXPECT_EQ(go::units::ram_in_bytes("1.5g"), 3ull << 29);
    EXPECT_EQ(go::units::ram_in_bytes("2t"), 2ull << 40);
    EXPECT_EQ(go::units::ram_in_bytes("1p"), 1ull << 50);
    EXPECT_EQ(go::units::ram_in_bytes("100b"), 100u);
    EXPECT_EQ(go::units::ram_in_bytes("100B"), 100u);
    EXPECT_EQ(go::units::ram_in_bytes("1.5k"), 1536u);
    EXPECT_EQ(go::units::ram_in_bytes("64MiB"), 64ull << 20);
}

TEST(RamInBytes, InvalidWithGoUnitsMessages) {
    std::string err;
    EXPECT_FALSE(go::units::ram_in_bytes("big", &err));
    EXPECT_EQ(err, "invalid size: 'big'");
    EXPECT_FALSE(go::units::ram_in_bytes("64x", &err));
    EXPECT_EQ(err, "invalid suffix: 'x'");
    EXPECT_FALSE(go::units::ram_in_bytes("1gig", &err));
    EXPECT_EQ(err, "invalid suffix: 'gig'");
    EXPECT_FALSE(go::units::ram_in_bytes("1mx", &err));
    EXPECT_EQ(err, "invalid suffix: 'mx'");
    EXPECT_FALSE(go::units::ram_in_bytes("-1m", &err));
    EXPECT_EQ(err, "invalid size: '-1m'");
    EXPECT_FALSE(go::units::ram_in_bytes("1..2", &err));
    EXPECT_EQ(err, "strconv.ParseFloat: parsing \"1..2\": invalid syntax");
    EXPECT_FALSE(go::units::ram_in_bytes("", &err));
    EXPECT_FALSE(go::units::ram_in_bytes("m"));
    EXPECT_FALSE(go::units::ram_in_bytes("1.2.3"));
}

}  // namespace
}  // namespace strata
