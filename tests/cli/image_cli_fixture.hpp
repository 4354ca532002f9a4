// A store with busybox imported through the real binary, for the CLI tests.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/image_fixture.hpp"

namespace strata::imagetest {

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        tar_ = make_busybox_rootfs(dir_.path());
        root_ = dir_.path() / "root";
        auto r = strata(root_, {"import", "-c", "CMD [\"sh\"]", tar_.string(), "busybox"});
        ASSERT_EQ(r.code, 0) << r.err;
        id_ = r.out.substr(0, r.out.size() - 1);  // "sha256:…"
        ASSERT_EQ(id_.size(), 71u) << r.out;
    }

    RunResult run_ok(std::vector<std::string> args, const std::string& input = {}) {
        auto r = strata(root_, std::move(args), input);
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.err, "");
        return r;
    }
    // Runs a command expected to fail with exit code 1 and an error naming `needle`.
    RunResult run_fail(std::vector<std::string> args, const std::string& needle,
                       const std::string& input = {}) {
        auto r = strata(root_, std::move(args), input);
        EXPECT_NE(r.code, 0);
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
        return r;
    }
    std::string short_id() const { return id_.substr(7, 12); }
    std::vector<std::string> lines(const std::string& s) {
        std::vector<std::string> out;
        size_t start = 0;
        while (start < s.size()) {
            auto nl = s.find('\n', start);
            out.push_back(s.substr(start, nl - start));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        return out;
    }

    TempDir dir_ = scratch("strata-cli-test-");
    fs::path tar_;
    fs::path root_;
    std::string id_;
};

}  // namespace strata::imagetest
