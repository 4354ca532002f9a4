// The build summary (cache/build_summary.hpp) through whole builds: a
// rebuild with nothing changed is answered from it with the same result as
// the usual path, and each thing it depends on that the cache table
// (cache_table_test.cpp) cannot express makes the rebuild look at its steps
// again: the image or its tag gone, a summary damaged or of another
// strata, --explain, secrets flags, a cache entry written by another build.
#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "cache/build_summary.hpp"
#include "cache/cache_index.hpp"

namespace strata::buildtest {
namespace {

class BuildSummaryTest : public BuildTest {
  public:
    void SetUp() override {
        BuildTest::SetUp();
        file("a.txt", "a\n");
        file("b.txt", "b\n");
        dockerfile(
            "FROM base:latest\n"
            "COPY a.txt /a.txt\n"
            "ENV X=1\n"
            "COPY b.txt /b.txt\n"
            "WORKDIR /w\n");
    }
    executor::BuildRequest tagged() {
        auto r = request();
        r.tags = {store::Reference::parse("app:v1")};
        return r;
    }
    fs::path summary_file() const {
        for (const auto& e : fs::directory_iterator(root() / "cache" / "builds"))
            if (e.path().extension() == ".summary") return e.path();
        return {};
    }
};

TEST_F(BuildSummaryTest, ANoOpRebuildIsAnsweredWithTheUsualResult) {
    const auto first = build(tagged());
    EXPECT_FALSE(first.from_summary);
    ASSERT_FALSE(summary_file().empty());
    const auto second = build(tagged());
    EXPECT_TRUE(second.from_summary);

    auto slow_req = tagged();
    slow_req.explain = true;  // --explain always takes the usual path
    const auto slow = build(slow_req);
    EXPECT_FALSE(slow.from_summary);

    EXPECT_EQ(second.image.manifest, slow.image.manifest);
    EXPECT_EQ(second.image.config, slow.image.config);
    EXPECT_EQ(second.names.size(), 1u);
    EXPECT_EQ(outcomes(second), outcomes(slow));
    EXPECT_EQ(outcomes(second), "CCC");
    ASSERT_EQ(second.steps.size(), slow.steps.size());
    for (size_t i = 0; i < slow.steps.size(); ++i) {
        EXPECT_EQ(second.steps[i].key, slow.steps[i].key) << i;
        EXPECT_EQ(second.steps[i].name, slow.steps[i].name) << i;
        EXPECT_EQ(second.steps[i].instruction, slow.steps[i].instruction) << i;
        EXPECT_EQ(second.steps[i].outcome, slow.steps[i].outcome) << i;
    }
}

TEST_F(BuildSummaryTest, ANoCacheBuildLeavesTheSummaryTheNextRebuildTakes) {
    build(tagged());
    auto nc = tagged();
    nc.plan.no_cache = true;
    const auto cold = build(nc);
    EXPECT_FALSE(cold.from_summary);
    EXPECT_EQ(outcomes(cold), "BBB");
    const auto again = build(tagged());
    EXPECT_TRUE(again.from_summary);
    EXPECT_EQ(again.image.manifest, cold.image.manifest);
}

TEST_F(BuildSummaryTest, TheImageRemovedIsWrittenAgain) {
    const auto first = build(tagged());
    {
        auto lock = store().gc_exclusive();
        auto tx = store().begin();
        tx.remove_image(first.image.manifest);
        tx.commit();
    }
    ASSERT_FALSE(store().image(first.image.manifest));
    const auto second = build(tagged());
    EXPECT_FALSE(second.from_summary);
    EXPECT_EQ(second.image.manifest, first.image.manifest);
    EXPECT_TRUE(store().image(first.image.manifest));
    EXPECT_EQ(store().names().get(store::Reference::parse("app:v1")), first.image.manifest);
}

TEST_F(BuildSummaryTest, TheTagMovedAwayIsMovedBack) {
    const auto first = build(tagged());
    const auto other = import("other:latest", TarBuilder().dir("x").finish());
    {
        auto tx = store().begin();
        tx.tag(store::Reference::parse("app:v1"), other.manifest);
        tx.commit();
    }
    const auto second = build(tagged());
    EXPECT_FALSE(second.from_summary);
    EXPECT_EQ(store().names().get(store::Reference::parse("app:v1")), first.image.manifest);
    EXPECT_TRUE(build(tagged()).from_summary);
}

TEST_F(BuildSummaryTest, ANewTagIsNotAnsweredFromTheOldSummary) {
    build(tagged());
    auto r = tagged();
    r.tags.push_back(store::Reference::parse("app:v2"));
    const auto second = build(r);
    EXPECT_FALSE(second.from_summary);
    EXPECT_TRUE(store().names().get(store::Reference::parse("app:v2")));
}

TEST_F(BuildSummaryTest, ADamagedSummaryIsIgnored) {
    const auto first = build(tagged());
    const fs::path f = summary_file();
    ASSERT_FALSE(f.empty());
    const std::string text = imagetest::read_file(f);
    for (const std::string& bad : {text.substr(0, text.size() / 2), std::string("garbage\n"),
                                   std::string(), text.substr(0, text.size() - 4)}) {
        imagetest::write_file(f, bad);
        const auto r = build(tagged());
        EXPECT_FALSE(r.from_summary) << bad;
        EXPECT_EQ(r.image.manifest, first.image.manifest);
    }
    EXPECT_TRUE(build(tagged()).from_summary);  // the usual path wrote it again
}

TEST_F(BuildSummaryTest, ASummaryOfOtherInputsIsIgnored) {
    build(tagged());
    const fs::path f = summary_file();
    auto sum = cache::BuildSummary::parse(imagetest::read_file(f));
    ASSERT_TRUE(sum);
    sum->inputs = "sha256:" + std::string(64, '0');  // another strata binary, say
    imagetest::write_file(f, sum->serialize());
    EXPECT_FALSE(build(tagged()).from_summary);
}

TEST_F(BuildSummaryTest, ACacheEntryWrittenByAnotherBuildInvalidatesIt) {
    build(tagged());
    cache::CacheIndex index(store().cache_dir());
    const uint64_t g = index.generation();
    // An unrelated entry: the summary cannot tell which entries it read.
    index.put({"sha256:" + std::string(64, 'a'), "2020-01-01T00:00:00Z", std::nullopt, "x"});
    EXPECT_EQ(index.generation(), g + 1);
    const auto r = build(tagged());
    EXPECT_FALSE(r.from_summary);
    EXPECT_EQ(outcomes(r), "CCC");
    EXPECT_TRUE(build(tagged()).from_summary);
}

TEST_F(BuildSummaryTest, SecretFlagsAreInputs) {
    build(tagged());
    auto r = tagged();
    r.secrets = {executor::SecretSource{"tok", "", "HOME"}};
    EXPECT_FALSE(build(r).from_summary);
    EXPECT_TRUE(build(r).from_summary);
}

TEST_F(BuildSummaryTest, AScratchBuildNeitherReadsNorWritesIt) {
    build(tagged());
    const std::string before = imagetest::read_file(summary_file());
    auto r = tagged();
    r.scratch = true;
    r.plan.no_cache = true;
    EXPECT_FALSE(build(r).from_summary);
    EXPECT_EQ(imagetest::read_file(summary_file()), before);
}

TEST_F(BuildSummaryTest, ABuildWithWarningsHasNoSummary) {
    auto r = tagged();
    r.plan.build_args["UNUSED"] = "1";  // "not consumed" is printed every time
    build(r);
    EXPECT_TRUE(summary_file().empty());
    EXPECT_FALSE(build(r).from_summary);
}

TEST(BuildSummaryFormat, RoundTripsAndRejectsDamage) {
    cache::BuildSummary s;
    s.inputs = "sha256:1";
    s.generation = 42;
    s.image = "sha256:2";
    s.context = "xxh3:3";
    s.source_date_epoch = 1700000000;
    s.bases = {{"busybox:latest", "sha256:4"}};
    s.stages = {{0, "[1/2] FROM x"}, {1, ""}};
    s.steps = {{0, 0, false, "[2/2] RUN a\tb\\c\nd", "RUN a", "sha256:5"},
               {1, 3, true, "", "", ""}};
    const std::string text = s.serialize();
    EXPECT_EQ(cache::BuildSummary::parse(text), s);
    EXPECT_FALSE(cache::BuildSummary::parse(text.substr(0, text.size() - 1)));
    EXPECT_FALSE(cache::BuildSummary::parse(text.substr(0, text.find("end"))));
    EXPECT_FALSE(cache::BuildSummary::parse(text + "x\n"));
    EXPECT_FALSE(cache::BuildSummary::parse("strata-build-summary 2\n" + text.substr(23)));
    std::string bad = text;
    bad.replace(bad.find("42"), 2, "4x");
    EXPECT_FALSE(cache::BuildSummary::parse(bad));
}

}  // namespace
}  // namespace strata::buildtest
