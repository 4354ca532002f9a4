// Whole .dockerignore files: the last pattern that matches a path or one of
// its parents decides, exceptions ("!") re-include.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "frontend/dockerignore.hpp"

using strata::frontend::DockerIgnore;

namespace {

struct Row {
    std::vector<std::string> lines;
    const char* path;
    bool excluded;
};

const Row kRows[] = {
    // patternmatcher's multi-pattern expectations.
    {{"**", "!util/docker/web"}, "util/docker/web/foo", false},
    {{"**", "!util/docker/web", "util/docker/web/foo"}, "util/docker/web/foo", true},
    {{"**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"},
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     false},
    {{"**", "!dist/*.whl"}, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false},
    {{"!fileutils.go", "*.go"}, "fileutils.go", true},
    {{"*.go", "!fileutils.go"}, "fileutils.go", false},
    {{"*.go", "!fileutils.go"}, "other.go", true},
    {{"docs", "!docs/README.md"}, "docs/README.md", false},
    {{"docs/", "!docs/README.md"}, "docs/README.md", false},
    {{"docs/*", "!docs/README.md"}, "docs/README.md", false},

    // A directory pattern takes everything below it.
    {{"docs", "!docs/README.md"}, "docs", true},
    {{"docs", "!docs/README.md"}, "docs/other.md", true},
    {{"docs", "!docs/README.md"}, "docs/sub/README.md", true},
    {{"node_modules"}, "node_modules/a/b/c.js", true},
    {{"node_modules"}, "src/node_modules/a.js", false},
    {{"**/node_modules"}, "src/node_modules/a.js", true},

    // Exceptions re-include inside excluded directories, and an exception
    // that names a directory re-includes its whole subtree.
    {{"a/b", "!a/b/c"}, "a/b/c", false},
    {{"a/b", "!a/b/c"}, "a/b/c/d", false},
    {{"a/b", "!a/b/c"}, "a/b/d", true},
    {{"**", "!src"}, "src/a/b.c", false},
    {{"**", "!src", "src/**/*.tmp"}, "src/a/b.tmp", true},
    {{"**", "!src", "src/**/*.tmp"}, "src/a/b.c", false},
    {{"**", "!src", "src/**/*.tmp"}, "README", true},
    {{"foo/bar", "!foo"}, "foo/bar", false},  // "!foo" matches the parent "foo"
    {{"*", "!*.md", "README*"}, "README.md", true},
    {{"*", "!*.md", "README*"}, "x.md", false},
    {{"*", "!*.md", "README*"}, "x.txt", true},
    {{"*", "!*.md", "README*"}, "d/x.md", true},  // `*.md` is top-level only

    // `**` at the start, in the middle, at the end.
    {{"**/*.log"}, "a.log", true},
    {{"**/*.log"}, "x/y/z.log", true},
    {{"**/*.log"}, "x/y/z.log.1", false},
    {{"logs/**/*.log"}, "logs/a.log", true},
    {{"logs/**/*.log"}, "logs/2024/01/a.log", true},
    {{"logs/**/*.log"}, "other/a.log", false},
    {{"build/**"}, "build", false},  // the directory itself stays
    {{"build/**"}, "build/out/x", true},
    {{"build/**", "!build/keep"}, "build/keep", false},
    {{"build/**", "!build/keep"}, "build/keep/x", false},

    // Lines are cleaned and made relative to the context root.
    {{"./a/../b"}, "b", true},
    {{"./a/../b"}, "a", false},
    {{"/abs/path"}, "abs/path", true},
    {{"//abs"}, "abs/x", true},
    {{"a//b/"}, "a/b", true},
    {{"  spaced  "}, "spaced", true},
    {{"!  /x", "x"}, "x", true},
    {{"x", "!  /x"}, "x", false},
    {{"/"}, "a", false},  // "/" stays "/" and matches no relative path
    {{"../x"}, "x", false},

    // Comments only at the very start of a line.
    {{"# comment", "x"}, "# comment", false},
    {{" # not a comment"}, "# not a comment", true},
    {{"\\#escaped"}, "#escaped", true},

    // No patterns, nothing excluded.
    {{}, "anything", false},
    {{"", "   ", "\t"}, "anything", false},
};

std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines)
        text += line + "\n";
    return text;
}

TEST(DockerIgnoreExclusion, Table) {
    for (const Row& row : kRows) {
        const DockerIgnore ig = DockerIgnore::parse(join(row.lines), ".dockerignore");
        EXPECT_EQ(ig.excluded(row.path), row.excluded)
            << "path \"" << row.path << "\" with .dockerignore:\n"
            << join(row.lines);
    }
}

TEST(DockerIgnoreExclusion, WalkerStateAgreesWithPaths) {
    for (const Row& row : kRows) {
        const std::string path = row.path;
        if (path.empty() || path[0] == '/' || path.find("//") != std::string::npos) continue;
        const DockerIgnore ig = DockerIgnore::parse(join(row.lines), ".dockerignore");
        DockerIgnore::DirState dir = ig.root();
        for (size_t slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1)) {
            const std::string parent = path.substr(0, slash);
            EXPECT_EQ(ig.excluded(dir, parent), ig.excluded(parent)) << parent;
            dir = ig.enter(dir, parent);
            EXPECT_EQ(ig.excluded(dir), ig.excluded(parent)) << parent;
        }
        EXPECT_EQ(ig.excluded(dir, path), row.excluded) << path << "\n" << join(row.lines);
    }
}

TEST(DockerIgnoreExclusion, WalkerRejectsPathsOutsideTheDirectory) {
    const DockerIgnore ig = DockerIgnore::parse("x\n", ".dockerignore");
    const DockerIgnore::DirState a = ig.enter(ig.root(), "a");
    EXPECT_THROW((void)ig.excluded(a, "b/c"), strata::Error);
    EXPECT_THROW((void)ig.excluded(a, "a/b/c"), strata::Error);  // not a direct child
    EXPECT_THROW((void)ig.enter(a, "ab"), strata::Error);
    EXPECT_THROW((void)ig.enter(ig.root(), ""), strata::Error);
    const DockerIgnore other = DockerIgnore::parse("x\n", ".dockerignore");
    EXPECT_THROW((void)other.excluded(a, "a/b"), strata::Error);
    EXPECT_THROW((void)other.subtree_excluded(a), strata::Error);
    const DockerIgnore copy = ig;  // copies share the compiled patterns
    EXPECT_FALSE(copy.excluded(a, "a/b"));
}

}  // namespace
