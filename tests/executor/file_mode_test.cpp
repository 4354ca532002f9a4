// --chmod values: octal and chmod(1)-style symbolic modes.
#include "executor/copy/file_mode.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace strata::executor {
namespace {

uint32_t apply(const std::string& spec, uint32_t mode, bool dir = false) {
    return ModeSpec::parse(spec).apply(mode, dir);
}

TEST(ModeSpec, OctalReplacesPermissionAndSpecialBits) {
    EXPECT_EQ(apply("755", 0600), 0755u);
    EXPECT_EQ(apply("0640", 04777), 0640u);
    EXPECT_EQ(apply("4755", 0644), 04755u);
    EXPECT_EQ(apply("07777", 0), 07777u);
    EXPECT_EQ(apply("0", 0755, true), 0u);
}

TEST(ModeSpec, OctalErrorsUseBuildKitWording) {
    for (const char* bad : {"8", "0x1", "10000", "0778", "12345678901"}) {
        try {
            ModeSpec::parse(bad);
            FAIL() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage);
            EXPECT_NE(std::string(e.what()).find("it should be octal string and between 0 and "
                                                 "07777"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(ModeSpec, SymbolicClauses) {
    struct Case {
        std::string spec;
        uint32_t in;
        bool dir;
        uint32_t out;
    };
    const std::vector<Case> cases = {
        {"u+x", 0644, false, 0744},
        {"g-w", 0664, false, 0644},
        {"u+x,g-w", 0664, false, 0744},
        {"o=", 0777, false, 0770},
        {"go=", 0777, false, 0700},
        {"a=r", 0777, false, 0444},
        {"a+rX", 0700, true, 0755},   // X: directories get x
        {"a+rX", 0600, false, 0644},  // plain file without x: no x
        {"a+rX", 0700, false, 0755},  // file with some x: x for all
        {"a+X", 0644, false, 0644},
        // BuildKit's mode library honours X only after '+' (BSD chmod does
        // it for '=' too); strata keeps BuildKit's result.
        {"a=rX", 0700, true, 0444},
        {"+x", 0644, false, 0755},  // no who: limited by umask 022 → a+x
        {"+w", 0444, false, 0644},  // umask keeps group/other write off
        {"=r", 0777, false, 0444},
        {"u=rwx,go=rx", 0, false, 0755},
        {"go=u-w", 0750, false, 0755},  // copy user bits, then drop w
        {"g+u", 0700, false, 0770},
        {"u-x+s", 0755, false, 04655},
        {"ug+s", 0755, false, 06755},
        {"o+s", 0755, false, 0755},  // set-id for "other" only is ignored
        {"+t", 0755, true, 01755},
        {"o+t", 0755, true, 0755},
        {"u=rw", 04755, false, 0655},  // '=' on u clears set-uid
        {"u+r-w", 0600, false, 0400},  // several actions in a clause
    };
    for (const auto& c : cases) {
        EXPECT_EQ(apply(c.spec, c.in, c.dir), c.out)
            << c.spec << " on 0" << std::oct << c.in << (c.dir ? " (dir)" : "");
    }
}

TEST(ModeSpec, SymbolicErrors) {
    for (const char* bad : {"", "u", "z+x", "u+q", "u+x,", "u+x,,g+w", "+x y"}) {
        EXPECT_THROW(ModeSpec::parse(bad), Error) << bad;
    }
}

TEST(ModeSpec, EmptyKeepsMode) {
    ModeSpec none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.apply(04751, false), 04751u);
}

}  // namespace
}  // namespace strata::executor
