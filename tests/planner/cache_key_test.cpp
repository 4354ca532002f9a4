// Cache keys, table-driven: each row edits the inputs (Dockerfile text,
// build args, base images, the files the fake digester sees) before and
// after, and says for every keyed item whether its key must stay the same
// (H, a cache hit) or change (M, a miss).
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeDigester;
using testing::FakeFile;
using testing::FakeResolver;

constexpr const char* kDockerfile = R"(# syntax=docker/dockerfile:1
ARG BASE=base:1
FROM ${BASE} AS build
ARG VERSION=1.0
ENV APP=/app
WORKDIR /src
COPY go.mod go.sum ./
RUN make deps
COPY . .
RUN make VERSION=$VERSION
LABEL stage=build

FROM base:1
COPY --from=build /src/out /usr/bin/app
ENV MODE=prod
COPY config.json /etc/app/
CMD ["app"]
)";

struct Inputs {
    std::string dockerfile = kDockerfile;
    std::map<std::string, std::string> args;
    bool no_cache = false;
    FakeResolver images;
    FakeDigester files;

    Inputs() {
        images.images["base:1"] = testing::image("sha256:base1", {"PATH=/usr/bin"});
        images.images["base:2"] = testing::image("sha256:base2", {"PATH=/usr/bin"});
        files.context["go.mod"] = {"module x"};
        files.context["go.sum"] = {"sums"};
        files.context["main.go"] = {"package main"};
        files.context["config.json"] = {"{}"};
        files.context["app.tar"] = {"tar bytes"};
        files.stages[0]["src/out"] = {"binary", 0755};
        files.urls["https://example.com/tool"] = "tool v1";
    }
    void replace(const std::string& from, const std::string& to) {
        const size_t at = dockerfile.find(from);
        if (at == std::string::npos) throw std::runtime_error("row edit: no \"" + from + "\"");
        dockerfile.replace(at, from.size(), to);
    }
};

// Keys of every stage's FROM and steps, in plan order; also checks that a
// key depends only on the inputs (computing twice gives the same).
std::vector<std::string> keys(Inputs& in) {
    PlanOptions opts = testing::options(in.args);
    opts.no_cache = in.no_cache;
    const BuildPlan plan = testing::plan(in.dockerfile, in.images, opts);
    KeyComputer keys(plan, in.files);
    KeyComputer again(plan, in.files);
    std::vector<std::string> out;
    for (const StagePlan& s : plan.stages) {
        out.push_back(keys.base_key(s.index));
        for (size_t i = 0; i < s.steps.size(); ++i) {
            out.push_back(keys.step_key(s.index, i));
            EXPECT_EQ(out.back(), again.step_key(s.index, i));
        }
    }
    return out;
}

using Edit = std::function<void(Inputs&)>;
void none(Inputs&) {}

struct KeyRow {
    std::string name;
    Edit before;
    Edit after;
    // H/M per item: build FROM + 8 steps, then final FROM + 4 steps (spaces ignored).
    std::string expect;
};

std::vector<KeyRow> rows() {
    const std::string all_hit = "HHHHHHHHH HHHHH";
    return {
        {"nothing changed", none, none, all_hit},
        {"a comment changed", none,
         [](Inputs& in) {
             in.replace("# syntax=docker/dockerfile:1\n",
                        "# syntax=docker/dockerfile:1\n# build it\n");
         },
         all_hit},
        {"white space and line continuations", none,
         [](Inputs& in) {
             in.replace("COPY go.mod go.sum ./", "COPY   go.mod \\\n    go.sum\t./");
             in.replace("RUN make deps", "RUN   make   \\\n      deps  ");
             in.replace("CMD [\"app\"]", "CMD [ \"app\" ]");
         },
         all_hit},
        {"keyword case", none,
         [](Inputs& in) {
             in.replace("COPY . .", "copy . .");
             in.replace("RUN make deps", "run make deps");
             in.replace("WORKDIR /src", "Workdir /src");
             in.replace("FROM base:1\n", "from base:1\n");
         },
         all_hit},
        {"--build-arg order",
         [](Inputs& in) {
             in.args = resolve_build_args({"VERSION=2", "OTHER=x"}, {});
         },
         [](Inputs& in) {
             in.args = resolve_build_args({"OTHER=x", "VERSION=2"}, {});
         },
         all_hit},
        {"unrelated build arg (nothing declares it)", none,
         [](Inputs& in) { in.args["UNRELATED"] = "1"; }, all_hit},
        {"build arg declared only where no RUN can see it",
         [](Inputs& in) { in.replace("ENV MODE=prod", "ARG LATE"); },
         [](Inputs& in) {
             in.replace("ENV MODE=prod", "ARG LATE");
             in.args["LATE"] = "1";
         },
         "HHHHHHHHH HHMHH"},
        {"used build arg: miss from the steps that see it on", none,
         [](Inputs& in) { in.args["VERSION"] = "2.0"; }, "HMHHHMMMM HMMMM"},
        {"ENV change: miss for later steps that see it", none,
         [](Inputs& in) { in.replace("ENV APP=/app", "ENV APP=/opt"); }, "HHMHHMMMM HMMMM"},
        {"ENV change no later step reads", none,
         [](Inputs& in) { in.replace("ENV MODE=prod", "ENV MODE=dev"); }, "HHHHHHHHH HHMHH"},
        {"LABEL change busts nothing else", none,
         [](Inputs& in) { in.replace("LABEL stage=build", "LABEL stage=b2"); }, "HHHHHHHHM HHHHH"},
        {"CMD change", none,
         [](Inputs& in) { in.replace("CMD [\"app\"]", "CMD [\"app\", \"-v\"]"); },
         "HHHHHHHHH HHHHM"},
        {"edit an earlier step", none,
         [](Inputs& in) { in.replace("RUN make deps", "RUN make deps2"); }, "HHHHHMMMM HMMMM"},
        {"WORKDIR change", none, [](Inputs& in) { in.replace("WORKDIR /src", "WORKDIR /build"); },
         "HHHMMMMMM HMMMM"},
        {"base image digest changed", none,
         [](Inputs& in) { in.images.images["base:1"].digest = "sha256:base1-new"; },
         "MMMMMMMMM MMMMM"},
        {"global ARG picks another base for one stage", none,
         [](Inputs& in) { in.args["BASE"] = "base:2"; }, "MMMMMMMMM HMMMM"},
        {"a file only COPY . . selects changed", none,
         [](Inputs& in) { in.files.context["main.go"].content = "package main // v2"; },
         "HHHHHHMMM HMMMM"},
        {"only the second of several sources changed", none,
         [](Inputs& in) { in.files.context["go.sum"].content = "sums v2"; }, "HHHHMMMMM HMMMM"},
        {"touch: new mtimes, same bytes", none,
         [](Inputs& in) {
             for (auto& [path, f] : in.files.context)
                 f.mtime += 1000;
         },
         all_hit},
        {"fresh CI machine: same files, other inodes, owners, times", none,
         [](Inputs& in) {
             for (auto& [path, f] : in.files.context) {
                 f.inode += 77;
                 f.uid = f.gid = 1001;
                 f.mtime = 1700000000;
             }
         },
         all_hit},
        {"context file owner differs, COPY without --chown", none,
         [](Inputs& in) { in.files.context["config.json"].uid = 501; }, all_hit},
        {"mode of a copied context file changed", none,
         [](Inputs& in) { in.files.context["config.json"].mode = 0600; }, "HHHHHHMMM HMMMM"},
        {"COPY --from a stage whose file changed only its owner", none,
         [](Inputs& in) { in.files.stages[0]["src/out"].uid = 1000; }, "HHHHHHHHH HMMMM"},
        {"adding --chown", none,
         [](Inputs& in) { in.replace("COPY config.json", "COPY --chown=app config.json"); },
         "HHHHHHHHH HHHMM"},
        {"removing --chmod",
         [](Inputs& in) { in.replace("COPY config.json", "COPY --chmod=0644 config.json"); }, none,
         "HHHHHHHHH HHHMM"},
        {"adding --link", none,
         [](Inputs& in) { in.replace("COPY config.json", "COPY --link config.json"); },
         "HHHHHHHHH HHHMM"},
        {"flag order",
         [](Inputs& in) {
             in.replace("COPY config.json", "COPY --chown=1 --chmod=600 config.json");
         },
         [](Inputs& in) {
             in.replace("COPY config.json", "COPY --chmod=600 --chown=1 config.json");
         },
         all_hit},
        {"--exclude order",
         [](Inputs& in) { in.replace("COPY . .", "COPY --exclude=*.md --exclude=docs . ."); },
         [](Inputs& in) { in.replace("COPY . .", "COPY --exclude=docs --exclude=*.md . ."); },
         all_hit},
        {"ADDed tar: same bytes, new mtime",
         [](Inputs& in) { in.replace("COPY config.json /etc/app/", "ADD app.tar /opt/"); },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD app.tar /opt/");
             in.files.context["app.tar"].mtime = 99;
         },
         all_hit},
        {"ADDed tar: new bytes",
         [](Inputs& in) { in.replace("COPY config.json /etc/app/", "ADD app.tar /opt/"); },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD app.tar /opt/");
             in.files.context["app.tar"].content = "other tar";
         },
         "HHHHHHMMM HMMMM"},  // COPY . . in the build stage selects app.tar too
        {"ADD <url> --checksum: the checksum stands for the content",
         [](Inputs& in) {
             in.replace(
                 "COPY config.json /etc/app/",
                 "ADD --checksum=sha256:" + std::string(64, 'a') + " https://example.com/tool /t");
         },
         [](Inputs& in) {
             in.replace(
                 "COPY config.json /etc/app/",
                 "ADD --checksum=sha256:" + std::string(64, 'a') + " https://example.com/tool /t");
             in.files.urls["https://example.com/tool"] = "tool v2";
         },
         all_hit},
        {"ADD <url> without --checksum: the fetched content counts",
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD https://example.com/tool /t");
         },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD https://example.com/tool /t");
             in.files.urls["https://example.com/tool"] = "tool v2";
         },
         "HHHHHHHHH HHHMM"},
        {"ADD <git url>: the commit it resolves to counts",
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD git@h:o/tool.git#main /t");
             in.files.urls["git@h:o/tool.git#main"] = "commit 1";
         },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD git@h:o/tool.git#main /t");
             in.files.urls["git@h:o/tool.git#main"] = "commit 2";
         },
         "HHHHHHHHH HHHMM"},
        {"ADD <git url>: the same commit is a hit, --keep-git-dir a miss",
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "ADD git@h:o/tool.git#main /t");
         },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/",
                        "ADD --keep-git-dir=true git@h:o/tool.git#main /t");
         },
         "HHHHHHHHH HHHMM"},
        {"undeclared proxy build arg", none,
         [](Inputs& in) { in.args["HTTP_PROXY"] = "http://p:3128"; }, all_hit},
        {"declared proxy build arg reaches RUN",
         [](Inputs& in) { in.replace("ENV APP=/app", "ARG HTTP_PROXY"); },
         [](Inputs& in) {
             in.replace("ENV APP=/app", "ARG HTTP_PROXY");
             in.args["HTTP_PROXY"] = "http://p:3128";
         },
         "HHMHHMMMM HMMMM"},
        {"COPY source order", none,
         [](Inputs& in) { in.replace("go.mod go.sum", "go.sum go.mod"); }, "HHHHMMMMM HMMMM"},
        {"--no-cache does not change keys", none, [](Inputs& in) { in.no_cache = true; }, all_hit},
        // Secrets: the key holds the mount (id, target, env, mode, uid, gid,
        // required), never the value — the value is not even an input here
        // (tests/build/secret_test.cpp checks a new value is a cache hit).
        {"secret mount: its id changed",
         [](Inputs& in) {
             in.replace("RUN make deps", "RUN --mount=type=secret,id=npmrc make deps");
         },
         [](Inputs& in) {
             in.replace("RUN make deps", "RUN --mount=type=secret,id=netrc make deps");
         },
         "HHHHHMMMM HMMMM"},
        {"secret mount: its target changed",
         [](Inputs& in) {
             in.replace("RUN make deps", "RUN --mount=type=secret,id=npmrc make deps");
         },
         [](Inputs& in) {
             in.replace("RUN make deps",
                        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc make deps");
         },
         "HHHHHMMMM HMMMM"},
        {"secret mount: the default target spelled out",
         [](Inputs& in) {
             in.replace("RUN make deps", "RUN --mount=type=secret,id=npmrc make deps");
         },
         [](Inputs& in) {
             in.replace("RUN make deps",
                        "RUN --mount=type=secret,id=npmrc,target=/run/secrets/npmrc,mode=0400 "
                        "make deps");
         },
         all_hit},
        {"ssh mount added", none,
         [](Inputs& in) { in.replace("RUN make deps", "RUN --mount=type=ssh make deps"); },
         "HHHHHMMMM HMMMM"},
        {"variable in a COPY path: only its value counts",
         [](Inputs& in) { in.replace("COPY config.json /etc/app/", "COPY config.json $MODE/"); },
         [](Inputs& in) {
             in.replace("COPY config.json /etc/app/", "COPY config.json $MODE/");
             in.replace("ENV MODE=prod", "ENV MODE=dev");
         },
         "HHHHHHHHH HHMMM"},
        // Layer times are clamped to the epoch: entries made without it, or
        // with another, are not reused (moby/buildkit#3180's false hit).
        {"SOURCE_DATE_EPOCH set", none,
         [](Inputs& in) { in.args["SOURCE_DATE_EPOCH"] = "1700000000"; }, "MMMMMMMMM MMMMM"},
        {"SOURCE_DATE_EPOCH changed",
         [](Inputs& in) { in.args["SOURCE_DATE_EPOCH"] = "1700000000"; },
         [](Inputs& in) { in.args["SOURCE_DATE_EPOCH"] = "1700000001"; }, "MMMMMMMMM MMMMM"},
        {"SOURCE_DATE_EPOCH spelled differently",
         [](Inputs& in) { in.args["SOURCE_DATE_EPOCH"] = "1700000000"; },
         [](Inputs& in) { in.args["SOURCE_DATE_EPOCH"] = "+1700000000"; }, all_hit},
    };
}

std::string compare(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::string out;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        out += a[i] == b[i] ? 'H' : 'M';
    return out;
}

TEST(CacheKeys, Table) {
    const std::vector<KeyRow> table = rows();
    EXPECT_GE(table.size(), 30U);
    for (const KeyRow& row : table) {
        SCOPED_TRACE(row.name);
        Inputs before, after;
        row.before(before);
        row.after(after);
        const std::vector<std::string> a = keys(before);
        const std::vector<std::string> b = keys(after);
        std::string want = row.expect;
        want.erase(std::remove(want.begin(), want.end(), ' '), want.end());
        ASSERT_EQ(a.size(), want.size());
        ASSERT_EQ(b.size(), want.size());
        EXPECT_EQ(compare(a, b), want);
    }
}

TEST(CacheKeys, FormatAndPurity) {
    const std::string k = compute_key("sha256:parent", {{"op", "RUN"}, {"argv", "true"}});
    EXPECT_EQ(k.size(), 7U + 64U);
    EXPECT_EQ(k.rfind("sha256:", 0), 0U);
    EXPECT_EQ(k, compute_key("sha256:parent", {{"op", "RUN"}, {"argv", "true"}}));
    // Length prefixes keep field boundaries unambiguous.
    EXPECT_NE(compute_key("", {{"a", "bc"}}), compute_key("", {{"ab", "c"}}));
    EXPECT_NE(compute_key("", {{"a", ""}, {"b", ""}}), compute_key("", {{"a", "b"}}));
    EXPECT_NE(compute_key("p", {}), compute_key("", {{"p", ""}}));
    const std::string enc = encode_key_input("", {});
    EXPECT_NE(enc.find(kCacheKeyVersion), std::string::npos);
}

TEST(CacheKeys, DigesterIsAskedOnlyForTheStepBeingKeyed) {
    Inputs in;
    const BuildPlan plan = testing::plan(in.dockerfile, in.images, testing::options());
    KeyComputer keys(plan, in.files);
    keys.step_key(0, 2);  // WORKDIR: needs FROM only
    EXPECT_EQ(in.files.calls, 0);
    keys.step_key(0, 3);  // COPY go.mod go.sum
    EXPECT_EQ(in.files.calls, 1);
    keys.step_key(0, 3);
    EXPECT_EQ(in.files.calls, 1) << "memoized";
    const std::vector<KeyField> fields = keys.step_fields(1, 0);
    EXPECT_EQ(fields.back().name, "stage-sources");
    EXPECT_EQ(fields[fields.size() - 2].name, "from-stage-key");
    EXPECT_EQ(fields[fields.size() - 2].value, keys.stage_key(0));
    EXPECT_EQ(keys.stage_key(0), keys.step_key(0, 6)) << "LABEL does not end the chain";
}

TEST(CacheKeys, ConcurrentStagesShareOneComputer) {
    Inputs in;
    const BuildPlan plan = testing::plan(in.dockerfile, in.images, testing::options());
    const std::vector<std::string> expected = keys(in);
    in.files.calls = 0;
    KeyComputer shared(plan, in.files);
    std::vector<std::string> a, b;
    std::thread t1([&] {
        for (size_t i = 0; i < plan.stages[0].steps.size(); ++i)
            a.push_back(shared.step_key(0, i));
    });
    std::thread t2([&] {
        for (size_t i = 0; i < plan.stages[1].steps.size(); ++i)
            b.push_back(shared.step_key(1, i));
    });
    t1.join();
    t2.join();
    EXPECT_EQ(a, std::vector<std::string>(expected.begin() + 1, expected.begin() + 9));
    EXPECT_EQ(b, std::vector<std::string>(expected.begin() + 10, expected.end()));
}

TEST(CacheKeys, NoCacheMarksStepsAndWhatChainsOnThem) {
    FakeResolver images;
    const std::string text =
        "FROM scratch AS a\nCOPY x /x\nFROM scratch AS b\nCOPY y /y\nFROM b AS c\nRUN true\n"
        "FROM scratch\nCOPY --from=a /x /x\nRUN --mount=from=b,target=/b true\nCOPY --from=c / /\n";
    PlanOptions opts = testing::options();
    opts.no_cache_filter = {"B"};
    const BuildPlan p = testing::plan(text, images, opts);
    ASSERT_EQ(p.stages.size(), 4U);
    EXPECT_FALSE(p.stage(0).steps[0].no_cache);
    EXPECT_TRUE(p.stage(1).no_cache);
    EXPECT_TRUE(p.stage(1).steps[0].no_cache);
    EXPECT_TRUE(p.stage(2).steps[0].no_cache) << "FROM a re-run stage chains on it";
    const StagePlan& last = p.stage(3);
    EXPECT_FALSE(last.steps[0].no_cache) << "COPY --from keys on the copied files";
    EXPECT_TRUE(last.steps[1].no_cache) << "RUN mounting a re-run stage";
    EXPECT_TRUE(last.steps[2].no_cache) << "chains on the RUN";
    opts.no_cache_filter.clear();
    opts.no_cache = true;
    for (const StagePlan& s : testing::plan(text, images, opts).stages) {
        for (const Step& step : s.steps)
            EXPECT_TRUE(step.no_cache);
    }
}

}  // namespace
}  // namespace strata::planner
