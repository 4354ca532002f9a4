// Go's `path` package (slash-separated paths, which is also what
// path/filepath does on Linux): Clean, Base, Join and the wildcard matcher
// Match. Dockerfile COPY sources, .dockerignore patterns, WORKDIR and COPY
// destinations are all defined in terms of these.
#pragma once

#include <string>
#include <string_view>

namespace strata::go::path {

// path.Clean: the shortest lexically equal path. "//" becomes "/", "."
// elements go, "x/.." pairs fold, ".." at the root is dropped ("/.." is "/"),
// a relative path keeps its leading ".."s, no trailing slash except for "/",
// and an empty result is ".".
std::string clean(std::string_view path);

// path.Base: the last element, trailing slashes ignored; "" → ".", a path of
// only slashes → "/".
std::string base(std::string_view path);

// path.Join of two elements: the non-empty ones joined with '/' and cleaned;
// "" when both are empty.
std::string join(std::string_view a, std::string_view b);

// path.Match / filepath.Match on Linux.
//   '*'      any run of non-'/' characters     '?'  one non-'/' character
//   '[...]'  a class: '^' negates, lo-hi ranges, '\' escapes; may match '/'
//   '\c'     the character c
// The whole name must match. A malformed pattern (unclosed or empty class,
// bad range, invalid UTF-8 in a class, trailing '\') gives kBadPattern for
// every name, as Go does since 1.16 (ErrBadPattern even when an earlier part
// already failed to match). Runs in O(len(pattern) * len(name)): Go matches
// the pattern chunk by chunk (a chunk is the text between stars) and tries
// each star's positions for its own chunk only, never backtracking into an
// earlier star.
enum class MatchResult { kNoMatch, kMatch, kBadPattern };
MatchResult match(std::string_view pattern, std::string_view name);

// Whether `pattern` is well formed: match(pattern, "") != kBadPattern.
bool is_valid_pattern(std::string_view pattern);

}  // namespace strata::go::path
