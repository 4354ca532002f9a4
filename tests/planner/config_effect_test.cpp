// Image-config effects and history texts, as BuildKit records them.
#include <gtest/gtest.h>

#include "planner/go_format.hpp"
#include "planner/instruction_checks.hpp"
#include "planner/run_mount.hpp"
#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

struct HistoryRow {
    const char* instruction;
    const char* created_by;
    bool empty_layer;
};

TEST(ConfigEffect, HistoryTextPerInstruction) {
    const std::vector<HistoryRow> rows = {
        {"ENV A=b C=\"d e\"", "ENV A=b C=d e", true},
        {"ENV LEGACY value with spaces", "ENV LEGACY=value with spaces", true},
        {"LABEL k=v \"x y\"=z", "LABEL k=v x y=z", true},
        {"ARG X=y Z", "ARG X=y Z", true},
        {"EXPOSE 80 443/udp 8000-8001", "EXPOSE map[443/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}]",
         true},
        {"USER app:app", "USER app:app", true},
        {"VOLUME /data /cache", "VOLUME [/data /cache]", true},
        {"VOLUME [\"/a\", \"/b c\"]", "VOLUME [/a /b c]", true},
        {"WORKDIR /x", "WORKDIR /x", false},
        {"STOPSIGNAL SIGKILL", "STOPSIGNAL SIGKILL", true},
        {"SHELL [\"/bin/bash\", \"-c\"]", "SHELL [/bin/bash -c]", true},
        {"MAINTAINER Jane <j@x>", "MAINTAINER Jane <j@x>", true},
        {"CMD echo \"hi\"", "CMD [\"/bin/sh\" \"-c\" \"echo \\\"hi\\\"\"]", true},
        {"CMD [\"app\", \"--flag\"]", "CMD [\"app\" \"--flag\"]", true},
        {"ENTRYPOINT [\"/entry\"]", "ENTRYPOINT [\"/entry\"]", true},
        {"HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://localhost/",
         "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:1m30s Timeout:0s "
         "StartPeriod:0s StartInterval:0s Retries:3}",
         true},
        {"HEALTHCHECK NONE",
         "HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s "
         "Retries:0}",
         true},
        {"COPY --chmod=755 --chown=1:2 --link a b /dst/",
         "COPY --chown=1:2 --chmod=755 a b /dst/ # buildkit", false},
        {"COPY --parents --exclude=*.md src/./x /", "COPY --parents src/./x / # buildkit", false},
        {"ADD https://example.com/f.tgz /f", "ADD https://example.com/f.tgz /f # buildkit", false},
        {"RUN echo hi", "RUN /bin/sh -c echo hi # buildkit", false},
        {"RUN [\"echo\", \"hi\"]", "RUN echo hi # buildkit", false},
    };
    for (const HistoryRow& row : rows) {
        FakeResolver images;
        const BuildPlan p =
            testing::plan(std::string("FROM scratch\n") + row.instruction + "\n", images);
        const Step& step = p.target_stage().steps.at(0);
        ASSERT_TRUE(step.effect.history.has_value()) << row.instruction;
        EXPECT_EQ(step.effect.history->created_by, row.created_by) << row.instruction;
        EXPECT_EQ(step.effect.history->empty_layer, row.empty_layer) << row.instruction;
    }
}

TEST(ConfigEffect, ValuesAfterExpansion) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nARG PORT=8080 U=svc SIG=TERM\nENV HOME=/home/$U\nLABEL \"app.$U\"=\"v "
        "$PORT\"\n"
        "EXPOSE $PORT/udp\nUSER $U\nVOLUME $HOME/data\nSTOPSIGNAL $SIG\nWORKDIR $HOME\n",
        images);
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(s.steps[1].effect.env, (std::vector<EnvVar>{{"HOME", "/home/svc"}}));
    EXPECT_EQ(s.steps[2].effect.labels, (std::vector<EnvVar>{{"app.svc", "v 8080"}}));
    EXPECT_EQ(s.steps[3].effect.exposed_ports, std::vector<std::string>{"8080/udp"});
    EXPECT_EQ(*s.steps[4].effect.user, "svc");
    EXPECT_EQ(s.steps[5].effect.volumes, std::vector<std::string>{"/home/svc/data"});
    EXPECT_EQ(*s.steps[6].effect.stop_signal, "TERM");
    EXPECT_EQ(*s.steps[7].effect.working_dir, "/home/svc");
    EXPECT_EQ(s.steps[2].used_vars, (std::vector<std::string>{"PORT", "U"}));
}

TEST(ConfigEffect, ShellFormUsesTheCurrentShellAndEntrypointResetsCmd) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nENTRYPOINT [\"/e\"]\nCMD run me\nSHELL [\"/bin/bash\", \"-euc\"]\n"
        "ENTRYPOINT exec app\nRUN make\n",
        images);
    const StagePlan& s = p.target_stage();
    EXPECT_TRUE(s.steps[0].effect.clear_cmd) << "no CMD yet in this stage";
    EXPECT_EQ(*s.steps[1].effect.cmd, (std::vector<std::string>{"/bin/sh", "-c", "run me"}));
    EXPECT_TRUE(s.steps[1].effect.args_escaped);
    EXPECT_EQ(*s.steps[3].effect.entrypoint,
              (std::vector<std::string>{"/bin/bash", "-euc", "exec app"}));
    EXPECT_FALSE(s.steps[3].effect.clear_cmd) << "CMD was set earlier in the stage";
    EXPECT_EQ(s.steps[4].run.argv, (std::vector<std::string>{"/bin/bash", "-euc", "make"}));
}

TEST(ConfigEffect, StageStartEffect) {
    FakeResolver images;
    images.images["with-path"] = testing::image("sha256:1", {"PATH=/x"});
    images.images["no-path"] = testing::image("sha256:2", {"A=1"});
    const BuildPlan p =
        testing::plan("FROM with-path AS a\nFROM no-path AS b\nFROM scratch\nFROM a\n", images,
                      testing::options({}, "a"));
    EXPECT_TRUE(p.stages[0].start_effect.env.empty()) << "the image has PATH";
    const BuildPlan q = testing::plan("FROM no-path\n", images);
    EXPECT_EQ(q.stages[0].start_effect.env,
              (std::vector<EnvVar>{
                  {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}));
    const BuildPlan r = testing::plan("FROM scratch\nRUN env\n", images);
    EXPECT_EQ(r.stages[0].steps[0].run.env.at(0).first, "PATH");
}

TEST(ConfigEffect, CopyExpandedForm) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nARG U=1000 M=0640 D=out\nWORKDIR /srv\n"
        "COPY --chown=$U:$U --chmod=$M --link --exclude=*.tmp --exclude=a.b a${D} b $D/\n"
        "COPY <<EOT /etc/motd\nhello $U\nEOT\nCOPY <<'EOT' /etc/raw\nhello $U\nEOT\n",
        images);
    const StagePlan& s = p.target_stage();
    const CopyStep& c = s.steps[2].copy;
    EXPECT_EQ(c.sources, (std::vector<std::string>{"aout", "b"}));
    EXPECT_EQ(c.dest, "out/");
    EXPECT_EQ(c.dest_path, "/srv/out/");
    EXPECT_EQ(c.workdir, "/srv");
    EXPECT_EQ(c.chown, "1000:1000");
    EXPECT_EQ(c.chmod, "0640");
    EXPECT_TRUE(c.link);
    EXPECT_EQ(c.excludes, (std::vector<std::string>{"*.tmp", "a.b"}));
    EXPECT_EQ(c.from.kind, SourceRef::Kind::kContext);
    ASSERT_EQ(s.steps[3].copy.inline_sources.size(), 1U);
    EXPECT_EQ(s.steps[3].copy.inline_sources[0].content, "hello 1000\n");
    EXPECT_EQ(s.steps[3].effect.history->created_by, "COPY <<EOT /etc/motd # buildkit");
    EXPECT_EQ(s.steps[4].copy.inline_sources[0].content, "hello $U\n");
}

TEST(ConfigEffect, RunHeredocs) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\nRUN <<EOF\n#!/usr/bin/env "
        "python3\nprint(1)\nEOF\n"
        "RUN cat <<A >/x\nbody\nA\n",
        images);
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(s.steps[0].run.argv,
              (std::vector<std::string>{"/bin/sh", "-c", "echo one\necho two\n"}));
    EXPECT_EQ(s.steps[0].display, "[1/3] RUN <<EOF (echo one...)");
    EXPECT_EQ(s.steps[1].run.argv, (std::vector<std::string>{"/bin/sh", "-c", "/dev/pipes/EOF"}));
    ASSERT_EQ(s.steps[1].run.files.size(), 1U);
    EXPECT_EQ(s.steps[1].run.files[0].mode, 0755U);
    EXPECT_EQ(s.steps[2].run.argv,
              (std::vector<std::string>{"/bin/sh", "-c", "cat <<A >/x\nbody\nA"}));
}

TEST(ConfigEffect, GoFormatting) {
    EXPECT_EQ(go_duration(0), "0s");
    EXPECT_EQ(go_duration(1'500'000'000), "1.5s");
    EXPECT_EQ(go_duration(90'000'000'000), "1m30s");
    EXPECT_EQ(go_duration(3'600'000'000'000), "1h0m0s");
    EXPECT_EQ(go_duration(500'000'000), "500ms");
    EXPECT_EQ(go_duration(2'000), "2\xC2\xB5s");
    EXPECT_EQ(go_duration(7), "7ns");
    EXPECT_EQ(go_quoted_list({"a", "b c", "\"q\""}), "[\"a\" \"b c\" \"\\\"q\\\"\"]");
    EXPECT_EQ(go_plain_list({}), "[]");
}

TEST(ConfigEffect, Checks) {
    EXPECT_TRUE(is_valid_signal("SIGTERM"));
    EXPECT_TRUE(is_valid_signal("kill"));
    EXPECT_TRUE(is_valid_signal("9"));
    EXPECT_TRUE(is_valid_signal("SIGRTMIN+3"));
    EXPECT_FALSE(is_valid_signal("0"));
    EXPECT_FALSE(is_valid_signal("SIGFOO"));
    EXPECT_EQ(parse_port_spec("8080:80/udp").ports, std::vector<std::string>{"80/udp"});
    EXPECT_NE(parse_port_spec("70000").error, "");
    EXPECT_EQ(check_chmod("0755"), "");
    EXPECT_EQ(check_chmod("u+x,go-w"), "");
    EXPECT_EQ(check_chmod("a=rX"), "");
    EXPECT_NE(check_chmod("10000"), "");
    EXPECT_NE(check_chmod("u+q"), "");
    EXPECT_EQ(normalize_shell_spacing("  make \t  deps  "), "make deps");
    EXPECT_EQ(normalize_shell_spacing("echo 'a   b' \"c  \\\"  d\"  e\\  f"),
              "echo 'a   b' \"c  \\\"  d\" e\\  f");
    EXPECT_EQ(normalize_shell_spacing("a  \n   b"), "a\nb");
    EXPECT_EQ(normalize_workdir("/a", ""), "/a");
}

TEST(ConfigEffect, MountParsing) {
    const MountSpec m = parse_mount("type=cache,target=/root/.cache,\"id=x,y\",sharing=locked");
    EXPECT_EQ(m.type, "cache");
    EXPECT_EQ(m.id, "x,y");
    EXPECT_FALSE(m.read_only);
    EXPECT_EQ(m.options.at("sharing"), "locked");
    EXPECT_THROW(parse_mount("type=bind"), MountError);
    EXPECT_THROW(parse_mount("target=/x,bogus=1"), MountError);
    const MountSpec rw = parse_mount("target=/x,rw");
    EXPECT_FALSE(rw.read_only);
}

TEST(ConfigEffect, PlatformParsing) {
    EXPECT_EQ(parse_platform("linux/x86_64")->str(), "linux/amd64");
    EXPECT_EQ(parse_platform("linux/arm64/v8")->str(), "linux/arm64");
    EXPECT_EQ(parse_platform("linux/arm")->str(), "linux/arm/v7");
    EXPECT_FALSE(parse_platform("linux//amd64").has_value());
    EXPECT_FALSE(host_platform().architecture.empty());
}

}  // namespace
}  // namespace strata::planner
