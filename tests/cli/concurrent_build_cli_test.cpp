// Several `strata build` processes with RUN steps at once, on one store
// (concurrent strata processes may share a store). A RUN step's layer is
// written while the next step runs and adopted between containers
// (src/executor/stage_runner.cpp), so these processes race to write the
// same blobs, mark and adopt the same layer directories and write the same
// cache entries: each build must succeed with the same image, and the store
// must check out whole with nothing left in tmp/.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class ConcurrentBuildCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "a.txt", "alpha\n");
        write_file(ctx_ / "Dockerfile",
                   "FROM busybox\n"
                   "RUN echo 1 > /one\n"
                   "RUN cat /one > /two && echo 2 >> /two\n"
                   "COPY a.txt /a.txt\n"
                   "RUN cat /two /a.txt > /three\n"
                   "RUN rm /one && echo done > /four\n");
    }
    RunResult build() {
        // One epoch: the same image from every process, files' times aside.
        return strata(root_, {"build", "-q", "--no-cache", "-t", "app", ctx_.string()}, "",
                      {{"SOURCE_DATE_EPOCH", "1700000000"}});
    }
    fs::path ctx_;
};

TEST_F(ConcurrentBuildCli, ThreeBuildsWithRunStepsShareOneStore) {
    for (int round = 0; round < 2; ++round) {
        std::vector<std::future<RunResult>> builds;
        for (int i = 0; i < 3; ++i)
            builds.push_back(std::async(std::launch::async, [this] { return build(); }));
        std::vector<std::string> ids;
        for (auto& b : builds) {
            const RunResult r = b.get();
            EXPECT_EQ(r.code, 0) << r.err;
            ids.push_back(r.out);
        }
        ASSERT_EQ(ids.size(), 3u);
        EXPECT_EQ(ids[0].size(), 72u) << ids[0];
        EXPECT_EQ(ids[1], ids[0]);
        EXPECT_EQ(ids[2], ids[0]);
    }
    const auto check = strata(root_, {"store", "check"});
    EXPECT_EQ(check.code, 0) << check.out << check.err;
    std::string left;  // what tmp/ still holds, to say which kind leaked
    if (fs::exists(root_ / "tmp"))
        for (const auto& e : fs::recursive_directory_iterator(root_ / "tmp"))
            left += e.path().string() + "\n";
    EXPECT_TRUE(tmp_is_empty(root_)) << left;
    const auto cached = strata(root_, {"build", "--progress", "plain", "-t", "app", ctx_.string()},
                               "", {{"SOURCE_DATE_EPOCH", "1700000000"}});
    ASSERT_EQ(cached.code, 0) << cached.err;
    EXPECT_NE(cached.err.find("(0 steps run, 5 cached)"), std::string::npos) << cached.err;
    const auto content = strata(root_, {"run", "--rm", "app", "cat", "/three", "/four"});
    EXPECT_EQ(content.code, 0) << content.err;
    EXPECT_EQ(content.out, "1\n2\nalpha\ndone\n");
}

}  // namespace
}  // namespace strata::imagetest
