// The matcher's internals: patternmatcher's translation, the Go regexp parser and the
// DFA / NFA-simulation engines (which must agree).
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "frontend/dockerignore.hpp"
#include "frontend/dockerignore_automaton.hpp"
#include "frontend/dockerignore_go.hpp"
#include "frontend/dockerignore_regex.hpp"

namespace di = strata::frontend::dockerignore_detail;
using strata::Error;
using strata::frontend::DockerIgnore;

namespace {

// Go's path.Clean, strings.TrimSpace and UTF-8 decoding are tested in
// tests/base/go_*_test.cpp.

TEST(DockerIgnoreGo, TranslationMatchesPatternmatcher) {
    // patternmatcher's TestCompile expectations.
    const struct {
        const char* pattern;
        di::MatchKind kind;
        const char* regex;
    } rows[] = {
        {"*", di::MatchKind::kRegex, "^[^/]*$"},
        {"file*", di::MatchKind::kRegex, "^file[^/]*$"},
        {"*file", di::MatchKind::kRegex, "^[^/]*file$"},
        {"a*/b", di::MatchKind::kRegex, "^a[^/]*/b$"},
        {"**", di::MatchKind::kSuffix, ""},
        {"**/**", di::MatchKind::kRegex, "^(.*/)?.*$"},
        {"dir/**", di::MatchKind::kPrefix, ""},
        {"**/dir", di::MatchKind::kSuffix, ""},
        {"**/dir2/*", di::MatchKind::kRegex, "^(.*/)?dir2/[^/]*$"},
        {"**/dir2/**", di::MatchKind::kRegex, "^(.*/)?dir2/.*$"},
        {"**file", di::MatchKind::kSuffix, ""},
        {"**/file*txt", di::MatchKind::kRegex, "^(.*/)?file[^/]*txt$"},
        {"**/**/*.txt", di::MatchKind::kRegex, "^(.*/)?(.*/)?[^/]*\\.txt$"},
        {"a[b-d]e", di::MatchKind::kRegex, "^a[b-d]e$"},
        {".*", di::MatchKind::kRegex, "^\\.[^/]*$"},
        {"abc.def", di::MatchKind::kExact, ""},
        {"abc?def", di::MatchKind::kRegex, "^abc[^/]def$"},
        {"**/foo/bar", di::MatchKind::kSuffix, ""},
        {"a(b)c/def", di::MatchKind::kExact, ""},
        {"a.|)$(}+{bc", di::MatchKind::kExact, ""},
    };
    for (const auto& row : rows) {
        const di::Translation t = di::translate_pattern(row.pattern);
        EXPECT_EQ(t.kind, row.kind) << row.pattern;
        if (row.kind == di::MatchKind::kRegex) {
            EXPECT_EQ(t.regex, row.regex) << row.pattern;
        }
    }
}

TEST(DockerIgnoreRegex, GoSyntaxAndErrors) {
    const auto matches = [](const char* re, const char* text) {
        return di::Automaton(di::compile_go_regex(re)).matches(text);
    };
    EXPECT_TRUE(matches("^a.c$", "abc"));
    EXPECT_FALSE(matches("^a.c$", "a\nc"));    // '.' excludes newline
    EXPECT_TRUE(matches("^a[^b]c$", "a\nc"));  // negated classes include it
    EXPECT_TRUE(matches("^\\101\\x42\\n$", "AB\n"));
    EXPECT_TRUE(matches("^[\\d_]+$", "1_2"));
    EXPECT_TRUE(matches("^[[:^alpha:]]$", "1"));
    EXPECT_FALSE(matches("^[[:^alpha:]]$", "a"));
    EXPECT_TRUE(matches("^[]a]$", "]"));  // ']' first in a class is literal
    EXPECT_TRUE(matches("^[a-]$", "-"));
    EXPECT_TRUE(matches("^\\Qa.b", "a.bc"));  // no \E: literal to the end, no '$'
    EXPECT_TRUE(matches("^ab\\b", "ab"));
    EXPECT_FALSE(matches("^ab\\b", "abc"));
    EXPECT_TRUE(matches("^ab\\B", "abc"));
    EXPECT_TRUE(matches("^x\\b.y$", "x.y"));
    EXPECT_TRUE(matches("^a*?b$", "aab"));
    EXPECT_TRUE(matches("^(ab)+$", "abab"));
    const auto error = [](const char* re) {
        try {
            (void)di::compile_go_regex(re);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error("^[z-a]$"), "error parsing regexp: invalid character class range: `z-a`");
    EXPECT_EQ(error("^\\q$"), "error parsing regexp: invalid escape sequence: `\\q`");
    EXPECT_EQ(error("^[a"), "error parsing regexp: missing closing ]: `[a`");
    EXPECT_EQ(error("^a**"), "error parsing regexp: invalid nested repetition operator: `**`");
    EXPECT_EQ(error("*a"), "error parsing regexp: missing argument to repetition operator: `*`");
    EXPECT_EQ(error("(a"), "error parsing regexp: missing closing ): `(a`");
    EXPECT_EQ(error("a)"), "error parsing regexp: unexpected ): `a)`");
    EXPECT_EQ(error("[[:nope:]]"),
              "error parsing regexp: invalid character class range: `[:nope:]`");
}

// A pattern whose DFA is too large: the engine falls back to simulating the
// NFA. Its answers are checked against a direct implementation.
TEST(DockerIgnoreRegex, NfaFallbackIsCorrect) {
    constexpr int kSingles = 16;
    std::string pattern = "**/a";
    for (int i = 0; i < kSingles; ++i)
        pattern += "/?";
    const di::Translation t = di::translate_pattern(pattern);
    ASSERT_EQ(t.kind, di::MatchKind::kRegex);
    const di::Automaton automaton(di::compile_go_regex(t.regex));
    EXPECT_FALSE(automaton.has_dfa());

    // Matches iff the last kSingles+1 components are "a" then kSingles
    // one-character names.
    const auto expected = [&](const std::vector<std::string>& parts) {
        const size_t n = parts.size();
        if (n < kSingles + 1 || parts[n - kSingles - 1] != "a") return false;
        for (size_t i = n - kSingles; i < n; ++i) {
            if (parts[i].size() != 1) return false;
        }
        return true;
    };
    const DockerIgnore ig = DockerIgnore::from_patterns({pattern}, "t");
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> len(kSingles - 2, kSingles + 6);
    std::uniform_int_distribution<int> name(0, 4);
    int matched = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::string> parts;
        std::string path;
        const int n = len(rng);
        for (int i = 0; i < n; ++i) {
            static const char* const kNames[] = {"a", "a", "a", "b", "cd"};
            parts.push_back(kNames[name(rng)]);
            path += (i ? "/" : "") + parts.back();
        }
        const bool want = expected(parts);
        matched += want;
        ASSERT_EQ(automaton.matches(path), want) << path;
        bool want_with_parents = false;
        for (size_t k = 1; k <= parts.size(); ++k) {
            want_with_parents = want_with_parents || expected(std::vector<std::string>(
                                                         parts.begin(), parts.begin() + k));
        }
        ASSERT_EQ(ig.excluded(path), want_with_parents) << path;
    }
    EXPECT_GT(matched, 10);
}

// The DFA path against a naive matcher, on random patterns and paths.
TEST(DockerIgnoreRegex, DfaAgreesWithBruteForceGlob) {
    // Patterns of `*`, `?` and literals (no `**`, no classes): the Go glob
    // semantics within one path, implemented naively here.
    std::function<bool(std::string_view, std::string_view)> glob = [&](std::string_view p,
                                                                       std::string_view s) -> bool {
        if (p.empty()) return s.empty();
        if (p[0] == '*') {
            for (size_t i = 0;; ++i) {
                if (glob(p.substr(1), s.substr(i))) return true;
                if (i == s.size() || s[i] == '/') return false;
            }
        }
        if (s.empty()) return false;
        if (p[0] == '?') return s[0] != '/' && glob(p.substr(1), s.substr(1));
        return p[0] == s[0] && glob(p.substr(1), s.substr(1));
    };
    std::mt19937 rng(99);
    const std::string pattern_chars = "ab*?/";
    const std::string text_chars = "ab/";
    std::uniform_int_distribution<size_t> pc(0, pattern_chars.size() - 1);
    std::uniform_int_distribution<size_t> tc(0, text_chars.size() - 1);
    std::uniform_int_distribution<int> len(1, 7);
    for (int round = 0; round < 2000; ++round) {
        std::string pattern;
        for (int i = len(rng); i > 0; --i)
            pattern.push_back(pattern_chars[pc(rng)]);
        if (pattern.find("**") != std::string::npos) continue;
        const std::string cleaned = strata::go::path::clean(pattern);
        if (cleaned != pattern || pattern[0] == '/') continue;
        const DockerIgnore ig = DockerIgnore::from_patterns({pattern}, "t");
        for (int k = 0; k < 20; ++k) {
            std::string text;
            for (int i = len(rng); i > 0; --i)
                text.push_back(text_chars[tc(rng)]);
            ASSERT_EQ(ig.pattern_matches(0, text), glob(pattern, text))
                << "pattern " << pattern << " text " << text;
        }
    }
}

// DFA and NFA simulation agree on random patterns over a small alphabet.
TEST(DockerIgnoreRegex, DfaAgreesWithNfa) {
    std::mt19937 rng(2024);
    const std::vector<std::string> atoms = {"a",    "b",   "/",   "*", "**",  "?",  "[ab]",
                                            "[^a]", "\\b", "\\.", ".", "**/", "/**"};
    const std::string text_chars = "ab/.";
    std::uniform_int_distribution<size_t> atom(0, atoms.size() - 1);
    std::uniform_int_distribution<size_t> tc(0, text_chars.size() - 1);
    std::uniform_int_distribution<int> len(1, 6);
    std::uniform_int_distribution<int> text_len(0, 9);
    int compared = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string pattern;
        for (int i = len(rng); i > 0; --i)
            pattern += atoms[atom(rng)];
        if (!strata::go::path::is_valid_pattern(pattern)) continue;
        const di::Translation t = di::translate_pattern(pattern);
        if (t.kind != di::MatchKind::kRegex) continue;
        const di::Automaton dfa(di::compile_go_regex(t.regex));
        const di::Automaton nfa(di::compile_go_regex(t.regex), false);
        ASSERT_TRUE(dfa.has_dfa()) << pattern;
        ASSERT_FALSE(nfa.has_dfa());
        for (int k = 0; k < 30; ++k) {
            std::string text;
            for (int i = text_len(rng); i > 0; --i)
                text.push_back(text_chars[tc(rng)]);
            ASSERT_EQ(dfa.matches(text), nfa.matches(text)) << t.regex << " on " << text;
            ASSERT_EQ(dfa.matches_or_parent(text), nfa.matches_or_parent(text))
                << t.regex << " on " << text;
            ++compared;
        }
    }
    EXPECT_GT(compared, 10000);
}

// Literal patterns ("x", "x**", "**x") are matched on bytes by
// pattern_matches() and through automata on runes by excluded(); the two must
// agree, also with non-ASCII text and invalid UTF-8.
TEST(DockerIgnoreRegex, LiteralAutomataAgreeWithByteMatching) {
    const std::vector<std::string> pieces = {
        "a", "b", "/", "\xC3\xA9", "\xC3", "\xA9", "\xEF\xBF\xBD", "\xE2\x80\x83"};
    std::mt19937 rng(31337);
    std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1);
    std::uniform_int_distribution<int> len(1, 4);
    std::uniform_int_distribution<int> shape(0, 2);
    const auto random_text = [&](int n) {
        std::string t;
        for (int i = 0; i < n; ++i)
            t += pieces[piece(rng)];
        return t;
    };
    int compared = 0;
    for (int round = 0; round < 600; ++round) {
        const std::string lit = random_text(len(rng));
        const int sh = shape(rng);
        const std::string pattern = sh == 0 ? lit : sh == 1 ? lit + "**" : "**" + lit;
        DockerIgnore ig;
        try {
            ig = DockerIgnore::from_patterns({pattern}, "t");
        } catch (const Error&) {
            continue;
        }
        if (ig.empty()) continue;
        for (int k = 0; k < 40; ++k) {
            const std::string path = random_text(len(rng) + 1);
            if (path[0] == '/' || path.back() == '/' || path.find("//") != std::string::npos) {
                continue;
            }
            bool want = ig.pattern_matches(0, path);
            for (size_t i = path.find('/'); i != std::string::npos; i = path.find('/', i + 1)) {
                want = want || ig.pattern_matches(0, path.substr(0, i));
            }
            ASSERT_EQ(ig.excluded(path), want) << "pattern " << pattern << " path " << path;
            ++compared;
        }
    }
    EXPECT_GT(compared, 5000);
}

// Random patterns over every character with a meaning somewhere: each is
// either compiled or rejected as a parse error (never an internal error, a
// crash or a hang), and what compiles can be matched, also incrementally.
TEST(DockerIgnoreRegex, RandomPatternsCompileOrAreRejected) {
    const std::string chars = "ab/*?[]^!-\\.{}()|$+:#dpxQEz0 \xC3\xA9\xFF";
    std::mt19937 rng(4242);
    std::uniform_int_distribution<size_t> pick(0, chars.size() - 1);
    std::uniform_int_distribution<int> len(1, 10);
    int compiled = 0;
    int rejected = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string pattern;
        for (int i = len(rng); i > 0; --i)
            pattern.push_back(chars[pick(rng)]);
        try {
            const DockerIgnore ig = DockerIgnore::from_patterns({pattern}, "t");
            ++compiled;
            for (const char* path : {"a", "a/b", "ab/a\xC3\xA9", "[/]", "x/y/z"}) {
                const bool whole = ig.excluded(path);
                const std::string p = path;
                DockerIgnore::DirState dir = ig.root();
                for (size_t i = p.find('/'); i != std::string::npos; i = p.find('/', i + 1)) {
                    dir = ig.enter(dir, p.substr(0, i));
                }
                ASSERT_EQ(ig.excluded(dir, p), whole) << pattern << " on " << path;
            }
        } catch (const Error& e) {
            ASSERT_EQ(e.kind(), strata::ErrorKind::kParse) << pattern << ": " << e.what();
            ++rejected;
        }
    }
    EXPECT_GT(compiled, 1000);
    EXPECT_GT(rejected, 1000);
}

}  // namespace
