// Path helpers with the exact semantics of the Go functions Docker's COPY
// rules are written in: path.Clean, path.Base, filepath.Match, and the
// wildcard splitting and destination normalization BuildKit applies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::executor {

// Go's path.Clean: collapses "//", drops "." elements, resolves ".." lexically
// ("/.." stays "/"), "" becomes ".".
std::string clean_path(std::string_view path);

// Go's path.Base: the last element after dropping trailing slashes; "" → ".",
// all slashes → "/".
std::string base_name(std::string_view path);

// Non-empty elements of a '/'-separated path ("." elements dropped, ".." kept).
std::vector<std::string> split_path(std::string_view path);

// "/" + components joined with '/' ("/" for none).
std::string join_abs(const std::vector<std::string>& components);

// Go's filepath.Match on Linux: '*' matches any run of non-'/' characters,
// '?' one non-'/' character, "[...]" a class ('^' negates, ranges, '\'
// escapes), '\' escapes the next character. The whole name must match.
// A malformed pattern matches nothing and sets *bad (when given).
bool match_pattern(std::string_view pattern, std::string_view name, bool* bad = nullptr);

// Whether a path has an unescaped '*', '?' or '['.
bool contains_wildcards(std::string_view path);

// Splits a clean path at the first element holding a wildcard: "/a/b*/c" →
// {"/a", "b*/c"}; the second part is empty when there is no wildcard.
struct WildcardSplit {
    std::string base;
    std::string pattern;
};
WildcardSplit split_wildcards(std::string_view path);

// A COPY/ADD destination made absolute against `workdir`, as BuildKit does
// (pathRelativeToWorkingDir + system.NormalizePath with keepSlash): joined and
// cleaned, a trailing '/' kept, a trailing "/." kept as "/.", and "" or "."
// meaning the working directory itself as a directory ("<workdir>/").
std::string normalize_dest(std::string_view workdir, std::string_view dest);

// Whether a normalized destination names a directory by its spelling
// (ends with '/' or "/.").
bool dest_is_dir_syntax(std::string_view normalized_dest);

}  // namespace strata::executor
