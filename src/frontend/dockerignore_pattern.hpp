// Internal to the .dockerignore matcher: one pattern, compiled and matched the
// way moby/patternmatcher does (its New() and Pattern.match).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "frontend/dockerignore_automaton.hpp"
#include "frontend/dockerignore_go.hpp"

namespace strata::frontend::dockerignore_detail {

struct CompiledPattern {
    std::string text;  // cleaned, without the leading '!'
    bool exception = false;
    MatchKind kind = MatchKind::kExact;
    // kExact: the pattern; kPrefix: without the trailing "**"; kSuffix:
    // without the leading "**".
    std::string literal;
    // kRegex, and literal kinds whose literal is valid UTF-8 without U+FFFD.
    std::optional<Automaton> automaton;
    // Starts with "**": may match below any directory (others are anchored at
    // the context root and mostly die after the first path elements).
    bool floating = false;

    const Automaton* dfa() const {
        return automaton && automaton->has_dfa() ? &*automaton : nullptr;
    }

    // The pattern matches `path` itself.
    bool matches(std::string_view path) const;
    // ... or one of its parents (the prefixes ending before a '/').
    bool matches_or_parent(std::string_view path) const;

    // Questions about what lies below a directory `dir` that the pattern
    // does not match (nor a parent of it). `state` is the DFA state after
    // "<dir>/" (DFA patterns only).
    // Every child of dir matches (so everything below does). Errs on no.
    bool matches_all_below(std::string_view dir, uint32_t state) const;
    // Some path below dir could match. Errs on yes.
    bool could_match_below(std::string_view dir, uint32_t state) const;
};

// patternmatcher.New for one pattern: trims, cleans, splits off '!', checks
// the glob syntax and compiles. nullopt for a blank pattern. Throws
// strata::Error(kParse) on what Docker rejects, including regexps Go cannot
// compile (Docker reports those when the pattern is first used); the message
// has no location ("invalid pattern \"[\": syntax error in pattern").
std::optional<CompiledPattern> compile_pattern(std::string_view entry);

// Whether `s` starts with `dir` + "/".
inline bool starts_with_dir(std::string_view s, std::string_view dir) {
    return s.size() > dir.size() && s.starts_with(dir) && s[dir.size()] == '/';
}

}  // namespace strata::frontend::dockerignore_detail
