// The cache, table-driven, through whole builds: each row edits the
// Dockerfile, the context, the build args or the base image after a first
// build, rebuilds, and states for every filesystem step whether it must come
// from the cache (C) or be built again (B). The rows include the cases the
// reference implementation got wrong at some point (DESIGN.md "The cache
// key"); the issue numbers are in the row names' comments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>

#include "build_fixture.hpp"
#include "cache/cache_index.hpp"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace strata::buildtest {
namespace {

// Filesystem steps, in order: build stage — 1 WORKDIR, 2 COPY go.mod go.sum,
// 3 COPY . ., 4 COPY --chmod tool, 5 COPY --chown main.go; final stage —
// 6 COPY --from=build, 7 ADD data.tar, 8 COPY config.json.
const char* kDockerfile =
    "# the baseline\n"
    "ARG BASE=base:latest\n"
    "FROM ${BASE} AS build\n"
    "ARG VERSION=1\n"
    "ENV APP=demo\n"
    "WORKDIR /src\n"
    "COPY go.mod go.sum ./\n"
    "COPY --exclude=tool.sh --exclude=*.tmp --exclude=data.tar . .\n"
    "COPY --chmod=0755 tool.sh /usr/local/bin/tool\n"
    "COPY --chown=app main.go /owned/main.go\n"
    "LABEL version=${VERSION}\n"
    "FROM base:latest\n"
    "ARG FLAVOR=std\n"
    "COPY --from=build /src/main.go /owned /app/\n"
    "ADD data.tar /data/\n"
    "COPY config.json /etc/${FLAVOR}/\n"
    "ENV MODE=prod\n"
    "CMD [\"/app/main.go\"]\n";

class CacheTable;
using Edit = std::function<void(CacheTable&, executor::BuildRequest&)>;

struct Row {
    std::string name;
    Edit edit;
    std::string expected;  // one letter per filesystem step
    // Whether the rebuild must (1) or must not (0) be answered from the first
    // build's summary (BuildResult::from_summary); -1: either.
    int from_summary = -1;
};

class CacheTable : public BuildTest, public ::testing::WithParamInterface<Row> {
  public:
    void baseline() {
        file("go.mod", "module demo\n");
        file("go.sum", "sum v1\n");
        file("main.go", "package main\n");
        file("README.md", "# demo\n");
        file("tool.sh", "#!/bin/sh\necho tool\n", 0644);
        file("scratch.tmp", "excluded by --exclude\n");
        file("config.json", "{}\n");
        // The Dockerfile stays out of `COPY . .`, so that editing it is not
        // also a change of the copied files (it is part of the context).
        file(".dockerignore", "*.log\nDockerfile\n");
        file("data.tar", TarBuilder().file("d.txt", "data v1\n").finish());
        fs::create_symlink("go.mod", ctx() / "lnk");
        dockerfile(kDockerfile);
    }

    // Rewrites a context file keeping its content; the timestamps move.
    void touch(const std::string& rel, time_t when) {
        struct timeval tv[2] = {{when, 0}, {when, 0}};
        ASSERT_EQ(::lutimes((ctx() / rel).c_str(), tv), 0) << rel;
    }
    void replace_in_dockerfile(const std::string& from, const std::string& to) {
        std::string text = imagetest::read_file(ctx() / "Dockerfile");
        const size_t at = text.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
        dockerfile(text);
    }

    fs::path context_dir_ = ctx();
};

TEST_P(CacheTable, Row) {
    const Row& row = GetParam();
    baseline();
    auto first = build();
    ASSERT_EQ(outcomes(first), "BBBBBBBB");

    executor::BuildRequest req = request();
    row.edit(*this, req);
    if (HasFatalFailure() || IsSkipped()) return;
    // The edit may have rewritten the Dockerfile or moved the context.
    req.dockerfile_path = context_dir_ / "Dockerfile";
    req.context_dir = context_dir_;
    req.dockerfile_text = imagetest::read_file(req.dockerfile_path);
    const auto second = build(req);
    EXPECT_EQ(outcomes(second), row.expected) << row.name;

    // Built again without the edit's --no-cache: every step cached, the same
    // image — whether from the second build's summary (build_summary.hpp) or
    // the usual way. The first build's summary must never have answered the
    // second one unless nothing it depends on changed.
    req.plan.no_cache = false;
    req.plan.no_cache_filter.clear();
    const auto third = build(req);
    EXPECT_EQ(third.image.manifest, second.image.manifest) << row.name;
    EXPECT_EQ(outcomes(third).find('B'), std::string::npos) << outcomes(third);
    if (row.from_summary >= 0) {
        EXPECT_EQ(second.from_summary, row.from_summary == 1) << row.name;
    }
    if (second.from_summary) {
        EXPECT_EQ(second.image.manifest, first.image.manifest) << row.name;
    }
}

const Row kRows[] = {
    {"nothing_changed", [](CacheTable&, executor::BuildRequest&) {}, "CCCCCCCC", 1},
    {"touch_one_file_without_changing_it",
     [](CacheTable& t, executor::BuildRequest&) { t.touch("main.go", 2000000000); }, "CCCCCCCC"},
    {"touch_every_file",
     [](CacheTable& t, executor::BuildRequest&) {
         for (const char* f : {"go.mod", "go.sum", "main.go", "README.md", "tool.sh", "config.json",
                               "data.tar", "lnk", "Dockerfile"})
             t.touch(f, 1999999999);
     },
     "CCCCCCCC"},
    {"one_byte_of_a_copied_file",
     [](CacheTable& t, executor::BuildRequest&) { t.file("main.go", "package mains\n"); },
     "CCBBBBBB"},
    {"a_file_only_copy_dot_selects",
     [](CacheTable& t, executor::BuildRequest&) { t.file("README.md", "# demo 2\n"); }, "CCBBBBBB"},
    {"first_of_two_sources",
     [](CacheTable& t, executor::BuildRequest&) { t.file("go.mod", "module demo2\n"); },
     "CBBBBBBB"},
    // moby/buildkit#853, #894: only the second of several sources changed.
    {"second_of_two_sources",
     [](CacheTable& t, executor::BuildRequest&) { t.file("go.sum", "sum v2\n"); }, "CBBBBBBB"},
    {"source_order",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("go.mod go.sum", "go.sum go.mod");
     },
     "CBBBBBBB"},
    {"mode_of_a_copied_file",
     [](CacheTable& t, executor::BuildRequest&) {
         ASSERT_EQ(::chmod((t.ctx() / "main.go").c_str(), 0600), 0);
     },
     "CCBBBBBB"},
    {"mode_of_a_file_copied_with_chmod",
     [](CacheTable& t, executor::BuildRequest&) {
         ASSERT_EQ(::chmod((t.ctx() / "tool.sh").c_str(), 0700), 0);
     },
     "CCCCCCCC"},
    {"content_of_a_file_copied_with_chmod",
     [](CacheTable& t, executor::BuildRequest&) { t.file("tool.sh", "#!/bin/sh\necho v2\n"); },
     "CCCBBBBB"},
    // moby/moby#32816: owners differ between machines; COPY without --chown.
    {"owner_of_a_context_file",
     [](CacheTable& t, executor::BuildRequest&) {
         if (::lchown((t.ctx() / "main.go").c_str(), 1234, 1234) != 0)
             GTEST_SKIP() << "changing a file's owner needs root";
     },
     "CCCCCCCC"},
    {"a_file_the_dockerignore_excludes",
     [](CacheTable& t, executor::BuildRequest&) { t.file("debug.log", "noise\n"); }, "CCCCCCCC"},
    {"a_file_copy_exclude_leaves_out",
     [](CacheTable& t, executor::BuildRequest&) { t.file("scratch.tmp", "changed\n"); },
     "CCCCCCCC"},
    {"dockerignore_excludes_more",
     [](CacheTable& t, executor::BuildRequest&) {
         t.file(".dockerignore", "*.log\nDockerfile\nREADME.md\n");
     },
     "CCBBBBBB"},
    {"a_new_file", [](CacheTable& t, executor::BuildRequest&) { t.file("new.txt", "n\n"); },
     "CCBBBBBB"},
    {"a_deleted_file",
     [](CacheTable& t, executor::BuildRequest&) { fs::remove(t.ctx() / "README.md"); }, "CCBBBBBB"},
    {"symlink_target",
     [](CacheTable& t, executor::BuildRequest&) {
         fs::remove(t.ctx() / "lnk");
         fs::create_symlink("go.sum", t.ctx() / "lnk");
     },
     "CCBBBBBB"},
    {"an_unrelated_build_arg",
     [](CacheTable&, executor::BuildRequest& r) { r.plan.build_args["UNUSED"] = "x"; }, "CCCCCCCC"},
    {"a_build_arg_only_a_label_reads",
     [](CacheTable&, executor::BuildRequest& r) { r.plan.build_args["VERSION"] = "2"; },
     "CCCCCCCC"},
    {"a_build_arg_a_copy_destination_reads",
     [](CacheTable&, executor::BuildRequest& r) { r.plan.build_args["FLAVOR"] = "slim"; },
     "CCCCCCCB"},
    {"build_arg_order",
     [](CacheTable&, executor::BuildRequest& r) {
         r.plan.build_args = planner::resolve_build_args(
             {"B=2", "A=1"}, [](const std::string&) { return std::optional<std::string>(); });
     },
     "CCCCCCCC"},
    {"a_comment",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("# the baseline\n", "# the baseline, edited\n# more\n");
     },
     "CCCCCCCC"},
    {"white_space_and_continuations",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("COPY go.mod go.sum ./", "COPY   go.mod \\\n    go.sum   ./");
     },
     "CCCCCCCC"},
    {"keyword_case",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("COPY config.json", "copy config.json");
     },
     "CCCCCCCC"},
    {"an_env_nothing_reads",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("APP=demo", "APP=other");
     },
     "CCCCCCCC"},
    {"final_stage_metadata",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("MODE=prod", "MODE=dev");
         t.replace_in_dockerfile("CMD [\"/app/main.go\"]", "CMD [\"/app/other\"]");
     },
     "CCCCCCCC"},
    {"an_earlier_step",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("COPY --chown=app main.go /owned/main.go",
                                 "COPY --chown=app main.go /owned/main.go\nCOPY go.mod /extra\n");
     },
     "CCCCCBBBB"},
    {"the_base_image",
     [](CacheTable& t, executor::BuildRequest&) {
         t.import("base:latest", base_rootfs_tar() /* same bytes */);
         t.import("base:latest",
                  TarBuilder()
                      .dir("etc")
                      .file("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:1:1::/:/bin/sh\n")
                      .file("etc/group", "root:x:0:\n")
                      .finish());
     },
     "BBBBBBBB"},
    {"a_global_arg_switches_one_base",
     [](CacheTable& t, executor::BuildRequest& r) {
         t.import("other:latest", TarBuilder()
                                      .dir("etc")
                                      .file("etc/passwd", "app:x:9:9::/:/bin/sh\n")
                                      .file("etc/group", "app:x:9:\n")
                                      .finish());
         r.plan.build_args["BASE"] = "other:latest";
     },
     "BBBBBBBB"},
    {"no_cache", [](CacheTable&, executor::BuildRequest& r) { r.plan.no_cache = true; },
     "BBBBBBBB"},
    {"no_cache_filter_one_stage",
     [](CacheTable&, executor::BuildRequest& r) { r.plan.no_cache_filter = {"build"}; },
     "BBBBBCCC"},
    // moby/moby#43377: an ADDed tar with the same bytes and a new mtime.
    {"added_tar_touched",
     [](CacheTable& t, executor::BuildRequest&) { t.touch("data.tar", 1888888888); }, "CCCCCCCC"},
    {"added_tar_bytes",
     [](CacheTable& t, executor::BuildRequest&) {
         t.file("data.tar", TarBuilder().file("d.txt", "data v2\n").finish());
     },
     "CCCCCCBB"},
    // moby/buildkit#2012: the same files checked out again on a fresh machine.
    {"fresh_checkout_elsewhere",
     [](CacheTable& t, executor::BuildRequest&) {
         const fs::path copy = t.ctx().parent_path() / "checkout";
         ASSERT_EQ(imagetest::shell("cp -r '" + t.ctx().string() + "' '" + copy.string() + "'"), 0);
         t.context_dir_ = copy;
     },
     "CCCCCCCC"},
    // moby/moby#36378: adding or removing --chown/--chmod.
    {"adding_chown",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("COPY config.json", "COPY --chown=app config.json");
     },
     "CCCCCCCB"},
    {"removing_chmod",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("COPY --chmod=0755 tool.sh", "COPY tool.sh");
     },
     "CCCBBBBB"},
    {"exclude_order",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("--exclude=tool.sh --exclude=*.tmp",
                                 "--exclude=*.tmp --exclude=tool.sh");
     },
     "CCCCCCCC"},
    // moby/buildkit#3291: COPY --from a stage whose file changed only its owner.
    {"owner_change_in_the_source_stage",
     [](CacheTable& t, executor::BuildRequest&) {
         t.replace_in_dockerfile("--chown=app main.go", "--chown=nobody main.go");
     },
     "CCCCBBBB"},  // COPY and the layer writer put the epoch into file times, so an entry
    // made without it (or with another) must not be reused (the false hit
    // of moby/buildkit#3180).
    {"source_date_epoch_set",
     [](CacheTable&, executor::BuildRequest& r) {
         r.plan.build_args["SOURCE_DATE_EPOCH"] = "1700000000";
     },
     "BBBBBBBB"},
    // The build summary's own inputs (build_summary.hpp): each must make the
    // rebuild look at its steps again.
    {"source_date_epoch_flag",
     [](CacheTable&, executor::BuildRequest& r) { r.source_date_epoch = 1700000000; }, "CCCCCCCC",
     0},
    {"target_the_first_stage",
     [](CacheTable&, executor::BuildRequest& r) { r.plan.target = "build"; }, "CCCCC", 0},
    {"base_tag_moved_to_another_image",
     [](CacheTable& t, executor::BuildRequest&) {
         const auto other =
             t.import("other:latest", TarBuilder()
                                          .dir("etc")
                                          .file("etc/passwd", "app:x:7:7::/:/bin/sh\n")
                                          .file("etc/group", "app:x:7:\n")
                                          .finish());
         auto tx = t.store().begin();
         tx.tag(store::Reference::parse("base:latest"), other.manifest);
         tx.commit();
     },
     "BBBBBBBB", 0},
    {"cache_pruned",
     [](CacheTable& t, executor::BuildRequest&) {
         cache::CacheIndex index(t.store().cache_dir());
         for (const auto& e : index.list())
             index.remove(e.key);
     },
     "BBBBBBBB", 0},
    {"one_cache_entry_replaced_by_another_build",
     [](CacheTable& t, executor::BuildRequest&) {
         cache::CacheIndex index(t.store().cache_dir());
         auto entries = index.list();
         ASSERT_FALSE(entries.empty());
         entries.back().created = "2001-01-01T00:00:00Z";
         index.put(entries.back());
     },
     "CCCCCCCC", 0},
};

INSTANTIATE_TEST_SUITE_P(Edits, CacheTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& i) { return i.param.name; });

TEST(CacheTableSize, HasAtLeastThirtyRows) {
    EXPECT_GE(std::size(kRows), 30u);
}

}  // namespace
}  // namespace strata::buildtest
