// `strata build --check-reproducible` through the real binary: RUN steps that
// create, touch and delete files (writing no time into them) pass with
// SOURCE_DATE_EPOCH; a RUN writing `date +%s%N` into /stamp fails, naming
// /stamp and its step; without SOURCE_DATE_EPOCH timestamps are left out
// with a note; the check leaves no tag, image record or cache entry behind.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class CheckReproducible : public CliTest {
  protected:
    RunResult build(const std::string& dockerfile, std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
        const fs::path ctx = dir_.path() / "ctx";
        write_file(ctx / "Dockerfile", dockerfile);
        write_file(ctx / "a.txt", "alpha\n");
        args.insert(args.begin(), "build");
        args.push_back(ctx.string());
        return strata(root_, std::move(args), "", env);
    }
    static constexpr const char* kQuiet =
        "FROM busybox\n"
        "COPY a.txt /a.txt\n"
        "RUN mkdir -p /out && echo hello > /out/a && touch /out/b && echo x > /out/c && rm "
        "/out/c\n"
        "RUN touch /out/a /a.txt && rm /out/b && echo again >> /out/a\n";
};

TEST_F(CheckReproducible, CreateTouchDeletePassesWithSourceDateEpoch) {
    auto r = build(kQuiet, {"--progress", "plain", "-t", "repro:1", "--check-reproducible",
                            "--source-date-epoch", "1700000000"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_TRUE(r.out.starts_with("reproducible: sha256:")) << r.out;
    EXPECT_EQ(r.err.find("SOURCE_DATE_EPOCH is not set"), std::string::npos) << r.err;
    // The scratch build named nothing and left no dangling record.
    auto images = strata(root_, {"images"});
    EXPECT_EQ(images.out.find("<none>"), std::string::npos) << images.out;
    // Its steps recorded no cache entries: the same build again is all cached
    // and makes the same image.
    auto again = build(kQuiet, {"--progress", "plain", "-q", "--source-date-epoch", "1700000000"});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(again.out, strata(root_, {"inspect", "-f", "{{.Id}}", "repro:1"}).out);
}

TEST_F(CheckReproducible, WithoutSourceDateEpochTimestampsAreSkippedWithANote) {
    auto r = build(kQuiet, {"-q", "--check-reproducible"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("reproducible"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("SOURCE_DATE_EPOCH is not set"), std::string::npos) << r.err;
}

TEST_F(CheckReproducible, ADateWrittenByRunIsNamed) {
    auto r = build(
        "FROM busybox\nRUN echo fixed > /fixed\n"
        // busybox date has no %N: the second makes two builds differ.
        "RUN sleep 1 && date +%s%N > /stamp\n",
        {"-q", "--check-reproducible", "--source-date-epoch", "1700000000"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("not reproducible"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("): RUN /bin/sh -c sleep 1 && date +%s%N > /stamp"), std::string::npos)
        << r.out;  // the layer names its step
    EXPECT_NE(r.out.find("  /stamp: content sha256:"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("/fixed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 difference\n"), std::string::npos) << r.out;
}

TEST_F(CheckReproducible, RandomFileNamesAreAddedAndDeleted) {
    auto r = build("FROM busybox\nRUN mkdir /r && touch /r/$(cat /proc/sys/kernel/random/uuid)\n",
                   {"-q", "--check-reproducible", "--source-date-epoch", "1700000000"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("only in A: file"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("only in B: file"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata::imagetest
