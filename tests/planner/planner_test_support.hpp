// Fakes for planner tests: an image resolver backed by a map, and a source
// digester over in-memory file trees that follows SourceDigester's contract
// (context: path, type, mode, content; stage/image: plus uid/gid; never
// mtime) so that cache-key rows about owners and timestamps mean something.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "frontend/instructions.hpp"
#include "planner/cache_key.hpp"
#include "planner/planner.hpp"

namespace strata::planner::testing {

struct FakeResolver : ImageResolver {
    std::map<std::string, BaseImage> images;
    std::vector<std::string> calls;
    BaseImage resolve(const std::string& ref, const Platform&) override {
        calls.push_back(ref);
        const auto it = images.find(ref);
        if (it == images.end()) throw Error(ErrorKind::kNotFound, "image not found: " + ref);
        return it->second;
    }
};

struct FakeFile {
    std::string content;
    uint32_t mode = 0644;
    uint32_t uid = 0, gid = 0;
    int64_t mtime = 1;
    uint64_t inode = 1;
};
using FakeTree = std::map<std::string, FakeFile>;  // relative path → file

struct FakeDigester : SourceDigester {
    FakeTree context;
    std::map<size_t, FakeTree> stages;        // stage index → its result's files
    std::map<std::string, FakeTree> images;   // image ref → its rootfs files
    std::map<std::string, std::string> urls;  // url → content
    std::atomic<int> calls = 0;               // KeyComputer may call from several threads

    static bool selected(const std::string& path, const std::vector<std::string>& sources) {
        for (std::string s : sources) {
            if (s.rfind("./", 0) == 0) s.erase(0, 2);
            while (!s.empty() && s[0] == '/')
                s.erase(0, 1);
            if (s.empty() || s == "." || path == s || path.rfind(s + "/", 0) == 0) return true;
        }
        return false;
    }
    static std::string digest_tree(const FakeTree& tree, const CopyStep& c, bool owners) {
        std::vector<KeyField> fields;
        for (const auto& [path, f] : tree) {
            if (!selected(path, c.sources)) continue;
            std::string excluded;
            for (const std::string& e : c.excludes) {
                if (path == e) excluded = e;
            }
            if (!excluded.empty()) continue;
            std::string rec = fmt::format("{:o}:{}", c.chmod.empty() ? f.mode : 0, f.content);
            if (owners) rec += fmt::format(":{}:{}", f.uid, f.gid);
            fields.push_back({path, rec});
        }
        return compute_key("", fields);
    }
    std::string context_sources(const CopyStep& c) override {
        ++calls;
        return digest_tree(context, c, false);
    }
    std::string stage_sources(const CopyStep& c) override {
        ++calls;
        static const FakeTree empty;
        if (c.from.kind == SourceRef::Kind::kStage) {
            const auto it = stages.find(c.from.stage);
            return digest_tree(it == stages.end() ? empty : it->second, c, true);
        }
        const auto it = images.find(c.from.image);
        return digest_tree(it == images.end() ? empty : it->second, c, true);
    }
    std::string url_content(const std::string& url) override {
        ++calls;
        const auto it = urls.find(url);
        return compute_key("", {{"url", it == urls.end() ? "" : it->second}});
    }
    std::string git_source(const std::string& url, bool keep_git_dir) override {
        ++calls;
        const auto it = urls.find(url);  // the "commit" a test gives the URL
        return compute_key(
            "", {{"git", it == urls.end() ? url : it->second}, {"keep", keep_git_dir ? "1" : "0"}});
    }
    std::string context_mount(const RunMount& m) override {
        ++calls;
        CopyStep c;
        c.sources = {m.source.empty() ? "." : m.source};
        return digest_tree(context, c, false);
    }
};

inline BaseImage image(std::string digest, std::vector<std::string> env = {},
                       std::vector<std::string> onbuild = {}) {
    BaseImage b;
    b.digest = std::move(digest);
    b.env = std::move(env);
    b.onbuild = std::move(onbuild);
    return b;
}

inline PlanOptions options(std::map<std::string, std::string> args = {}, std::string target = {}) {
    PlanOptions o;
    o.build_args = std::move(args);
    o.target = std::move(target);
    o.build_platform = Platform{"linux", "amd64", ""};
    o.target_platform = Platform{"linux", "amd64", ""};
    return o;
}

inline BuildPlan plan(const std::string& text, FakeResolver& images, PlanOptions opts = options()) {
    opts.source_text = text;
    return plan_build(frontend::load_dockerfile(text, "Dockerfile"), opts, images);
}

inline const Step* find_step(const StagePlan& s, std::string_view keyword, size_t nth = 0) {
    for (const Step& step : s.steps) {
        if (step.instruction.keyword == keyword && nth-- == 0) return &step;
    }
    return nullptr;
}

inline std::string label(const StagePlan& s, const std::string& key) {
    for (const Step& step : s.steps) {
        for (const auto& [k, v] : step.effect.labels) {
            if (k == key) return v;
        }
    }
    return "<no label " + key + ">";
}

}  // namespace strata::planner::testing
