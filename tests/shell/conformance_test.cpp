// Runs BuildKit's own expansion corpus (../shared/conformance/buildkit-shell):
// envVarTest (one word) and wordsTest (word lists), read the way BuildKit's
// lex_test.go reads them. Every line must pass; prints the pass counts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance_dir.hpp"
#include "frontend/shell_expander.hpp"

namespace fs = std::filesystem;
using namespace strata::frontend;

namespace {

const fs::path kCorpus = conformance_dir() / "buildkit-shell";

std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string trim_space(std::string_view s) {
    const char* ws = " \t\n\r\v\f";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return "";
    const size_t e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t at = s.find(sep, start);
        if (at == std::string::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, at - start));
        start = at + 1;
    }
}

std::string join(const std::vector<std::string>& words) {
    std::string out = "[";
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += ", ";
        out += "\"" + words[i] + "\"";
    }
    return out + "]";
}

TEST(BuildkitShellConformance, EnvVarTest) {
    const fs::path file = kCorpus / "envVarTest";
    if (!fs::exists(file))
        GTEST_SKIP() << "conformance corpus not found at " << file
                     << " (set STRATA_CONFORMANCE_DIR)";
    const Env env{{"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}};
    int total = 0;
    int passed = 0;
    int lineno = 0;
    for (const std::string& raw : read_lines(file)) {
        ++lineno;
        if (raw.rfind('#', 0) == 0) continue;
        const std::string line = trim_space(raw);
        if (line.empty()) continue;
        const std::vector<std::string> fields = split(line, '|');
        ASSERT_EQ(fields.size(), 3u) << "envVarTest:" << lineno << ": " << line;
        const std::string platform = trim_space(fields[0]);
        if (platform != "A" && platform != "U") continue;
        const std::string input = trim_space(fields[1]);
        const std::string expected = trim_space(fields[2]);
        ++total;
        std::string actual;
        try {
            actual = expand_word(input, env).word;
        } catch (const ShellError& e) {
            actual = "error";
            if (expected != "error") actual += std::string(" (") + e.what() + ")";
        }
        if (actual == expected) {
            ++passed;
        } else {
            ADD_FAILURE() << "envVarTest:" << lineno << ": input [" << input << "] expected ["
                          << expected << "] actual [" << actual << "]";
        }
    }
    std::cout << "buildkit-shell envVarTest: " << passed << "/" << total << " passed\n";
    EXPECT_GT(total, 0);
    EXPECT_EQ(passed, total);
}

TEST(BuildkitShellConformance, WordsTest) {
    const fs::path file = kCorpus / "wordsTest";
    if (!fs::exists(file))
        GTEST_SKIP() << "conformance corpus not found at " << file
                     << " (set STRATA_CONFORMANCE_DIR)";
    std::vector<std::string> env_list;
    int total = 0;
    int passed = 0;
    int lineno = 0;
    for (const std::string& line : read_lines(file)) {
        ++lineno;
        if (line.rfind('#', 0) == 0) continue;
        if (line.rfind("ENV ", 0) == 0) {
            const size_t b = line.find_first_not_of(' ', 3);
            env_list.push_back(b == std::string::npos ? "" : line.substr(b));
            continue;
        }
        const std::vector<std::string> fields = split(line, '|');
        ASSERT_EQ(fields.size(), 2u) << "wordsTest:" << lineno << ": " << line;
        const std::string input = trim_space(fields[0]);
        const size_t b = fields[1].find_first_not_of(' ');
        const std::vector<std::string> expected =
            split(b == std::string::npos ? "" : fields[1].substr(b), ',');
        ++total;
        std::vector<std::string> actual;
        std::string error;
        try {
            actual = expand_words(input, Env::from_list(env_list)).words;
        } catch (const ShellError& e) {
            actual = {"error"};
            error = e.what();
        }
        if (actual == expected) {
            ++passed;
        } else {
            ADD_FAILURE() << "wordsTest:" << lineno << ": input [" << input << "] expected "
                          << join(expected) << " actual " << join(actual) << " " << error;
        }
    }
    std::cout << "buildkit-shell wordsTest: " << passed << "/" << total << " passed\n";
    EXPECT_GT(total, 0);
    EXPECT_EQ(passed, total);
}

}  // namespace
