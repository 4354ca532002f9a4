// --explain's rules over build records: each reason a step can miss, in words.
#include <gtest/gtest.h>

#include "executor/explain.hpp"

namespace strata::executor {
namespace {

cache::StepRecord step(std::vector<std::pair<std::string, std::string>> fields,
                       std::string key = "sha256:now", std::string parent = "sha256:p",
                       std::string instruction = "COPY a /a") {
    cache::StepRecord s;
    s.key = std::move(key);
    s.parent_key = std::move(parent);
    s.instruction = std::move(instruction);
    s.fields = std::move(fields);
    return s;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

TEST(Explain, NoRecordNewStepNoCacheAndPrunedEntry) {
    const auto now = step({{"op", "COPY"}});
    MissFacts f;
    f.now = &now;
    EXPECT_NE(joined(explain_miss(f)).find("no earlier build"), std::string::npos);
    f.had_record = true;
    EXPECT_NE(joined(explain_miss(f)).find("a new step"), std::string::npos);
    const auto same = step({{"op", "COPY"}});
    f.before = &same;
    EXPECT_NE(joined(explain_miss(f)).find("cache entry is gone"), std::string::npos);
    f.no_cache = true;
    EXPECT_NE(joined(explain_miss(f)).find("--no-cache"), std::string::npos);
}

TEST(Explain, VariablesFilesParentAndInstruction) {
    const auto before = step({{"op", "COPY"},
                              {"src", "a"},
                              {"var", "V=1"},
                              {"var-unset", "U"},
                              {"context-sources", "xxh3:1"}},
                             "sha256:old", "sha256:p1", "COPY a /a");
    const auto now = step({{"op", "COPY"},
                           {"src", "b"},
                           {"var", "V=2"},
                           {"var", "U=set"},
                           {"context-sources", "xxh3:2"}},
                          "sha256:new", "sha256:p2", "COPY b /a");
    MissFacts f;
    f.now = &now;
    f.before = &before;
    f.had_record = true;
    f.parent_change = "the step it builds on changed: [1/3] WORKDIR /x";
    f.changed_files = [] { return std::vector<std::string>{"file changed: b"}; };
    const std::string text = joined(explain_miss(f));
    EXPECT_NE(text.find("the step it builds on changed: [1/3] WORKDIR /x"), std::string::npos)
        << text;
    EXPECT_NE(text.find("variable V changed: \"1\" -> \"2\""), std::string::npos) << text;
    EXPECT_NE(text.find("variable U changed: unset -> \"set\""), std::string::npos) << text;
    EXPECT_NE(text.find("file changed: b"), std::string::npos) << text;
    EXPECT_NE(text.find("the instruction changed: `COPY a /a` -> `COPY b /a`"), std::string::npos)
        << text;
}

TEST(Explain, RunEnvironmentAndStageSources) {
    const auto before = step({{"op", "RUN"}, {"env", "A=1"}, {"from-stage-key", "s1"}},
                             "sha256:old", "sha256:p", "RUN x");
    const auto now = step({{"op", "RUN"}, {"env", "A=2"}, {"env", "B=3"}, {"from-stage-key", "s2"}},
                          "sha256:new", "sha256:p", "RUN x");
    MissFacts f;
    f.now = &now;
    f.before = &before;
    f.had_record = true;
    const std::string text = joined(explain_miss(f));
    EXPECT_NE(text.find("environment variable A changed: \"1\" -> \"2\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("environment variable B changed: unset -> \"3\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("the stage it copies from was rebuilt"), std::string::npos) << text;
    EXPECT_EQ(text.find("instruction changed"), std::string::npos) << text;
}

TEST(Explain, DiffListingsUnderTheCopiedRoots) {
    const cache::FileListing before{{"a.txt", "1"}, {"src/x", "1"}, {"src/y", "1"}, {"z", "1"}};
    const cache::FileListing now{{"a.txt", "2"}, {"src/x", "2"}, {"src/new", "1"}, {"z", "2"}};
    EXPECT_EQ(diff_listings(before, now, {"src"}),
              (std::vector<std::string>{"file added: src/new", "file changed: src/x",
                                        "file removed: src/y"}));
    EXPECT_EQ(diff_listings(before, now, {"a.txt"}),
              (std::vector<std::string>{"file changed: a.txt"}));
    EXPECT_EQ(diff_listings(before, now, {"sr"}), std::vector<std::string>{})
        << "a prefix of a name is not a parent";
    const auto limited = diff_listings(before, now, {""}, 2);
    ASSERT_EQ(limited.size(), 3u);
    EXPECT_EQ(limited[2], "... and 3 more");
}

}  // namespace
}  // namespace strata::executor
