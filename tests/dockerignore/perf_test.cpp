// Cost of matching: a typical 20-line .dockerignore against a context of
// 100,000 files, path by path and through the walker interface. Prints CPU
// ns per call;
// fails only on results that disagree or on a gross slowdown (a catastrophic
// regression such as backtracking, not a few percent).
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/dockerignore.hpp"

using strata::frontend::DockerIgnore;

namespace {

const char* const kDockerignore =
    ".git\n"
    "**/node_modules\n"
    "**/*.log\n"
    "*.md\n"
    "!README.md\n"
    "build/**\n"
    "dist\n"
    "coverage/**\n"
    "**/__pycache__\n"
    "**/*.pyc\n"
    ".env*\n"
    "**/.DS_Store\n"
    "tmp/*\n"
    "*.swp\n"
    "docs/**/*.png\n"
    "!docs/**/logo.png\n"
    "vendor\n"
    "**/target/**\n"
    ".idea\n"
    "**/*.t[em]p\n";

// A synthetic context tree: directories with 4 to 16 files and up to 4
// subdirectories, breadth first until `count` files. Returns files and
// directories.
std::vector<std::string> context_paths(size_t count) {
    const std::vector<std::string> dirs = {"src",   "lib",          "app",    "components", "utils",
                                           "test",  "docs",         "img",    "internal",   "pkg",
                                           "build", "node_modules", "target", "v2",         "api"};
    const std::vector<std::string> files = {"index.js",  "main.go",  "README.md", "x.log",
                                            "style.css", "logo.png", "a.png",     "mod.pyc",
                                            "util.ts",   "data.tmp", "Makefile",  ".DS_Store"};
    std::mt19937 rng(42);
    std::uniform_int_distribution<size_t> dir(0, dirs.size() - 1);
    std::uniform_int_distribution<size_t> file(0, files.size() - 1);
    std::uniform_int_distribution<int> num_files(4, 16);
    std::uniform_int_distribution<int> num_dirs(1, 4);
    std::vector<std::string> out;
    std::vector<std::string> queue = {""};
    size_t files_made = 0;
    for (size_t q = 0; q < queue.size() && files_made < count; ++q) {
        const std::string prefix = queue[q].empty() ? "" : queue[q] + "/";
        for (int i = num_files(rng); i > 0 && files_made < count; --i, ++files_made) {
            out.push_back(prefix + std::to_string(i) + files[file(rng)]);
        }
        for (int i = num_dirs(rng); i > 0; --i) {
            queue.push_back(prefix + dirs[dir(rng)] + std::to_string(i));
            out.push_back(queue.back());
        }
    }
    return out;
}

// CPU time of this process: steadier than wall time on a shared machine.
std::chrono::nanoseconds cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

double ns_per(std::chrono::nanoseconds d, size_t n) {
    return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(n);
}

TEST(DockerIgnorePerf, TwentyPatternsHundredThousandPaths) {
    const auto c0 = cpu_now();
    const DockerIgnore ig = DockerIgnore::parse(kDockerignore, ".dockerignore");
    const auto compile = cpu_now() - c0;
    ASSERT_EQ(ig.patterns().size(), 20u);
    std::vector<std::string> paths = context_paths(100000);  // plus directories
    std::sort(paths.begin(), paths.end());                   // the order of a depth-first walk
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());

    // Path by path.
    size_t excluded_by_path = 0;
    auto t0 = cpu_now();
    for (const std::string& p : paths)
        excluded_by_path += ig.excluded(p) ? 1 : 0;
    const auto by_path = cpu_now() - t0;

    // As a walker does: a stack of DirStates for the current directory and
    // its parents, each directory entered once, each file matched by name.
    size_t excluded_by_walk = 0;
    size_t entered = 0;
    std::vector<DockerIgnore::DirState> stack;
    t0 = cpu_now();
    stack.push_back(ig.root());
    for (const std::string& p : paths) {
        const size_t slash = p.rfind('/');
        const std::string_view parent =
            std::string_view(p).substr(0, slash == std::string::npos ? 0 : slash);
        while (stack.size() > 1 &&
               !(parent == stack.back().path() || (parent.size() > stack.back().path().size() &&
                                                   parent.starts_with(stack.back().path()) &&
                                                   parent[stack.back().path().size()] == '/'))) {
            stack.pop_back();
        }
        while (stack.back().path().size() < parent.size()) {
            const size_t from = stack.back().path().empty() ? 0 : stack.back().path().size() + 1;
            const size_t end = std::min(parent.find('/', from), parent.size());
            stack.push_back(ig.enter(stack.back(), parent.substr(0, end)));
            ++entered;
        }
        excluded_by_walk += ig.excluded(stack.back(), p) ? 1 : 0;
    }
    const auto by_walk = cpu_now() - t0;

    EXPECT_EQ(excluded_by_walk, excluded_by_path);
    EXPECT_GT(excluded_by_path, paths.size() / 10);  // the set is not trivial
    EXPECT_LT(excluded_by_path, paths.size());

    std::printf(
        "[ measured ] parse: %.0f us; excluded(path): %.0f ns/call; walk with DirState: "
        "%.0f ns/file (%zu enter() calls included); %zu of %zu paths excluded\n",
        std::chrono::duration<double, std::micro>(compile).count(), ns_per(by_path, paths.size()),
        ns_per(by_walk, paths.size()), entered, excluded_by_path, paths.size());
    // Generous bound (shared, possibly sanitized CI machines): catches only
    // an order-of-magnitude regression.
    EXPECT_LT(ns_per(by_path, paths.size()), 20000.0);
}

TEST(DockerIgnorePerf, PathologicalPatternsStayLinear) {
    // Deeply nested `**` and `?` sequences and many stars: a backtracking
    // matcher takes exponential time on these; the automaton must not.
    std::string nasty = "**/a";
    for (int i = 0; i < 24; ++i)
        nasty += "/**/?";
    const auto c0 = cpu_now();
    const DockerIgnore ig = DockerIgnore::from_patterns({nasty, "*a*a*a*a*a*a*a*a*a*a*a*b"}, "t");
    const auto compile = cpu_now() - c0;
    std::string deep;
    for (int i = 0; i < 200; ++i)
        deep += (i ? "/a" : "a");
    const std::string flat(3000, 'a');
    const auto t0 = cpu_now();
    size_t hits = 0;
    for (int i = 0; i < 10; ++i) {
        hits += ig.pattern_matches(0, deep) ? 1 : 0;
        hits += ig.excluded(deep) ? 1 : 0;
        hits += ig.excluded(flat) ? 1 : 0;
    }
    const auto elapsed = cpu_now() - t0;
    EXPECT_EQ(hits, 20u);  // `deep` matches the first pattern, `flat` nothing
    std::printf("[ measured ] pathological patterns: compile %.1f ms, %.1f us per call\n",
                std::chrono::duration<double, std::milli>(compile).count(),
                ns_per(elapsed, 30) / 1000.0);
    EXPECT_LT(std::chrono::duration<double>(elapsed + compile).count(), 10.0);
}

}  // namespace
