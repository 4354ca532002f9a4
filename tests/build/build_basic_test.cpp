// Whole builds: images from scratch and from a base, what lands in the image
// config and history, rebuilds from the cache, multi-stage builds with
// --target and COPY --from, ONBUILD, ARG/ENV scoping, and located errors.
#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "frontend/diagnostic.hpp"

namespace strata::buildtest {
namespace {

TEST_F(BuildTest, FromScratchCopiesTheContext) {
    file("a.txt", "hello\n");
    file("dir/b.txt", "b\n", 0600);
    auto r = build("FROM scratch\nCOPY a.txt /\nCOPY dir /d/\n");
    ASSERT_EQ(r.image.layers.size(), 2u);
    const Tree t = rootfs(r);
    expect_file(t, "/a.txt", "hello\n", 0644, 0, 0);
    expect_file(t, "/d/b.txt", "b\n", 0600, 0, 0);
    EXPECT_EQ(t.count("/d/dir"), 0u) << "a directory source copies its contents";

    const auto cfg = config(r);
    EXPECT_EQ(cfg.os, "linux");
    EXPECT_EQ(cfg.architecture, planner::host_platform().architecture);
    EXPECT_EQ(cfg.config.working_dir, "/");
    ASSERT_EQ(cfg.config.env.size(), 1u);
    EXPECT_EQ(cfg.config.env[0],
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    ASSERT_EQ(cfg.history.size(), 2u);
    EXPECT_EQ(cfg.history[0].created_by, "COPY a.txt / # buildkit");
    EXPECT_EQ(cfg.history[0].comment, "buildkit.dockerfile.v0");
    EXPECT_FALSE(cfg.history[0].empty_layer);
    EXPECT_EQ(cfg.diff_ids.size(), 2u);
    EXPECT_EQ(cfg.created, cfg.history[1].created);
}

TEST_F(BuildTest, ConfigAndHistoryFromEveryMetadataInstruction) {
    auto r = build(
        "FROM base:latest\n"
        "MAINTAINER someone\n"
        "ENV A=1 B=\"two words\"\n"
        "LABEL l1=v1 \"l 2\"=v2\n"
        "EXPOSE 80 53/udp\n"
        "VOLUME /data [\"/cache\"]\n"
        "USER app:staff\n"
        "WORKDIR /work\n"
        "STOPSIGNAL SIGINT\n"
        "HEALTHCHECK --interval=5s --retries=2 CMD check\n"
        "SHELL [\"/bin/bash\", \"-c\"]\n"
        "ONBUILD COPY . /src\n"
        "ENTRYPOINT [\"/entry\"]\n"
        "CMD run me\n");
    const auto cfg = config(r);
    const auto& c = cfg.config;
    EXPECT_EQ(cfg.author, "someone");
    EXPECT_EQ(c.env_value("A"), "1");
    EXPECT_EQ(c.env_value("B"), "two words");
    EXPECT_EQ(c.labels.at("l1"), "v1");
    EXPECT_EQ(c.labels.at("l 2"), "v2");
    EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"80/tcp", "53/udp"}));
    EXPECT_EQ(c.volumes.size(), 2u);
    EXPECT_EQ(c.user, "app:staff");
    EXPECT_EQ(c.working_dir, "/work");
    EXPECT_EQ(c.stop_signal, "SIGINT");
    ASSERT_TRUE(c.healthcheck.has_value());
    EXPECT_EQ(c.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "check"}));
    EXPECT_EQ(c.healthcheck->interval, 5'000'000'000);
    EXPECT_EQ(c.healthcheck->retries, 2);
    EXPECT_EQ(c.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
    EXPECT_EQ(c.on_build, (std::vector<std::string>{"COPY . /src"}));
    EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/entry"}));
    // CMD's shell form takes the SHELL in force.
    EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/bash", "-c", "run me"}));

    // The base's history first, then one entry per instruction but ONBUILD.
    ASSERT_GE(cfg.history.size(), 12u);
    const size_t base = cfg.history.size() - 12;
    EXPECT_EQ(cfg.history[base].created_by, "MAINTAINER someone");
    EXPECT_EQ(cfg.history[base + 6].created_by, "WORKDIR /work");
    EXPECT_FALSE(cfg.history[base + 6].empty_layer);
    for (size_t i = base; i < cfg.history.size(); ++i) {
        EXPECT_TRUE(cfg.history[i].created.has_value()) << i;
        if (i != base + 6) {
            EXPECT_TRUE(cfg.history[i].empty_layer) << cfg.history[i].created_by;
        }
    }
    // WORKDIR made /work owned by the USER (app = 1000, group staff = 50).
    const Tree t = rootfs(r);
    ASSERT_TRUE(t.count("/work"));
    EXPECT_EQ(t.at("/work").type, 'd');
    EXPECT_EQ(t.at("/work").uid, 1000u);
    EXPECT_EQ(t.at("/work").gid, 50u);
    EXPECT_EQ(t.at("/work").mode, 0755u);
}

TEST_F(BuildTest, RebuildIsCachedAndGivesTheSameImage) {
    file("a.txt", "a");
    const std::string df = "FROM base:latest\nWORKDIR /app\nCOPY a.txt .\nENV X=1\n";
    auto first = build(df);
    EXPECT_EQ(outcomes(first), "BB");
    auto second = build(df);
    EXPECT_EQ(outcomes(second), "CC");
    EXPECT_EQ(second.image.config, first.image.config) << "same config, same image ID";
    EXPECT_EQ(second.image.manifest, first.image.manifest);
    // A tag points at it.
    executor::BuildRequest req = request();
    req.tags = {store::Reference::parse("app:v1")};
    auto tagged = build(req);
    EXPECT_EQ(tagged.image.manifest, first.image.manifest);
    EXPECT_EQ(store().lookup("app:v1").image.manifest, first.image.manifest);
}

TEST_F(BuildTest, WorkdirOnAnExistingDirectoryIsAnEmptyLayer) {
    auto r = build("FROM base:latest\nWORKDIR /srv\nWORKDIR /srv/new/deep\n");
    const auto cfg = config(r);
    ASSERT_EQ(r.image.layers.size(), 3u);
    EXPECT_TRUE(layer(r, 1).empty()) << "BuildKit records WORKDIR of an existing dir as a layer";
    const Tree l2 = layer(r, 2);
    EXPECT_TRUE(l2.count("/srv/new/deep"));
    EXPECT_EQ(cfg.config.working_dir, "/srv/new/deep");
}

TEST_F(BuildTest, TargetAndCopyFromStageAndImage) {
    file("src/main.c", "int main;\n");
    dockerfile(
        "FROM base:latest AS build\n"
        "COPY src /src\n"
        "COPY --chown=app src/main.c /src/owned.c\n"
        "FROM scratch AS unused\n"
        "COPY src /never\n"
        "FROM scratch\n"
        "COPY --from=build /src/ /out/\n"
        "COPY --from=base:latest /etc/group /group\n"
        "COPY --from=0 /bin/tool /tool\n");
    auto r = build();
    const Tree t = rootfs(r);
    expect_file(t, "/out/main.c", "int main;\n", 0644, 0, 0);
    // COPY --from keeps the owner the source stage gave it.
    expect_file(t, "/out/owned.c", "int main;\n", 0644, 1000, 1001);
    expect_file(t, "/group", "root:x:0:\nstaff:x:50:\napp:x:1001:\nnogroup:x:65534:\n");
    expect_file(t, "/tool", "#!/bin/sh\n", 0755);
    EXPECT_EQ(t.count("/etc"), 0u) << "the final stage is FROM scratch";
    // The stage nothing needs is not built.
    for (const auto& s : r.steps)
        EXPECT_EQ(s.name.find("unused"), std::string::npos) << s.name;

    executor::BuildRequest req = request();
    req.plan.target = "build";
    auto b = build(req);
    const Tree bt = rootfs(b);
    expect_file(bt, "/src/main.c", "int main;\n");
    EXPECT_TRUE(bt.count("/etc/passwd")) << "--target build is the stage FROM base";
    EXPECT_EQ(outcomes(b), "CC") << "built already as part of the full build";

    req.plan.target = "nope";
    EXPECT_THROW(build(req), Error);
}

TEST_F(BuildTest, OnbuildTriggersRunInTheChildStage) {
    file("app.txt", "app\n");
    executor::BuildRequest req = request(
        "FROM base:latest\n"
        "ONBUILD COPY app.txt /from-trigger.txt\n"
        "ONBUILD ENV TRIGGERED=yes\n");
    req.tags = {store::Reference::parse("parent:latest")};
    auto parent = build(req);
    EXPECT_EQ(config(parent).config.on_build.size(), 2u);
    EXPECT_EQ(rootfs(parent).count("/from-trigger.txt"), 0u);

    auto child = build("FROM parent:latest\nENV AFTER=1\n");
    const auto cfg = config(child);
    EXPECT_EQ(cfg.config.env_value("TRIGGERED"), "yes");
    EXPECT_TRUE(cfg.config.on_build.empty()) << "triggers do not carry over";
    expect_file(rootfs(child), "/from-trigger.txt", "app\n");
}

TEST_F(BuildTest, ArgAndEnvScoping) {
    file("v1/f", "one");
    file("v2/f", "two");
    const std::string df =
        "ARG VERSION=v1\n"
        "ARG BASE=base:latest\n"
        "FROM ${BASE}\n"
        "ARG VERSION\n"
        "COPY ${VERSION}/f /f-${VERSION}\n"
        "ENV VERSION=env-wins\n"
        "ENV AFTER_ENV=${VERSION}\n"
        "ARG VERSION=ignored\n"
        "ENV SEEN=${VERSION}\n"
        "ARG UNDECLARED_IN_FROM\n"
        "ENV EMPTY=${UNDECLARED_IN_FROM:-unset}\n";
    auto r = build(df);
    const Tree t = rootfs(r);
    expect_file(t, "/f-v1", "one");
    const auto cfg = config(r);
    // An ARG after an ENV of the same name wins for later expansions, as in
    // BuildKit (checked against it): one ordered environment per stage. The
    // image keeps the ENV value; ARGs never reach it.
    EXPECT_EQ(cfg.config.env_value("SEEN"), "ignored");
    EXPECT_EQ(cfg.config.env_value("VERSION"), "env-wins");
    EXPECT_EQ(cfg.config.env_value("EMPTY"), "unset");
    EXPECT_EQ(cfg.config.env_value("AFTER_ENV"), "env-wins") << "ENV overrides an earlier ARG";
    EXPECT_FALSE(cfg.config.env_value("BASE").has_value()) << "ARGs never reach the image";

    executor::BuildRequest req = request();
    req.plan.build_args = {{"VERSION", "v2"}};
    const Tree t2 = rootfs(build(req));
    expect_file(t2, "/f-v2", "two");
    EXPECT_EQ(t2.count("/f-v1"), 0u);
}

TEST_F(BuildTest, LabelFlagGoesOnTheFinalImage) {
    executor::BuildRequest req = request("FROM base:latest\nLABEL a=dockerfile b=keep\n");
    req.labels = {{"a", "flag"}, {"c", ""}};
    const auto cfg = config(build(req));
    EXPECT_EQ(cfg.config.labels.at("a"), "flag");
    EXPECT_EQ(cfg.config.labels.at("b"), "keep");
    EXPECT_EQ(cfg.config.labels.at("c"), "");
}

TEST_F(BuildTest, MissingSourceIsALocatedError) {
    dockerfile("FROM base:latest\n\nCOPY nope.txt /x\n");
    try {
        build();
        FAIL() << "expected an error";
    } catch (const frontend::ParseError& e) {
        const auto& d = e.diagnostic();
        EXPECT_EQ(d.pos.line, 3u);
        EXPECT_NE(d.message.find("nope.txt"), std::string::npos) << d.message;
        EXPECT_NE(d.message.find("not found"), std::string::npos) << d.message;
        EXPECT_EQ(d.line_text, "COPY nope.txt /x");
    }
    // Nothing half-written is left in the store's staging area.
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

TEST_F(BuildTest, MissingBaseImageSaysHowToGetIt) {
    dockerfile("FROM ghost:1\n");
    try {
        build();
        FAIL() << "expected an error";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 1u);
        EXPECT_NE(e.diagnostic().message.find("strata load"), std::string::npos)
            << e.diagnostic().message;
    }
}

TEST_F(BuildTest, RunWithoutARuntimeIsALocatedError) {
    dockerfile("FROM base:latest\nRUN echo hi\n");
    try {
        build();
        FAIL() << "expected an error";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2u);
        EXPECT_NE(e.diagnostic().message.find("RUN"), std::string::npos);
    }
}

TEST_F(BuildTest, DestinationThroughASymlinkStaysInTheImage) {
    file("x.txt", "x");
    // /opt/data -> /srv in the base image.
    const Tree t = rootfs(build("FROM base:latest\nCOPY x.txt /opt/data/\n"));
    expect_file(t, "/srv/x.txt", "x");
    expect_file(t, "/srv/existing.txt", "was here\n");
    EXPECT_EQ(t.at("/opt/data").type, 'l');
}

TEST_F(BuildTest, DockerignoreHidesFilesFromCopy) {
    file("keep.txt", "k");
    file("secret.env", "s");
    file("logs/a.log", "l");
    file(".dockerignore", "*.env\nlogs\n");
    const Tree t = rootfs(build("FROM scratch\nCOPY . /app/\n"));
    EXPECT_TRUE(t.count("/app/keep.txt"));
    EXPECT_FALSE(t.count("/app/secret.env"));
    EXPECT_FALSE(t.count("/app/logs"));
    dockerfile("FROM scratch\nCOPY secret.env /\n");
    EXPECT_THROW(build(), frontend::ParseError);
}

}  // namespace
}  // namespace strata::buildtest
