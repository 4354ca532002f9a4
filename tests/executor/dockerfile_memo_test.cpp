// The kept parse of a Dockerfile (executor/dockerfile_memo.hpp): made on the
// first build, read instead of parsing on the next, a miss when unreadable
// (and then made again), never kept for a Dockerfile that fails to parse,
// and one per name.
#include "executor/dockerfile_memo.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/build_id.hpp"
#include "base/temp_dir.hpp"
#include "frontend/ast_binary.hpp"
#include "frontend/diagnostic.hpp"

namespace strata::executor {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        out.push_back(it->path());
    return out;
}

void write(const fs::path& p, const std::string& s) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

const std::string kText = "FROM busybox\nRUN echo hi \\\n\n  there\n";

TEST(DockerfileMemo, KeptOnTheFirstParseAndReadOnTheNext) {
    if (binary_build_id().empty()) GTEST_SKIP() << "this test binary has no GNU build ID";
    auto tmp = TempDir::create(fs::temp_directory_path(), "dockerfile-memo-");
    const fs::path dir = tmp.path() / "parsed";  // made on the first write
    const frontend::Dockerfile first = load_dockerfile_memoized(dir, kText, "Dockerfile");
    EXPECT_TRUE(first == frontend::load_dockerfile(kText, "Dockerfile"));
    EXPECT_FALSE(first.warnings.empty());  // the empty continuation line: kept with the AST
    const auto kept = files_in(dir);
    ASSERT_EQ(kept.size(), 1u);

    // The next call reads the file: put another AST there and it is what
    // comes back (a real parse of kText would not give it).
    const frontend::Dockerfile other =
        frontend::load_dockerfile("FROM scratch\nCOPY a /b\n", "Dockerfile");
    write(kept[0], frontend::encode_ast(other));
    EXPECT_TRUE(load_dockerfile_memoized(dir, kText, "Dockerfile") == other);

    // Unreadable: parsed again, and the file made right.
    write(kept[0], "garbage");
    EXPECT_TRUE(load_dockerfile_memoized(dir, kText, "Dockerfile") == first);
    std::ifstream in(kept[0], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_TRUE(frontend::decode_ast(ss.str()) == first);

    // Another name is another key (the name is in the AST's diagnostics).
    const frontend::Dockerfile named = load_dockerfile_memoized(dir, kText, "dev.Dockerfile");
    EXPECT_EQ(named.warnings.at(0).file, "dev.Dockerfile");
    EXPECT_EQ(files_in(dir).size(), 2u);
}

TEST(DockerfileMemo, AFailingDockerfileIsNeverKept) {
    auto tmp = TempDir::create(fs::temp_directory_path(), "dockerfile-memo-");
    const fs::path dir = tmp.path() / "parsed";
    for (int i = 0; i < 2; ++i)
        EXPECT_THROW(load_dockerfile_memoized(dir, "FROM busybox\nNOPE x\n", "Dockerfile"),
                     frontend::ParseError);
    EXPECT_TRUE(files_in(dir).empty());
}

}  // namespace
}  // namespace strata::executor
