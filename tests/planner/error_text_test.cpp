// Error messages in BuildKit's words (so that searching the web for one
// finds BuildKit's), with strata's location and hint kept around them.
#include <gtest/gtest.h>

#include "frontend/diagnostic.hpp"
#include "planner/instruction_checks.hpp"
#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

struct Failure {
    std::string message, hint;
    size_t line = 0;
};

Failure plan_failure(const std::string& dockerfile) {
    FakeResolver images;
    try {
        testing::plan(dockerfile, images);
    } catch (const frontend::ParseError& e) {
        return {e.diagnostic().message, e.diagnostic().hint, e.diagnostic().pos.line};
    } catch (const Error& e) {
        return {e.what(), {}, 0};
    }
    return {"<no error>", {}, 0};
}

struct ErrorRow {
    const char* dockerfile;
    const char* message;
};

TEST(ErrorText, ChmodAsBuildKitSaysIt) {
    const std::string octal = ". it should be octal string and between 0 and 07777";
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"10000", "invalid chmod parameter: '10000'" + octal},
        {"888", "invalid chmod parameter: '888'" + octal},
        {"7a5", "invalid chmod parameter: '7a5'" + octal},  // starts with a digit: octal
        {"0o755", "invalid chmod parameter: '0o755'" + octal},
        {"99999999999", "invalid chmod parameter: '99999999999'" + octal},
        {"u+q", "invalid syntax"},  // BuildKit's mode parser: ErrSyntax
        {"x=rw", "invalid syntax"},
        {"u+x,", "invalid syntax"},
    };
    for (const auto& [mode, message] : rows) {
        EXPECT_EQ(check_chmod(mode), message) << mode;
        const Failure f = plan_failure("FROM scratch\nCOPY --chmod=" + mode + " a /b\n");
        EXPECT_EQ(f.message, message) << mode;
        EXPECT_EQ(f.line, 2u) << mode;
        EXPECT_NE(f.hint.find("0755"), std::string::npos) << mode;
    }
    for (const char* ok : {"0", "755", "07777", "u+x", "a=rX,go-w", "+x"})
        EXPECT_EQ(check_chmod(ok), "") << ok;
}

TEST(ErrorText, MountErrorsSuggestAsBuildKit) {
    const std::vector<ErrorRow> rows = {
        {"RUN --mount=type=cahce,target=/c true",
         "unsupported mount type \"cahce\" (did you mean cache?)"},
        {"RUN --mount=type=bnd,target=/c true",
         "unsupported mount type \"bnd\" (did you mean bind?)"},
        {"RUN --mount=type=secrets,id=x true",
         "unsupported mount type \"secrets\" (did you mean secret?)"},
        {"RUN --mount=type=volume,target=/c true", "unsupported mount type \"volume\""},
        {"RUN --mount=type=cache,target=/c,sharing=sharde true",
         "unsupported sharing value \"sharde\" (did you mean shared?)"},
        {"RUN --mount=type=cache,target=/c,sharing=lockd true",
         "unsupported sharing value \"lockd\" (did you mean locked?)"},
        {"RUN --mount=type=cache,target=/c,sharing=none true",
         "unsupported sharing value \"none\""},
        {"RUN --mount=tagret=/c true",
         "unexpected key 'tagret' in 'tagret=/c' (did you mean target?)"},
        {"RUN --mount=target=/c,sorce=x true",
         "unexpected key 'sorce' in 'sorce=x' (did you mean source?)"},
        {"RUN --mount=target=/c,fromm=x true",
         "unexpected key 'fromm' in 'fromm=x' (did you mean from?)"},
        {"RUN --mount=target=/c,verylongkey=x true",
         "unexpected key 'verylongkey' in 'verylongkey=x'"},
    };
    for (const ErrorRow& row : rows) {
        const Failure f = plan_failure(std::string("FROM scratch\n") + row.dockerfile + "\n");
        EXPECT_EQ(f.message, row.message) << row.dockerfile;
        EXPECT_EQ(f.line, 2u) << row.dockerfile;
    }
}

TEST(ErrorText, SuggestionFollowsBuildKitsRule) {
    using frontend::with_suggestion;
    // The first option within distance 2 wins unless a later one is closer.
    EXPECT_EQ(with_suggestion("e", "x", {"type", "id", "ro"}), "e (did you mean id?)");
    EXPECT_EQ(with_suggestion("e", "rox", {"id", "ro"}), "e (did you mean ro?)");
    // Distance 3 is too far; an exact match means the value is not the problem.
    EXPECT_EQ(with_suggestion("e", "abc", {"xyz"}), "e");
    EXPECT_EQ(with_suggestion("e", "cache", {"cach", "cache"}), "e");
    // Case counts, as BuildKit's suggestions here are case-sensitive.
    EXPECT_EQ(with_suggestion("e", "CACHE", {"cache"}), "e");
}

TEST(ErrorText, NoStagesToBuild) {
    FakeResolver images;
    for (const char* text : {"ARG A=1\n", "ARG A\nARG B=2\n"}) {
        try {
            testing::plan(text, images);
            ADD_FAILURE() << "must fail: " << text;
        } catch (const frontend::ParseError& e) {
            EXPECT_EQ(e.diagnostic().message, "dockerfile contains no stages to build") << text;
        }
    }
}

TEST(ErrorText, InstructionBeforeFromAsBuildKitSaysIt) {
    for (const char* text : {"ENV A=1\nFROM scratch\n", "ARG A\nRUN true\nFROM scratch\n"}) {
        const Failure f = plan_failure(text);
        EXPECT_EQ(f.message, "no build stage in current context") << text;
        EXPECT_NE(f.hint.find("only ARG may come before the first FROM"), std::string::npos);
    }
}

TEST(ErrorText, UnknownFlagAsBuildKitSaysIt) {
    // BuildKit ≥ 0.17 names the flag with its dashes; the suggestion stays
    // in strata's hint.
    const std::vector<std::pair<const char*, const char*>> rows = {
        {"COPY --chwon=1 a /b", "unknown flag: --chwon"},
        {"RUN --mont=type=cache,target=/c true", "unknown flag: --mont"},
        {"ADD --nope a /b", "unknown flag: --nope"},
        {"WORKDIR --x=1 /w", "unknown flag: --x"},
    };
    for (const auto& [line, message] : rows) {
        const Failure f = plan_failure(std::string("FROM scratch\n") + line + "\n");
        EXPECT_EQ(f.message, message) << line;
        EXPECT_EQ(f.line, 2u) << line;
    }
    EXPECT_EQ(plan_failure("FROM scratch\nCOPY --chwon=1 a /b\n").hint, "did you mean --chown?");
}

}  // namespace
}  // namespace strata::planner
