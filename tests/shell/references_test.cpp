// Which names an expansion reports as referenced / unset. The planner keys
// steps on these, so they must list exactly the names the text mentions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

using Names = std::vector<std::string>;

struct Case {
    const char* input;
    Names referenced;
    Names unset;
};

// UNRELATED is set but mentioned by no input: it must never be reported.
const Env kEnv{{"A", "a"}, {"B", "b"}, {"E", ""}, {"UNRELATED", "u"}, {"home", "lower"}};

TEST(ShellReferences, ExactlyTheNamesTheTextMentions) {
    const Case cases[] = {
        {"plain", {}, {}},
        {"'$A' \\$B \"\\$A\"", {}, {}},
        {"$A", {"A"}, {}},
        {"$A$A${A}", {"A"}, {}},
        {"\"$A\"", {"A"}, {}},
        {"$Z $A", {"A", "Z"}, {"Z"}},
        {"${A:-$B}", {"A", "B"}, {}},  // B is mentioned, so it counts
        {"${U:-$B}", {"B", "U"}, {"U"}},
        {"${A:+${C}}", {"A", "C"}, {"C"}},
        {"${E?x}", {"E"}, {}},
        {"${A#$P}${A%%$Q}", {"A", "P", "Q"}, {"P", "Q"}},
        {"${A/$P/$R}", {"A", "P", "R"}, {"P", "R"}},
        {"$1 $@ $$", {"$", "1", "@"}, {"$", "1", "@"}},
        {"$HOME", {"HOME"}, {"HOME"}},  // case-sensitive: "home" is another name
        {"$home", {"home"}, {}},
        {"$안녕", {"안녕"}, {"안녕"}},  // names may be Unicode letters
        {"$A한", {"A한"}, {"A한"}},
        {"$A-$B.c", {"A", "B"}, {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.input);
        const auto r = expand_word(c.input, kEnv);
        EXPECT_EQ(r.referenced, c.referenced);
        EXPECT_EQ(r.unset, c.unset);
        const auto w = expand_words(c.input, kEnv);
        EXPECT_EQ(w.referenced, c.referenced);
        EXPECT_EQ(w.unset, c.unset);
    }
}

TEST(ShellReferences, UnrelatedVariablesDoNotChangeTheResult) {
    Env more = kEnv;
    more.set("UNRELATED", "changed");
    more.set("NEW_ARG", "1");
    for (const char* input : {"${A:-x}/$B", "pre-${U:-d}", "'$UNRELATED'"}) {
        SCOPED_TRACE(input);
        const auto r1 = expand_word(input, kEnv);
        const auto r2 = expand_word(input, more);
        EXPECT_EQ(r1.word, r2.word);
        EXPECT_EQ(r1.referenced, r2.referenced);
    }
}

}  // namespace
