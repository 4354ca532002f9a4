// `strata parse` end to end: exit codes, output formats, stdin, diagnostics
// on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Result {
    int code;
    std::string out;
    std::string err;
};

Result run(const std::string& args, const std::string& stdin_text = "") {
    const fs::path dir = fs::temp_directory_path() / ("strata-parse-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "in") << stdin_text;
    const std::string cmd = std::string(STRATA_BINARY) + " " + args + " <" + (dir / "in").string() +
                            " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
    const int status = std::system(cmd.c_str());
    auto slurp = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    Result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out"), slurp(dir / "err")};
    fs::remove_all(dir);
    return r;
}

TEST(ParseCommand, TreeFromStdin) {
    Result r = run("parse -f -", "FROM busybox\nRUN echo hi\n");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "(from \"busybox\")\n(run \"echo hi\")\n");
}

TEST(ParseCommand, JsonIsTheTypedAst) {
    Result r = run("parse --format json -f -", "FROM busybox AS b\nCOPY --chown=1 a /x\n");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["stages"][0]["name"], "b");
    EXPECT_EQ(j["stages"][0]["instructions"][1]["typed"]["chown"], "1");
    EXPECT_EQ(j["stages"][0]["instructions"][1]["location"]["start"]["line"], 2);
}

TEST(ParseCommand, ErrorIsLocatedOnStderrWithExitCode1) {
    Result r = run("parse --format json -f -", "FROM busybox\nCOPY --chwon=1 a /x\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("<stdin>:2:6: error: unknown flag: --chwon"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean --chown?"), std::string::npos) << r.err;
}

TEST(ParseCommand, MissingFileIsAnError) {
    Result r = run("parse -f /nonexistent/Dockerfile");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("/nonexistent/Dockerfile"), std::string::npos) << r.err;
}

TEST(ParseCommand, BadFormatIsAUsageError) {
    Result r = run("parse --format yaml -f -", "FROM x\n");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("yaml"), std::string::npos) << r.err;
}

TEST(ParseCommand, WarningsGoToStderr) {
    Result r = run("parse -f -", "FROM x\n# escape=`\nRUN a\n");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.err.find("<stdin>:2:1: warning:"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// Found by the fuzzer: JSON output of a Dockerfile with invalid UTF-8 threw
// inside the JSON serializer. Invalid bytes become U+FFFD, as Go does.
TEST(ParseCommand, JsonWithInvalidUtf8) {
    Result r = run("parse --format json -f -", "FROM x\nRUN \xff\xfe\n");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("RUN \xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos) << r.out;
}

}  // namespace
