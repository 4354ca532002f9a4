// .dockerignore: which files of the build context a build does not see.
//
// The semantics are Docker's (BuildKit's dockerui reading the file with
// moby/patternmatcher's ignorefile, then matching with patternmatcher):
//
// - Lines are split on '\n' (a trailing '\r' is dropped); a UTF-8 BOM on the
//   first line is dropped; a line whose first byte is '#' is a comment; other
//   lines are trimmed of Unicode white space and blank ones are skipped.
// - A line starting with '!' is an exception (it re-includes); each pattern
//   is cleaned like Go's filepath.Clean ("./a/../b" → "b", "dir/" → "dir")
//   and a leading '/' is dropped: patterns are relative to the context root.
// - Pattern syntax is Go's filepath.Match (`*` and `?` do not cross '/',
//   `[a-z]`, `[^a-z]`, `\` escapes) plus `**`, which matches any number of
//   directories including none. Exactly as in Docker, a pattern is matched by
//   translating it to a Go regular expression, quirks included: `[!a]` is
//   not a negation, "**foo" is a plain suffix test (it matches "afoo"),
//   `\d` inside a pattern is a digit, `*` or `?` inside brackets produce odd
//   classes. A pattern Docker would reject (bad syntax, a lone "!", a
//   regexp that Go cannot compile such as "[z-a]") is an error naming the
//   file and line. Unlike Docker, Unicode classes in escapes (`\pL`) are
//   rejected too, as strata has no Unicode tables.
// - A path is excluded when the last pattern that matches the path or one of
//   its parent directories is not an exception (patternmatcher's
//   MatchesOrParentMatches). So "!dir/keep" after "dir" re-includes
//   dir/keep, and "**" then "!src" keeps the whole src tree.
//
// Paths given to the matcher are relative to the context root, '/'-separated,
// clean (no "." or ".." elements, no doubled or trailing '/'), without a
// leading "./". The empty path and "." (the root itself) are never excluded.
//
// Patterns are compiled once into DFAs, and the DFAs into a few product
// automata, so matching reads a path once whatever the number of patterns and
// allocates nothing. A walker that keeps a DirState per directory reads only
// each entry's name.
//
// A DockerIgnore is immutable and cheap to copy; all methods are const and
// safe to call from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend {

class DockerIgnore {
  public:
    struct Pattern {
        std::string text;        // cleaned, without the leading '!' ("build", "**/*.o")
        bool exception = false;  // a "!" line: re-includes what earlier lines excluded
        size_t line = 0;         // 1-based line in the source (position in from_patterns)
    };

    // Match state of one directory, for walkers: which patterns match the
    // directory or one of its parents, and how far the pattern automata got
    // through "<dir>/", so that entries of the directory are matched by
    // reading their own name only.
    class DirState {
      public:
        const std::string& path() const { return path_; }

      private:
        friend class DockerIgnore;
        std::string path_;
        std::vector<uint32_t> group_states_;  // automaton state after "<path>/", per group
        std::vector<uint8_t> hits_;           // per pattern: matches path or a parent
        ptrdiff_t last_hit_ = -1;             // highest pattern index in hits_
        const void* owner_ = nullptr;         // the matcher that made it
    };

    DockerIgnore();  // no patterns: excludes nothing

    // Parses the text of an ignore file. `source_name` (the file's path)
    // prefixes error messages: ".dockerignore:3: invalid pattern ...".
    // Throws strata::Error(kParse).
    static DockerIgnore parse(std::string_view text, std::string_view source_name);

    // Compiles a list of patterns as patternmatcher.New does (as for
    // `COPY --exclude`): no comments, and a leading '/' is not removed.
    static DockerIgnore from_patterns(const std::vector<std::string>& patterns,
                                      std::string_view source_name);

    bool empty() const;
    bool has_exceptions() const;
    const std::vector<Pattern>& patterns() const;
    const std::string& source() const;

    // Whether `rel_path` is left out of the build context.
    bool excluded(std::string_view rel_path) const;

    // Whether every path strictly beneath the directory `rel_dir` is
    // excluded, so a walker need not list it. The directory itself may still
    // be part of the context: with "dir/**", "dir" stays (as an empty
    // directory) while all of its contents go. Conservative: it may say no
    // for a subtree that happens to be fully excluded, never the reverse.
    bool subtree_excluded(std::string_view rel_dir) const;

    // Whether a walker may skip `rel_dir` entirely: it is excluded and no
    // exception pattern could re-include anything beneath it
    // (excluded(rel_dir) && subtree_excluded(rel_dir)).
    bool can_skip_dir(std::string_view rel_dir) const;

    // Whether pattern `index` on its own matches `path` exactly (parents not
    // considered): patternmatcher's Pattern.match.
    bool pattern_matches(size_t index, std::string_view path) const;

    // --- Incremental interface for a depth-first walk of the context:
    //   DirState root = ig.root();
    //   for each entry "a/b" of "a": ig.excluded(dir_a, "a/b");
    //   for a subdirectory: DirState sub = ig.enter(dir_a, "a/b");
    //                       ig.excluded(sub) says whether "a/b" itself goes,
    //                       ig.subtree_excluded(sub) whether to descend.
    // Results equal those of the path-based functions. A DirState works only
    // with the matcher (or a copy) that made it, and `rel_path` must be a
    // direct child of its path; otherwise kInternal is thrown.
    DirState root() const;
    DirState enter(const DirState& parent, std::string_view rel_dir) const;
    bool excluded(const DirState& parent, std::string_view rel_path) const;
    bool excluded(const DirState& dir) const;
    bool subtree_excluded(const DirState& dir) const;
    bool can_skip(const DirState& dir) const;

  private:
    struct Impl;  // defined in dockerignore.cpp
    explicit DockerIgnore(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

// The ignore file Docker would read for a build: "<dockerfile>.dockerignore"
// (e.g. build/app.Dockerfile.dockerignore for -f build/app.Dockerfile) when it
// exists, else "<context_dir>/.dockerignore" when it exists, else none. Only
// regular files (or symlinks to them) count. An empty `dockerfile` (Dockerfile
// from stdin) skips the first candidate. Throws strata::Error(kSystem) when a
// candidate cannot be inspected (e.g. permission denied).
std::optional<std::filesystem::path> find_ignore_file(const std::filesystem::path& context_dir,
                                                      const std::filesystem::path& dockerfile);

// Reads and parses an ignore file; errors name the file (and line).
DockerIgnore read_ignore_file(const std::filesystem::path& file);

// find_ignore_file + read_ignore_file; no file gives an empty DockerIgnore.
DockerIgnore load_dockerignore(const std::filesystem::path& context_dir,
                               const std::filesystem::path& dockerfile);

}  // namespace strata::frontend
