// Internal to the .dockerignore matcher: a parser for Go regular expressions
// (regexp/syntax with the Perl flags regexp.Compile uses) that compiles them
// into a Thompson NFA program.
//
// It covers what patternmatcher's glob translation can produce — literals,
// escapes (\x41, \101, \n, \Q..\E ...), classes with ranges, negation, POSIX
// [:name:] and Perl \d\s\w groups, `.`, `^`, `$`, \A \z \b \B, groups and the
// * + ? repetitions — and rejects, with Go's error texts, what Go rejects.
// Unicode classes (\pL, \p{Greek}) are not supported and are reported as
// errors. Alternation and counted repetition cannot come out of the
// translation (`|`, `{` are always escaped) and are reported as internal
// errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend::dockerignore_detail {

struct RuneRange {
    char32_t lo;
    char32_t hi;
};
using RuneClass = std::vector<RuneRange>;  // sorted, disjoint, non-adjacent

bool class_contains(const RuneClass& cls, char32_t r);

enum EmptyFlag : uint8_t {
    kBeginText = 1,
    kEndText = 2,
    kWordBoundary = 4,
    kNoWordBoundary = 8,
};

enum class InstOp : uint8_t {
    kRunes,  // consume one rune in classes[cls], then go to out
    kSplit,  // go to out and out1
    kEmpty,  // zero-width assertion `empty` (0 = plain jump), then go to out
    kMatch,
};

struct Inst {
    InstOp op = InstOp::kMatch;
    uint8_t empty = 0;
    uint32_t out = 0;
    uint32_t out1 = 0;
    uint32_t cls = 0;
};

struct Program {
    std::vector<Inst> insts;
    std::vector<RuneClass> classes;
    uint32_t start = 0;
    bool uses_word_boundary = false;
};

// Parses and compiles `regex`. Throws strata::Error(kParse) with Go's message
// ("error parsing regexp: invalid character class range: `z-a`") when Go's
// regexp.Compile would fail.
Program compile_go_regex(std::string_view regex);

// Programs equivalent to patternmatcher's literal match kinds on `literal`
// (runes): exact "L", prefix "L**" (L then anything) and suffix "**L" (ends
// with L, or equals L without its leading '/').
enum class LiteralShape { kExact, kPrefix, kSuffix };
Program literal_program(std::u32string_view literal, LiteralShape shape);

// Go's syntax.IsWordChar: [0-9A-Za-z_].
bool is_word_rune(char32_t r);

}  // namespace strata::frontend::dockerignore_detail
