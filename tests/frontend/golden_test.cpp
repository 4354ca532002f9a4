// Golden files: testdata/parse/NAME.Dockerfile → NAME.json (the typed AST as
// `strata parse --format json` prints it, warnings included) and
// testdata/errors/NAME.Dockerfile → NAME.err (the rendered diagnostic).
// Set STRATA_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate
// change, then review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "frontend/ast_json.hpp"
#include "frontend/instructions.hpp"

namespace fs = std::filesystem;
using namespace strata::frontend;

namespace {

const fs::path kTestdata = fs::path(STRATA_SOURCE_DIR) / "testdata";

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary);
    out << s;
}

bool updating() {
    const char* v = std::getenv("STRATA_UPDATE_GOLDEN");
    return v != nullptr && std::string(v) == "1";
}

std::vector<fs::path> inputs(const char* dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(kTestdata / dir)) {
        if (e.path().extension() == ".Dockerfile") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void check_golden(const fs::path& expected_path, const std::string& actual) {
    if (updating()) {
        write_file(expected_path, actual);
        return;
    }
    ASSERT_TRUE(fs::exists(expected_path)) << expected_path << " is missing (run with "
                                           << "STRATA_UPDATE_GOLDEN=1 to create it)";
    EXPECT_EQ(read_file(expected_path), actual) << "golden mismatch: " << expected_path;
}

TEST(Golden, ParseJson) {
    const auto all = inputs("parse");
    ASSERT_GE(all.size(), 5u);
    for (const fs::path& in : all) {
        SCOPED_TRACE(in.filename().string());
        const std::string name = in.filename().string();
        std::string actual;
        try {
            ParsedDockerfile parsed = parse_dockerfile(read_file(in), name);
            nlohmann::ordered_json j = to_json(build_ast(parsed));
            nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
            for (const auto& w : parsed.warnings)
                warnings.push_back(render(w));
            j["warnings"] = warnings;
            actual = j.dump(2) + "\n";
        } catch (const ParseError& e) {
            ADD_FAILURE() << "unexpected error:\n" << render(e.diagnostic());
            continue;
        }
        fs::path expected = in;
        expected.replace_extension(".json");
        check_golden(expected, actual);
    }
}

TEST(Golden, ErrorMessages) {
    const auto all = inputs("errors");
    ASSERT_GE(all.size(), 20u);
    for (const fs::path& in : all) {
        SCOPED_TRACE(in.filename().string());
        std::string actual;
        try {
            load_dockerfile(read_file(in), "Dockerfile");
            ADD_FAILURE() << "parsed without error, but must fail";
            continue;
        } catch (const ParseError& e) {
            actual = render(e.diagnostic());
        }
        fs::path expected = in;
        expected.replace_extension(".err");
        check_golden(expected, actual);
    }
}

}  // namespace
