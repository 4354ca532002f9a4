// libFuzzer target for the .dockerignore matcher (src/frontend/dockerignore*).
//
// Input: the text of an ignore file, then optionally a NUL byte and paths to
// match, one per line. Paths are cleaned into the form the matcher requires
// (relative, no ".", "..", empty or trailing elements); with none given, the
// cleaned pattern texts and a few fixed paths are matched instead.
//
// Besides "no crash, no hang, only Error(kParse) for a bad file", every answer
// of the combined product automata is checked against the per-pattern
// matchers (Docker's rule: the last pattern matching the path or one of its
// parents decides), the incremental DirState walk against the path-based
// calls, and subtree_excluded() for soundness on every path beneath.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "frontend/dockerignore.hpp"

namespace {

using strata::frontend::DockerIgnore;

[[noreturn]] void fail(const char* what, std::string_view path) {
    std::fprintf(stderr, "dockerignore_fuzzer: %s for path '%.*s'\n", what,
                 static_cast<int>(path.size()), path.data());
    std::abort();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find(sep, i);
        if (j == std::string_view::npos) j = s.size();
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

// The elements of a path the matcher accepts: no empty, "." or ".." ones.
std::vector<std::string> clean_elements(std::string_view s) {
    std::vector<std::string> out;
    for (std::string_view e : split(s, '/'))
        if (!e.empty() && e != "." && e != "..") out.emplace_back(e);
    return out;
}

std::string join(const std::vector<std::string>& elems, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if (i) out += '/';
        out += elems[i];
    }
    return out;
}

// patternmatcher.MatchesOrParentMatches, from the single-pattern matchers.
bool reference_excluded(const DockerIgnore& ig, const std::vector<std::string>& elems) {
    const auto& patterns = ig.patterns();
    for (size_t i = patterns.size(); i-- > 0;) {
        for (size_t n = elems.size(); n >= 1; --n) {
            if (ig.pattern_matches(i, join(elems, n))) return !patterns[i].exception;
        }
    }
    return false;
}

void check_path(const DockerIgnore& ig, const std::vector<std::string>& elems) {
    if (elems.empty()) return;
    const std::string path = join(elems, elems.size());
    const bool excluded = ig.excluded(path);
    if (excluded != reference_excluded(ig, elems))
        fail("excluded() disagrees with the per-pattern matchers", path);

    // The same walk a context walker does, checking every ancestor directory.
    DockerIgnore::DirState dir = ig.root();
    if (ig.subtree_excluded(dir) && !excluded) fail("root subtree_excluded but path kept", path);
    for (size_t n = 1; n < elems.size(); ++n) {
        const std::string dir_path = join(elems, n);
        if (ig.excluded(dir, dir_path) != ig.excluded(dir_path))
            fail("excluded(parent, dir) differs from excluded(dir)", dir_path);
        dir = ig.enter(dir, dir_path);
        const bool dir_excluded = ig.excluded(dir);
        const bool dir_subtree = ig.subtree_excluded(dir);
        if (dir_excluded != ig.excluded(dir_path))
            fail("excluded(DirState) differs from excluded(path)", dir_path);
        if (dir_subtree != ig.subtree_excluded(dir_path))
            fail("subtree_excluded(DirState) differs from subtree_excluded(path)", dir_path);
        if (ig.can_skip(dir) != (dir_excluded && dir_subtree) ||
            ig.can_skip_dir(dir_path) != (dir_excluded && dir_subtree))
            fail("can_skip differs from excluded && subtree_excluded", dir_path);
        if (dir_subtree && !excluded) fail("subtree_excluded(ancestor) but path kept", path);
    }
    if (ig.excluded(dir, path) != excluded) fail("excluded(parent, path) differs", path);
}

void check(const DockerIgnore& ig, std::string_view paths_text, bool have_paths) {
    if (have_paths) {
        for (std::string_view line : split(paths_text, '\n'))
            check_path(ig, clean_elements(line));
        return;
    }
    for (const auto& p : ig.patterns())
        check_path(ig, clean_elements(p.text));
    for (const char* p : {"a", "a/b", "a/b/c", "Dockerfile", ".git/x", "node_modules/x/y.js"})
        check_path(ig, clean_elements(p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view text = input.substr(0, nul);
    const bool have_paths = nul != std::string_view::npos;
    const std::string_view paths = have_paths ? input.substr(nul + 1) : std::string_view();

    try {
        check(DockerIgnore::parse(text, ".dockerignore"), paths, have_paths);
    } catch (const strata::Error& e) {
        if (e.kind() != strata::ErrorKind::kParse) throw;
    }
    // The same lines as COPY --exclude patterns (no comments, '/' kept).
    std::vector<std::string> lines;
    for (std::string_view line : split(text, '\n'))
        lines.emplace_back(line);
    try {
        check(DockerIgnore::from_patterns(lines, "--exclude"), paths, have_paths);
    } catch (const strata::Error& e) {
        if (e.kind() != strata::ErrorKind::kParse) throw;
    }
    return 0;
}
