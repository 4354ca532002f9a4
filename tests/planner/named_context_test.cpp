// Named contexts (--build-context): what FROM NAME, COPY --from=NAME and
// RUN --mount=from=NAME read, in BuildKit's order — a stage of that name is
// replaced by the context, FROM and --from name it by the familiar
// reference without ":latest", a stage name comes before a context of the
// name only when no context has the stage's name.
#include <gtest/gtest.h>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

// The CLI's key (store::Reference's familiar form), for the names here.
std::optional<std::string> fake_key(const std::string& ref) {
    std::string key = ref;
    if (key.rfind("docker.io/library/", 0) == 0) key.erase(0, 18);
    if (key.size() > 7 && key.compare(key.size() - 7, 7, ":latest") == 0)
        key.resize(key.size() - 7);
    if (key.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) return std::nullopt;
    return key;
}

PlanOptions with_contexts(std::map<std::string, NamedContext> contexts) {
    PlanOptions o = testing::options();
    o.named_contexts = std::move(contexts);
    o.context_key = fake_key;
    return o;
}

NamedContext local() {
    return NamedContext{NamedContext::Kind::kLocal, ""};
}
NamedContext pinned(std::string ref) {
    return NamedContext{NamedContext::Kind::kImage, std::move(ref)};
}

TEST(NamedContext, FromALocalContextStartsWithItsFilesAsALayer) {
    FakeResolver images;
    const BuildPlan p =
        testing::plan("FROM src\nRUN make\n", images, with_contexts({{"src", local()}}));
    ASSERT_EQ(p.stages.size(), 1U);
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(s.base_kind, StagePlan::BaseKind::kScratch);
    EXPECT_TRUE(s.from_display.empty());
    ASSERT_EQ(s.steps.size(), 2U);
    const Step& files = s.steps[0];
    EXPECT_EQ(files.kind, StepKind::kCopy);
    EXPECT_EQ(files.copy.from.kind, SourceRef::Kind::kContext);
    EXPECT_EQ(files.copy.from.context, "src");
    EXPECT_EQ(files.copy.sources, (std::vector<std::string>{"."}));
    EXPECT_EQ(files.copy.dest_path, "/");
    EXPECT_EQ(files.display, "[context src] COPY . /");
    ASSERT_TRUE(files.effect.history);
    EXPECT_EQ(files.effect.history->created_by, "local source for context:src");
    EXPECT_FALSE(files.effect.history->empty_layer);
    EXPECT_EQ(files.instruction.range.start.line, 1U) << "located at the FROM";
    EXPECT_NE(std::find(files.key_fields.begin(), files.key_fields.end(),
                        KeyField{"from", "context:src"}),
              files.key_fields.end());
    EXPECT_EQ(s.steps[1].display, "[1/1] RUN make") << "the context's files are no numbered step";
    EXPECT_TRUE(images.calls.empty());
}

TEST(NamedContext, AnImageContextIsLookedUpByTheFamiliarName) {
    FakeResolver images;
    images.images["pinned/alpine:3.13"] = testing::image("sha256:pinned", {"A=1"});
    for (const char* from : {"alpine", "alpine:latest", "docker.io/library/alpine:latest"}) {
        images.calls.clear();
        const BuildPlan p =
            testing::plan(std::string("FROM ") + from + "\nRUN echo $A\n", images,
                          with_contexts({{"alpine", pinned("pinned/alpine:3.13")}}));
        const StagePlan& s = p.target_stage();
        EXPECT_EQ(s.base_kind, StagePlan::BaseKind::kImage) << from;
        EXPECT_EQ(s.base_image.digest, "sha256:pinned") << from;
        EXPECT_EQ(s.from_display, "[context alpine] pinned/alpine:3.13") << from;
        EXPECT_EQ(images.calls, (std::vector<std::string>{"pinned/alpine:3.13"})) << from;
        ASSERT_EQ(s.steps.size(), 1U);
        EXPECT_EQ(s.steps[0].display, "[1/1] RUN echo 1") << from << ": the env of the image";
    }
    // Another tag is another name.
    images.images["alpine:3.20"] = testing::image("sha256:hub");
    const BuildPlan other = testing::plan(
        "FROM alpine:3.20\n", images, with_contexts({{"alpine", pinned("pinned/alpine:3.13")}}));
    EXPECT_EQ(other.target_stage().base_image.digest, "sha256:hub");
}

TEST(NamedContext, AStageOfTheNameIsReplacedAndItsInstructionsNotPlanned) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    const std::string text =
        "FROM alpine AS src\n"
        "RUN exit 1\n"
        "FROM alpine\n"
        "COPY --from=src /a /a\n"
        "RUN --mount=from=src,target=/m cat /m/a\n"
        "COPY --from=0 /b /b\n";
    const BuildPlan p = testing::plan(text, images, with_contexts({{"src", local()}}));
    ASSERT_EQ(p.stages.size(), 1U) << "the replaced stage is not built for --from";
    const StagePlan& s = p.target_stage();
    EXPECT_TRUE(s.depends_on.empty());
    for (const SourceRef* ref :
         {&s.steps[0].copy.from, &s.steps[1].run.mounts.at(0).from, &s.steps[2].copy.from}) {
        EXPECT_EQ(ref->kind, SourceRef::Kind::kContext);
        EXPECT_EQ(ref->context, "src");
    }

    // As --target: the context itself (a local one: its files).
    const BuildPlan t = testing::plan(text, images, [] {
        PlanOptions o = with_contexts({{"src", local()}});
        o.target = "src";
        return o;
    }());
    ASSERT_EQ(t.stages.size(), 1U);
    ASSERT_EQ(t.target_stage().steps.size(), 1U);
    EXPECT_EQ(t.target_stage().steps[0].display, "[context src] COPY . /");

    // An image context replacing a stage: the stage is that image, FROM it
    // builds on it.
    images.images["pinned:1"] = testing::image("sha256:pinned");
    const BuildPlan i = testing::plan("FROM alpine AS base\nRUN exit 1\nFROM base\nRUN true\n",
                                      images, with_contexts({{"base", pinned("pinned:1")}}));
    ASSERT_EQ(i.stages.size(), 2U);
    EXPECT_EQ(i.stage(0).base_image.digest, "sha256:pinned");
    EXPECT_TRUE(i.stage(0).steps.empty());
    EXPECT_EQ(i.stage(1).base_kind, StagePlan::BaseKind::kStage);
}

TEST(NamedContext, CopyFromAnImageNameOrScratchContext) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    images.images["pinned:1"] = testing::image("sha256:pinned");
    const BuildPlan p = testing::plan(
        "FROM alpine\n"
        "COPY --from=busybox:1.36 /bin/sh /sh\n"
        "COPY --from=empty / /\n"
        "COPY --from=scratch / /\n",
        images,
        with_contexts({{"busybox:1.36", pinned("pinned:1")},
                       {"empty", NamedContext{NamedContext::Kind::kScratch, ""}},
                       {"scratch", local()}}));
    const StagePlan& s = p.target_stage();
    EXPECT_EQ(s.steps[0].copy.from.kind, SourceRef::Kind::kImage);
    EXPECT_EQ(s.steps[0].copy.from.image, "pinned:1");
    EXPECT_EQ(s.steps[0].copy.from.image_digest, "sha256:pinned");
    EXPECT_EQ(s.steps[1].copy.from.kind, SourceRef::Kind::kScratch);
    EXPECT_EQ(s.steps[2].copy.from.kind, SourceRef::Kind::kScratch)
        << "scratch is never a context's name";
}

TEST(NamedContext, WithoutAContextOfItsNameAStageIsStillTheStage) {
    FakeResolver images;
    images.images["alpine"] = testing::image("sha256:alpine");
    const BuildPlan p =
        testing::plan("FROM alpine AS build\nRUN make\nFROM alpine\nCOPY --from=build /a /a\n",
                      images, with_contexts({{"other", local()}}));
    ASSERT_EQ(p.stages.size(), 2U);
    EXPECT_EQ(p.target_stage().steps[0].copy.from.kind, SourceRef::Kind::kStage);
}

}  // namespace
}  // namespace strata::planner
