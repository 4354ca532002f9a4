// The stage graph: FROM <stage>, COPY --from by name / index / image,
// RUN --mount=from, target pruning, order, located errors for cycles and
// bad references, ONBUILD injection and BuildKit's progress names.
#include <gtest/gtest.h>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

std::vector<size_t> indices(const BuildPlan& p) {
    std::vector<size_t> out;
    for (const StagePlan& s : p.stages)
        out.push_back(s.index);
    return out;
}

// Expects a ParseError whose message contains `what`, located on `line`.
void expect_error(const std::string& text, const std::string& what, uint32_t line,
                  const PlanOptions& opts = testing::options()) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    try {
        testing::plan(text, images, opts);
        FAIL() << "expected: " << what;
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        EXPECT_EQ(e.diagnostic().pos.line, line) << e.what();
        EXPECT_FALSE(e.diagnostic().line_text.empty());
    }
}

constexpr const char* kMulti =
    "FROM alpine AS base\n"  // 0
    "RUN echo base\n"
    "FROM base AS build\n"  // 1
    "COPY . /src\n"
    "FROM alpine AS unused\n"  // 2
    "RUN echo unused\n"
    "FROM scratch AS tools\n"  // 3
    "COPY tool /tool\n"
    "FROM alpine\n"  // 4
    "COPY --from=build /src /app\n"
    "COPY --from=3 /tool /usr/bin/tool\n"
    "COPY --from=busybox:1 /bin/sh /bin/sh\n";

TEST(StageGraph, TargetPrunesWhatItDoesNotNeed) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    images.images["busybox:1"] = testing::image("sha256:busybox");
    const BuildPlan p = testing::plan(kMulti, images);
    EXPECT_EQ(indices(p), (std::vector<size_t>{0, 1, 3, 4}));
    EXPECT_EQ(p.target, 4U);
    EXPECT_EQ(p.target_stage().index, 4U);
    const StagePlan& last = p.target_stage();
    EXPECT_EQ(last.depends_on, (std::vector<size_t>{1, 3}));
    ASSERT_EQ(last.steps.size(), 3U);
    EXPECT_EQ(last.steps[0].copy.from.kind, SourceRef::Kind::kStage);
    EXPECT_EQ(last.steps[0].copy.from.stage, 1U);
    EXPECT_EQ(last.steps[1].copy.from.kind, SourceRef::Kind::kStage);
    EXPECT_EQ(last.steps[1].copy.from.stage, 3U);
    EXPECT_EQ(last.steps[2].copy.from.kind, SourceRef::Kind::kImage);
    EXPECT_EQ(last.steps[2].copy.from.image, "busybox:1");
    EXPECT_EQ(last.steps[2].copy.from.image_digest, "sha256:busybox");
    EXPECT_EQ(p.stage(1).base_kind, StagePlan::BaseKind::kStage);
    EXPECT_EQ(p.stage(1).base_stage, 0U);
    EXPECT_EQ(p.stage(3).base_kind, StagePlan::BaseKind::kScratch);
    EXPECT_EQ(std::count(images.calls.begin(), images.calls.end(), "alpine"), 1)
        << "each image is resolved once";
    EXPECT_THROW(p.stage(2), Error);
}

TEST(StageGraph, TargetByNameIsCaseInsensitive) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    const BuildPlan p = testing::plan(kMulti, images, testing::options({}, "BUILD"));
    EXPECT_EQ(indices(p), (std::vector<size_t>{0, 1}));
    EXPECT_EQ(p.target, 1U);
    const BuildPlan u = testing::plan(kMulti, images, testing::options({}, "unused"));
    EXPECT_EQ(indices(u), (std::vector<size_t>{2}));
}

TEST(StageGraph, UnknownTargetIsAUsageErrorWithASuggestion) {
    FakeResolver images;
    try {
        testing::plan(kMulti, images, testing::options({}, "biuld"));
        FAIL();
    } catch (const frontend::ParseError&) {
        FAIL() << "not a Dockerfile error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_NE(std::string(e.what()).find("target stage \"biuld\" could not be found"),
                  std::string::npos);
        EXPECT_NE(std::string(e.what()).find("did you mean build?"), std::string::npos) << e.what();
    }
}

TEST(StageGraph, StageNamesAreCaseInsensitiveInFromAndCopyFrom) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch AS Builder\nCOPY a /a\nFROM BUILDER\nCOPY --from=bUiLdEr /a /b\n", images);
    EXPECT_EQ(p.stages[1].base_kind, StagePlan::BaseKind::kStage);
    EXPECT_EQ(p.stages[1].steps[0].copy.from.stage, 0U);
}

TEST(StageGraph, ForwardFromIsAnImageNotAStage) {
    FakeResolver images;
    images.images["later"] = testing::image("sha256:later");
    const BuildPlan p = testing::plan("FROM later AS first\nFROM scratch AS later\n", images,
                                      testing::options({}, "first"));
    ASSERT_EQ(p.stages.size(), 1U);
    EXPECT_EQ(p.stages[0].base_kind, StagePlan::BaseKind::kImage);
    EXPECT_EQ(p.stages[0].base_image.digest, "sha256:later");
}

TEST(StageGraph, RunMountFromAStageIsADependency) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch AS deps\nCOPY x /x\nFROM scratch AS other\n"
        "FROM scratch\nRUN --mount=type=bind,from=deps,target=/deps "
        "--mount=type=cache,target=/cache --mount=type=bind,target=/ctx make\n",
        images);
    EXPECT_EQ(indices(p), (std::vector<size_t>{0, 2}));
    const Step& run = p.target_stage().steps[0];
    ASSERT_EQ(run.run.mounts.size(), 3U);
    EXPECT_EQ(run.run.mounts[0].from.kind, SourceRef::Kind::kStage);
    EXPECT_EQ(run.run.mounts[0].target, "/deps");
    EXPECT_TRUE(run.run.mounts[0].read_only);
    EXPECT_EQ(run.run.mounts[1].from.kind, SourceRef::Kind::kScratch);
    EXPECT_FALSE(run.run.mounts[1].read_only);
    EXPECT_EQ(run.run.mounts[2].from.kind, SourceRef::Kind::kContext);
}

TEST(StageGraph, LocatedErrors) {
    expect_error("FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\nCOPY --from=a /x /y\n",
                 "circular dependency detected on stage: a", 2);
    expect_error("FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\n",
                 "cannot copy from stage \"b\", it needs to be defined before current stage \"a\"",
                 2, testing::options({}, "a"));
    expect_error("FROM scratch\nCOPY --from=5 /x /y\n", "invalid stage index 5", 2);
    expect_error("FROM scratch\nCOPY --from=-1 /x /y\n", "invalid stage index -1", 2);
    expect_error("FROM scratch\nARG S=a\nCOPY --from=$S /x /y\n",
                 "variable expansion is not supported for --from", 3);
    expect_error(
        "FROM scratch\n\nCOPY --chmod=999 a /b\n",
        "invalid chmod parameter: '999'. it should be octal string and between 0 and 07777", 3);
    expect_error("FROM scratch\nEXPOSE 80/xyz\n", "invalid proto: xyz", 2);
    expect_error("FROM scratch\nSTOPSIGNAL SIGNOPE\n", "Invalid signal: SIGNOPE", 2);
    expect_error("FROM scratch\nCOPY http://example.com/a /a\n", "source can't be a URL for COPY",
                 2);
    expect_error("FROM scratch\nADD --checksum=sha256:00 a /a\n", "checksum requires HTTP(S)", 2);
    expect_error("FROM --platform=linux/s390x alpine\n", "platform linux/s390x is not supported",
                 1);
    expect_error("FROM scratch\nRUN --mount=type=nope,target=/x true\n", "unsupported mount type",
                 2);
}

TEST(StageGraph, ErrorLocationPointsAtTheFlag) {
    FakeResolver images;
    try {
        testing::plan("FROM scratch\nCOPY  --chmod=99z a /b\n", images);
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2U);
        EXPECT_EQ(e.diagnostic().pos.column, 7U);
        EXPECT_EQ(e.diagnostic().line_text, "COPY  --chmod=99z a /b");
    }
}

TEST(StageGraph, MissingImageKeepsItsKindAndGainsALocation) {
    FakeResolver images;
    try {
        testing::plan("FROM scratch\nFROM nope:1\n", images);
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find("Dockerfile:2:1:"), std::string::npos) << e.what();
        EXPECT_EQ(e.diagnostic().line_text, "FROM nope:1");
    }
}

TEST(StageGraph, OnbuildTriggersOfTheBaseImageRunFirst) {
    FakeResolver images;
    images.images["app-base"] = testing::image(
        "sha256:ab", {}, {"COPY --from=assets /a /a", "RUN echo onbuild", "ENV FROM_TRIGGER=1"});
    const BuildPlan p = testing::plan(
        "FROM scratch AS assets\nCOPY a /a\nFROM scratch AS unrelated\n"
        "FROM app-base\nENV OWN=$FROM_TRIGGER\nRUN echo own\n",
        images);
    // The trigger's COPY --from made "assets" a dependency.
    EXPECT_EQ(indices(p), (std::vector<size_t>{0, 2}));
    const StagePlan& s = p.target_stage();
    ASSERT_EQ(s.steps.size(), 5U);
    EXPECT_TRUE(s.steps[0].from_onbuild);
    EXPECT_EQ(s.steps[0].copy.from.stage, 0U);
    EXPECT_TRUE(s.steps[2].from_onbuild);
    EXPECT_FALSE(s.steps[3].from_onbuild);
    EXPECT_EQ(s.steps[3].effect.env, (std::vector<EnvVar>{{"OWN", "1"}}));
    EXPECT_TRUE(s.start_effect.clear_onbuild);
    // BuildKit counts every trigger in the total but shows only COPY/ADD/RUN/WORKDIR.
    EXPECT_EQ(s.from_display, "[stage-2 1/5] FROM app-base");
    EXPECT_EQ(s.steps[0].display, "[stage-2 2/5] ONBUILD COPY --from=assets /a /a");
    EXPECT_EQ(s.steps[1].display, "[stage-2 3/5] ONBUILD RUN echo onbuild");
    EXPECT_EQ(s.steps[2].display, "");
    EXPECT_EQ(s.steps[4].display, "[stage-2 4/5] RUN echo own");
}

TEST(StageGraph, OnbuildOfABaseStageRunsInTheChild) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch AS parent\nONBUILD COPY x /x\nENV P=1\nFROM parent\nRUN true\n", images);
    const StagePlan& parent = p.stages[0];
    ASSERT_EQ(parent.steps.size(), 2U);
    EXPECT_EQ(parent.steps[0].effect.onbuild, std::vector<std::string>{"COPY x /x"});
    EXPECT_FALSE(parent.steps[0].effect.history.has_value()) << "BuildKit records no history";
    const StagePlan& child = p.stages[1];
    ASSERT_EQ(child.steps.size(), 2U);
    EXPECT_TRUE(child.steps[0].from_onbuild);
    EXPECT_EQ(child.steps[0].copy.sources, std::vector<std::string>{"x"});
    EXPECT_TRUE(child.start_effect.clear_onbuild);
}

TEST(StageGraph, BadOnbuildTriggerIsLocatedAtTheFrom) {
    FakeResolver images;
    images.images["bad"] = testing::image("sha256:bad", {}, {"ONBUILD RUN x"});
    images.images["worse"] = testing::image("sha256:w", {}, {"NOTANINSTRUCTION x"});
    for (const std::string ref : {"bad", "worse"}) {
        try {
            testing::plan("FROM scratch\n\nFROM " + ref + "\n", images);
            FAIL();
        } catch (const frontend::ParseError& e) {
            EXPECT_EQ(e.diagnostic().pos.line, 3U) << e.what();
        }
    }
}

TEST(StageGraph, ProgressNames) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    images.images["alpine"].canonical_ref = "docker.io/library/alpine:latest@sha256:alpine";
    // One stage: no stage name in the prefix.
    BuildPlan p =
        testing::plan("FROM alpine\nENV A=1\nCOPY . /src\nRUN   echo $A \\\n  \"$B\"\n", images);
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(s.display_name, "");
    EXPECT_EQ(s.from_display, "[1/3] FROM docker.io/library/alpine:latest@sha256:alpine");
    EXPECT_EQ(s.steps[0].display, "");
    EXPECT_EQ(s.steps[1].display, "[2/3] COPY . /src");
    EXPECT_EQ(s.steps[2].display, "[3/3] RUN   echo 1   \"$B\"");

    // Named and unnamed stages; ten steps make the index two digits wide.
    std::string text = "FROM scratch AS build\n";
    for (int i = 0; i < 10; ++i)
        text += "COPY f" + std::to_string(i) + " /\n";
    text += "FROM alpine\nCOPY --from=build /f0 /\nWORKDIR /\nWORKDIR app\n";
    p = testing::plan(text, images);
    EXPECT_EQ(p.stages[0].display_name, "build");
    EXPECT_EQ(p.stages[0].steps[0].display, "[build  1/10] COPY f0 /");
    EXPECT_EQ(p.stages[0].steps[9].display, "[build 10/10] COPY f9 /");
    EXPECT_EQ(p.stages[1].display_name, "stage-1");
    EXPECT_EQ(p.stages[1].from_display,
              "[stage-1 1/4] FROM docker.io/library/alpine:latest@sha256:alpine");
    EXPECT_EQ(p.stages[1].steps[1].display, "") << "WORKDIR / is not shown";
    EXPECT_EQ(p.stages[1].steps[2].display, "[stage-1 3/4] WORKDIR app");

    // A single stage that copies from an image counts as two states in BuildKit.
    p = testing::plan("FROM scratch\nCOPY --from=alpine /x /x\n", images);
    EXPECT_EQ(p.target_stage().steps[0].display, "[stage-0 1/1] COPY --from=alpine /x /x");
}

}  // namespace
}  // namespace strata::planner
