// Runs BuildKit's parser corpus (../shared/conformance/buildkit-parser):
// every positive case must dump exactly its `result`; every negative case
// must fail with a located ParseError. Prints the pass counts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "conformance_dir.hpp"
#include "frontend/node.hpp"

namespace fs = std::filesystem;
using namespace strata::frontend;

namespace {

const fs::path kCorpus = conformance_dir() / "buildkit-parser";

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<fs::path> cases(const char* dir) {
    std::vector<fs::path> out;
    if (!fs::is_directory(kCorpus / dir)) return out;
    for (const auto& e : fs::directory_iterator(kCorpus / dir))
        out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(BuildkitParserConformance, PositiveCasesDumpExactly) {
    const auto all = cases("testfiles");
    if (all.empty())
        GTEST_SKIP() << "conformance corpus not found at " << kCorpus
                     << " (set STRATA_CONFORMANCE_DIR)";
    int passed = 0;
    for (const fs::path& dir : all) {
        const std::string expected = read_file(dir / "result");
        std::string actual;
        try {
            ParsedDockerfile df = parse_dockerfile(read_file(dir / "Dockerfile"), "Dockerfile");
            actual = dump_tree(df) + "\n";
        } catch (const ParseError& e) {
            actual = std::string("error: ") + e.what();
        }
        if (actual == expected) {
            ++passed;
        } else {
            ADD_FAILURE() << dir.filename() << ":\n--- expected\n"
                          << expected << "--- actual\n"
                          << actual;
        }
    }
    std::cout << "buildkit-parser testfiles: " << passed << "/" << all.size() << " passed\n";
    EXPECT_EQ(passed, static_cast<int>(all.size()));
}

TEST(BuildkitParserConformance, NegativeCasesFailWithLocation) {
    const auto all = cases("testfiles-negative");
    if (all.empty())
        GTEST_SKIP() << "conformance corpus not found at " << kCorpus
                     << " (set STRATA_CONFORMANCE_DIR)";
    int passed = 0;
    for (const fs::path& dir : all) {
        try {
            parse_dockerfile(read_file(dir / "Dockerfile"), "Dockerfile");
            ADD_FAILURE() << dir.filename() << ": parsed, but must fail";
        } catch (const ParseError& e) {
            EXPECT_EQ(e.diagnostic().file, "Dockerfile");
            EXPECT_FALSE(e.diagnostic().message.empty());
            ++passed;
        }
    }
    std::cout << "buildkit-parser testfiles-negative: " << passed << "/" << all.size()
              << " passed\n";
    EXPECT_EQ(passed, static_cast<int>(all.size()));
}

}  // namespace
