// Path pieces for COPY/ADD: a path's components, and BuildKit's wildcard
// detection and splitting of a source path. Go's own path rules (Clean, Base,
// Match) are in base/go/path.hpp; the destination rule is
// planner/copy_dest.hpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::executor {

// Non-empty elements of a '/'-separated path ("." elements dropped, ".." kept).
std::vector<std::string> split_path(std::string_view path);

// "/" + components joined with '/' ("/" for none).
std::string join_abs(const std::vector<std::string>& components);

// Whether a path has an unescaped '*', '?' or '[' (BuildKit's
// containsWildcards).
bool contains_wildcards(std::string_view path);

// Splits a clean path at the first element holding a wildcard: "/a/b*/c" →
// {"/a", "b*/c"}; the second part is empty when there is no wildcard.
struct WildcardSplit {
    std::string base;
    std::string pattern;
};
WildcardSplit split_wildcards(std::string_view path);

}  // namespace strata::executor
