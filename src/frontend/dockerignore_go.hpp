// Internal to the .dockerignore matcher: how moby/patternmatcher turns a
// pattern into a Go regular expression, re-implemented from its documented and
// observed behaviour. The Go standard-library rules it relies on (UTF-8
// decoding, strings.TrimSpace, filepath.Clean, filepath.Match's syntax check)
// live in base/go/.
#pragma once

#include <string>
#include <string_view>

namespace strata::frontend::dockerignore_detail {

// How patternmatcher matches one (cleaned) pattern.
enum class MatchKind {
    kExact,   // path == pattern
    kPrefix,  // "X**": path starts with X
    kSuffix,  // "**X": path ends with X, or "**/X" also matches "X"
    kRegex,   // everything else: the translated Go regular expression
};

struct Translation {
    MatchKind kind = MatchKind::kExact;
    std::string regex;  // Go regexp syntax; meaningful for kRegex only
};

// patternmatcher's compile(): turns a cleaned pattern into a match kind and a
// Go regular expression, character for character as Docker does (including
// its quirks: the class contents are translated too, `**` eats one `/`).
Translation translate_pattern(std::string_view pattern);

}  // namespace strata::frontend::dockerignore_detail
