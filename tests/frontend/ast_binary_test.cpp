// ast_binary: decode(encode(df)) == df for every Dockerfile at hand (the
// golden files, BuildKit's parser corpus, the examples) and for an AST with
// every field set; anything that is not an encoding fails with an Error.
#include "frontend/ast_binary.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/error.hpp"
#include "conformance_dir.hpp"

namespace fs = std::filesystem;
using namespace strata::frontend;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every Dockerfile under `dir` (recursively) that parses.
int round_trip_all(const fs::path& dir) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!it->is_regular_file() || name.find("Dockerfile") == std::string::npos) continue;
        Dockerfile df;
        try {
            df = load_dockerfile(read_file(it->path()), it->path().string());
        } catch (const ParseError&) {
            continue;
        }
        const std::string bytes = encode_ast(df);
        const Dockerfile back = decode_ast(bytes);
        EXPECT_TRUE(back == df) << it->path();
        EXPECT_EQ(encode_ast(back), bytes) << it->path();
        ++n;
    }
    return n;
}

TEST(AstBinary, EveryParsableDockerfileRoundTrips) {
    const int ours = round_trip_all(fs::path(STRATA_SOURCE_DIR) / "testdata") +
                     round_trip_all(fs::path(STRATA_SOURCE_DIR) / "examples");
    EXPECT_GE(ours, 7);  // testdata/parse and examples/
    const int corpus = round_trip_all(conformance_dir() / "buildkit-parser");
    std::cout << "round trips: " << ours << " of ours, " << corpus << " of BuildKit's corpus\n";
}

// Each field set to something other than its default, so that a field the
// codec dropped shows here even when no Dockerfile above uses it.
Dockerfile every_field() {
    Dockerfile df;
    df.file = "dir/Dockerfile.dev";
    df.escape = U'`';
    df.directives.push_back({"syntax", "docker/dockerfile:1", {1, 2}});
    Instruction arg;
    arg.keyword = "ARG";
    arg.original = "ARG A=1 B";
    arg.range = {{2, 1}, {2, 9}};
    arg.args = {"A=1", "B"};
    arg.command = ArgCmd{{{"A", "1"}, {"B", std::nullopt}}};
    df.global_args.push_back(arg);

    auto ins = [](std::string kw, Command c) {
        Instruction i;
        i.keyword = std::move(kw);
        i.original = i.keyword + " something";
        i.range = {{3, 2}, {4, 5}};
        i.flags.push_back({"from", "build", true, {3, 7}, 5, 12});
        i.flags.push_back({"link", "", false, {3, 20}, 18, 6});
        i.args = {"a", "b c"};
        i.json = true;
        i.command = std::move(c);
        return i;
    };
    Stage st;
    st.index = 1;
    st.name = "build";
    st.base = "${BASE}";
    st.platform = "linux/arm64";
    st.range = {{5, 1}, {9, 3}};
    st.from = ins("FROM", FromCmd{"alpine", "build", "$BUILDPLATFORM"});
    RunCmd run{{{"echo", "hi"}, true}, {"type=cache,target=/c"}, "none", "insecure"};
    Instruction run_ins = ins("RUN", run);
    run_ins.heredocs.push_back({{"EOF", 3, true, false, 4, 6}, "\tline\n", false, 7});
    st.instructions.push_back(run_ins);
    st.instructions.push_back(ins("CMD", CmdCmd{{{"sh"}, false}}));
    st.instructions.push_back(ins("ENTRYPOINT", EntrypointCmd{{{"/init"}, true}}));
    CopyCmd copy;
    copy.is_add = true;
    copy.sources = {"a", "b"};
    copy.inline_sources = {{"EOF", "text\n", false}};
    copy.dest = "/d/";
    copy.from = "build";
    copy.chown = "1:2";
    copy.chmod = "0755";
    copy.checksum = "sha256:00";
    copy.link = copy.parents = copy.keep_git_dir = true;
    copy.unpack = false;
    copy.excludes = {"*.tmp"};
    st.instructions.push_back(ins("ADD", copy));
    st.instructions.push_back(ins("ENV", EnvCmd{{{"K", "V"}, {"E", ""}}}));
    st.instructions.push_back(ins("LABEL", LabelCmd{{{"l", "v"}}}));
    st.instructions.push_back(ins("EXPOSE", ExposeCmd{{"80/tcp"}}));
    st.instructions.push_back(ins("VOLUME", VolumeCmd{{"/data"}}));
    st.instructions.push_back(ins("USER", UserCmd{"app:app"}));
    st.instructions.push_back(ins("WORKDIR", WorkdirCmd{"/w"}));
    st.instructions.push_back(ins("STOPSIGNAL", StopSignalCmd{"SIGTERM"}));
    st.instructions.push_back(ins("SHELL", ShellCmd{{"/bin/bash", "-c"}}));
    st.instructions.push_back(ins("MAINTAINER", MaintainerCmd{"me"}));
    st.instructions.push_back(
        ins("HEALTHCHECK", HealthcheckCmd{true, {"CMD", "true"}, 1, 2, 3, 4, 5}));
    auto trigger = std::make_shared<const Instruction>(ins("RUN", run));
    st.instructions.push_back(ins("ONBUILD", OnbuildCmd{"RUN echo hi", trigger}));
    df.stages.push_back(st);
    df.warnings.push_back({Severity::kWarning,
                           "Dockerfile",
                           {4, 3},
                           7,
                           "MAINTAINER is deprecated",
                           "use LABEL",
                           "MAINTAINER me"});
    return df;
}

TEST(AstBinary, EveryFieldRoundTrips) {
    const Dockerfile df = every_field();
    const Dockerfile back = decode_ast(encode_ast(df));
    EXPECT_TRUE(back == df);
    // The comparison itself sees a difference in a nested field.
    Dockerfile other = back;
    std::get<OnbuildCmd>(other.stages[0].instructions.back().command).trigger =
        std::make_shared<const Instruction>(df.stages[0].from);
    EXPECT_FALSE(other == df);
    other = back;
    other.stages[0].instructions[0].heredocs[0].first_line = 8;
    EXPECT_FALSE(other == df);
}

TEST(AstBinary, AnythingElseIsAnErrorNeverACrash) {
    const std::string good = encode_ast(every_field());
    EXPECT_THROW(decode_ast(""), strata::Error);
    EXPECT_THROW(decode_ast("not cbor at all"), strata::Error);
    // Every cut short, and every byte flipped, either fails or decodes to
    // some AST: it never crashes (ASan and UBSan run this in CI).
    for (size_t n = 0; n < good.size(); ++n) {
        EXPECT_THROW(decode_ast(good.substr(0, n)), strata::Error) << n;
        std::string flipped = good;
        flipped[n] = static_cast<char>(flipped[n] ^ 0x5a);
        try {
            decode_ast(flipped);
        } catch (const strata::Error&) {
        }
    }
    // Another version of the format is a miss, not a misreading.
    std::string other_version = good;
    ASSERT_EQ(static_cast<unsigned char>(other_version[1]), 1u);  // [version, ...]
    other_version[1] = 2;
    EXPECT_THROW(decode_ast(other_version), strata::Error);
}

}  // namespace
