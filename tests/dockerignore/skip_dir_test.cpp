// Skipping directories: subtree_excluded / can_skip_dir must never let a
// walker skip a directory under which something would be included.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "frontend/dockerignore.hpp"

using strata::frontend::DockerIgnore;

namespace {

std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines)
        text += line + "\n";
    return text;
}

struct Row {
    std::vector<std::string> lines;
    const char* dir;
    bool excluded;
    bool subtree;   // subtree_excluded
    bool can_skip;  // can_skip_dir
};

const Row kRows[] = {
    {{"node_modules"}, "node_modules", true, true, true},
    {{"node_modules"}, "src", false, false, false},
    {{"node_modules", "!node_modules/keep"}, "node_modules", true, false, false},
    {{"node_modules", "!node_modules/keep"}, "node_modules/other", true, true, true},
    {{"node_modules", "!**/keep"}, "node_modules", true, false, false},
    {{"node_modules", "!**/*.md"}, "node_modules", true, false, false},
    {{"node_modules", "!*.md"}, "node_modules", true, true, true},  // top level only
    {{"node_modules", "!node_modules/**/*.md"}, "node_modules", true, false, false},
    {{"node_modules", "!node_*/x"}, "node_modules", true, false, false},
    {{"node_modules", "!other/x"}, "node_modules", true, true, true},
    {{"!keep/**", "build"}, "build", true, true, true},  // the exception comes first
    {{"build", "!build/**"}, "build", true, false, false},
    {{"build", "!buil*"}, "build", false, false, false},  // the exception matches build
    {{"a", "!a/b/c"}, "a", true, false, false},
    {{"a", "!a/b/c"}, "a/b", true, false, false},
    {{"a", "!a/b/c"}, "a/x", true, true, true},
    {{"a", "!a/b/c"}, "a/b/c", false, false, false},
    {{"**"}, "x", true, true, true},
    {{"**", "!**/*.go"}, "x", true, false, false},
    {{"**", "!src"}, "src", false, false, false},
    {{"**", "!src"}, "docs", true, true, true},
    {{"*/tmp"}, "x/tmp", true, true, true},
    {{"*/tmp"}, "x", false, false, false},
    // "dir/**" keeps the directory itself but excludes all of its contents.
    {{"dir/**"}, "dir", false, true, false},
    {{"dir/**", "!dir/keep"}, "dir", false, false, false},
    {{"dir/**", "!dir"}, "dir", false, false, false},
    {{"dir/**/*"}, "dir", false, true, false},
    {{"dir/*"}, "dir", false, true, false},  // every child goes, so everything below
    {{"dir/*", "!dir/*/keep"}, "dir", false, false, false},
    {{"dir/?"}, "dir", false, false, false},      // "dir/ab" stays
    {{"dir/[^x]*"}, "dir", false, false, false},  // "dir/x" stays
    {{"dir/*"}, "dir/x", true, true, true},
    {{"**/.git"}, "a/.git", true, true, true},
    {{"**/.git", "!**/.git/config"}, "a/.git", true, false, false},
    {{"x", "!y", "!z"}, "x", true, true, true},
};

TEST(DockerIgnoreSkip, Table) {
    for (const Row& row : kRows) {
        const DockerIgnore ig = DockerIgnore::parse(join(row.lines), ".dockerignore");
        const std::string where = std::string("dir \"") + row.dir + "\" with\n" + join(row.lines);
        EXPECT_EQ(ig.excluded(row.dir), row.excluded) << where;
        EXPECT_EQ(ig.subtree_excluded(row.dir), row.subtree) << where;
        EXPECT_EQ(ig.can_skip_dir(row.dir), row.can_skip) << where;
    }
}

TEST(DockerIgnoreSkip, RootIsNeverSkipped) {
    const DockerIgnore ig = DockerIgnore::parse("**\n", ".dockerignore");
    EXPECT_FALSE(ig.can_skip_dir(""));
    EXPECT_FALSE(ig.subtree_excluded("."));
    EXPECT_FALSE(ig.can_skip(ig.root()));
}

// A small context tree: every path up to depth 4 over a few names.
std::vector<std::string> tree_paths() {
    // "n\nl": Go's '.' does not match a newline, `[^/]` does.
    const std::vector<std::string> names = {"a",    "b",    "keep", "node_modules",
                                            "x.go", "n\nl", ".git"};
    std::vector<std::string> out;
    std::vector<std::string> level = {""};
    for (int depth = 0; depth < 4; ++depth) {
        std::vector<std::string> next;
        for (const std::string& parent : level) {
            for (const std::string& name : names) {
                next.push_back(parent.empty() ? name : parent + "/" + name);
            }
        }
        out.insert(out.end(), next.begin(), next.end());
        level = std::move(next);
    }
    return out;
}

TEST(DockerIgnoreSkip, NeverSkipsWhatIsIncludedBelow) {
    const std::vector<std::string> pool = {
        "node_modules",
        "!node_modules/keep",
        "**/keep",
        "!**/keep",
        "a",
        "!a/b",
        "a/**",
        "!a/**/y.md",
        "*.go",
        "!*.go",
        "**/*.go",
        "!**/*.go",
        "b/*",
        "!b/keep/**",
        "**",
        "!a",
        "*/a",
        "!*/a/keep",
        "**/.git",
        "!.git/keep",
        "a/b/keep",
        "!a/b",
        "keep/**",
        "!keep",
        "b/**/x.go",
        "!b/a",
        "a?",
        "!?",
        "[ab]",
        "![ab]/keep",
        "a**",
        "!**md",
        "node_*",
        "!node*/a",
        "x.go",
        "!**/a/**",
        "a/**/*",
        "!a/**/keep",
        "*/**/*.go",
        "!n?l",
        "**/n*",
        "b/**",
    };
    const std::vector<std::string> paths = tree_paths();
    std::mt19937 rng(12345);
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    std::uniform_int_distribution<int> count(1, 6);
    int skippable_dirs = 0;
    int kept_dirs_with_excluded_contents = 0;
    for (int round = 0; round < 150; ++round) {
        std::vector<std::string> lines;
        const int n = count(rng);
        for (int i = 0; i < n; ++i)
            lines.push_back(pool[pick(rng)]);
        const DockerIgnore ig = DockerIgnore::parse(join(lines), ".dockerignore");
        for (const std::string& dir : paths) {
            if (dir.size() > 16) continue;  // keep the quadratic check small
            const bool subtree = ig.subtree_excluded(dir);
            const bool skip = ig.can_skip_dir(dir);
            EXPECT_EQ(skip, subtree && ig.excluded(dir));
            if (!subtree) continue;
            if (skip) ++skippable_dirs;
            if (!ig.excluded(dir)) ++kept_dirs_with_excluded_contents;
            const std::string prefix = dir + "/";
            for (const std::string& p : paths) {
                if (p.compare(0, prefix.size(), prefix) == 0) {
                    ASSERT_TRUE(ig.excluded(p)) << "subtree_excluded(\"" << dir << "\") but \"" << p
                                                << "\" is included with\n"
                                                << join(lines);
                }
            }
        }
    }
    // The check above is only meaningful if skipping happens.
    EXPECT_GT(skippable_dirs, 500);
    EXPECT_GT(kept_dirs_with_excluded_contents, 10);
}

TEST(DockerIgnoreSkip, WalkerStateAgreesWithPathFunctions) {
    const std::vector<std::vector<std::string>> files = {
        {"node_modules", "!node_modules/keep"}, {"**", "!a", "a/**/*.go", "!a/b/keep"},
        {"*/keep", "!b/**", "b/**/y.md"},       {"a/**", "![ab]/keep", "**/.git"},
        {"a?", "!?", "**md", "!a/**/keep/**"},
    };
    // Depth-first walk with DirState, compared with the path-based answers.
    for (const auto& lines : files) {
        const DockerIgnore ig = DockerIgnore::parse(join(lines), ".dockerignore");
        const std::vector<std::string> names = {"a", "b", "keep", "node_modules", "y.md", ".git"};
        std::vector<std::pair<DockerIgnore::DirState, int>> stack = {{ig.root(), 0}};
        int checked = 0;
        while (!stack.empty()) {
            auto [dir, depth] = std::move(stack.back());
            stack.pop_back();
            for (const std::string& name : names) {
                const std::string path = dir.path().empty() ? name : dir.path() + "/" + name;
                ASSERT_EQ(ig.excluded(dir, path), ig.excluded(path)) << path;
                ++checked;
                if (depth < 3) {
                    DockerIgnore::DirState sub = ig.enter(dir, path);
                    ASSERT_EQ(ig.excluded(sub), ig.excluded(path)) << path;
                    ASSERT_EQ(ig.subtree_excluded(sub), ig.subtree_excluded(path)) << path;
                    ASSERT_EQ(ig.can_skip(sub), ig.can_skip_dir(path)) << path;
                    stack.emplace_back(std::move(sub), depth + 1);
                }
            }
        }
        EXPECT_GT(checked, 1000);
    }
}

}  // namespace
