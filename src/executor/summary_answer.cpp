#include "executor/summary_answer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "base/build_id.hpp"
#include "base/error.hpp"
#include "cache/context_digest.hpp"
#include "frontend/git_url.hpp"
#include "store/digest.hpp"

namespace strata::executor {

namespace {

// ADD of a URL or a Git source: what it fetches may change under the same
// inputs, so such a build writes no summary.
bool has_url_sources(const planner::BuildPlan& plan) {
    for (const auto& sp : plan.stages)
        for (const auto& st : sp.steps)
            if (st.kind == planner::StepKind::kCopy)
                for (const auto& src : st.copy.sources)
                    if (planner::is_url_source(src) || frontend::is_git_url(src)) return true;
    return false;
}

std::vector<store::Reference> default_tagged(const std::vector<store::Reference>& tags) {
    std::vector<store::Reference> out;
    for (const auto& t : tags)
        out.push_back(t.with_default_tag());
    return out;
}

}  // namespace

std::string summary_inputs(const BuildRequest& r) {
    std::string s;
    // Length-prefixed, so that no two requests serialize alike.
    auto add = [&s](std::string_view name, std::string_view value) {
        s += name;
        s += ' ';
        s += std::to_string(value.size());
        s += ':';
        s += value;
        s += '\n';
    };
    add("binary", binary_build_id());
    add("dockerfile", r.dockerfile_text);
    add("dockerfile-name", r.dockerfile_name);
    add("dockerfile-path", r.dockerfile_path.string());
    add("context", r.context_dir.string());
    add("context-stats", r.cache_context_stats ? "1" : "0");
    for (const auto& [name, nc] : r.plan.named_contexts) {
        add("named-context", name);
        add("image", nc.kind == planner::NamedContext::Kind::kImage ? nc.image : "");
        add("scratch", nc.kind == planner::NamedContext::Kind::kScratch ? "1" : "0");
    }
    add("context-dockerignore", r.context_dockerignore ? "1" : "0");
    for (const auto& [name, named] : r.named_contexts) {
        add("named-context-dir", name);
        add("dir", named.dir.string());
        add("dockerignore", named.dockerignore ? "1" : "0");
    }
    add("explain-id", r.explain_id);
    add("target", r.plan.target);
    for (const auto& [k, v] : r.plan.build_args) {
        add("arg", k);
        add("value", v);
    }
    // Not --no-cache(-filter): such a build is never answered from a summary,
    // and the one it writes is what a rebuild without the flag finds (every
    // step it built left its cache entry), as after `docker build --no-cache`.
    add("build-platform", r.plan.build_platform.str());
    add("target-platform", r.plan.target_platform.str());
    add("network", r.plan.default_network);
    for (const auto& t : r.tags)
        add("tag", t.with_default_tag().str());
    for (const auto& [k, v] : r.labels) {
        add("label", k);
        add("value", v);
    }
    for (const auto& [k, v] : r.annotations) {
        add("annotation", k);
        add("value", v);
    }
    add("epoch", r.source_date_epoch ? std::to_string(*r.source_date_epoch) : "-");
    add("compression", store::compression_name(r.compression));
    for (const auto& sec : r.secrets) {
        add("secret", sec.id);
        add("file", sec.file);
        add("env", sec.env);
    }
    for (const auto& ssh : r.ssh) {
        add("ssh", ssh.id);
        for (const auto& p : ssh.paths)
            add("path", p);
    }
    return store::sha256_of(s).str();
}

bool may_answer_from_summary(const BuildRequest& r) {
    // A summary confirms the build context, not a local named one: such a
    // build takes the usual path (its steps are cache hits).
    return r.named_contexts.empty() && !r.scratch && !r.explain && !r.always_pull &&
           !r.plan.no_cache && r.plan.no_cache_filter.empty();
}

std::optional<BuildResult> answer_from_summary(BuildSession& s, const cache::BuildSummary& sum) {
    const BuildRequest& r = s.request;
    // Everything is checked before anything is reported.
    const auto manifest = store::Digest::try_parse(sum.image);
    if (!manifest) return std::nullopt;
    std::optional<store::ImageRecord> image = s.store.image(*manifest);
    if (!image) return std::nullopt;
    const std::vector<store::Reference> tags = default_tagged(r.tags);
    if (!tags.empty()) {
        const store::NameIndex names = s.store.names();
        for (const auto& t : tags) {
            const auto at = names.get(t);
            if (!at || *at != image->manifest) return std::nullopt;
        }
    }
    try {
        for (const auto& b : sum.bases)
            if (s.store.lookup(b.ref).image.manifest.str() != b.digest) return std::nullopt;
    } catch (const Error&) {
        return std::nullopt;  // gone: the usual path says so
    }
    if (sum.context) {
        try {
            s.ignore = context_dockerignore(r);
            cache::ContextSnapshot snap = s.hash_context_quietly();
            const bool same = cache::digest_string(snap.root().digest) == *sum.context;
            s.preload_snapshot(std::move(snap));  // the usual path need not walk it again
            if (!same) return std::nullopt;
        } catch (const Error&) {
            return std::nullopt;
        }
    }

    // What the usual path reports for a build that finds every step cached.
    auto vertex = [&](const std::string& name, auto&& body) {
        Vertex v(s.progress, s.next_id(), name);
        body(v);
    };
    const std::string shown =
        r.dockerfile_path.empty() ? r.dockerfile_name : r.dockerfile_path.filename().string();
    vertex("[internal] load build definition from " + shown, [&](Vertex& v) {
        v.log(fmt::format("transferring dockerfile: {}B done", r.dockerfile_text.size()));
        v.done();
    });
    vertex("[internal] load .dockerignore", [](Vertex& v) { v.done(); });
    for (const auto& b : sum.bases) {
        const auto parsed = store::Reference::try_parse(b.ref);
        vertex(
            "[internal] load metadata for " + (parsed ? parsed->with_default_tag().str() : b.ref),
            [](Vertex& v) { v.done(); });
    }
    if (sum.context) s.snapshot();  // reports the preloaded snapshot

    BuildResult result;
    for (const auto& stage : sum.stages) {
        if (!stage.from_display.empty()) vertex(stage.from_display, [](Vertex& v) { v.done(); });
        for (const auto& st : sum.steps) {
            if (st.stage != stage.index) continue;
            StepReport rep;
            rep.stage = st.stage;
            rep.step = st.step;
            rep.name = st.name;
            rep.instruction = st.instruction;
            rep.key = st.key;
            rep.outcome =
                st.metadata ? StepReport::Outcome::kMetadata : StepReport::Outcome::kCached;
            if (!st.name.empty()) vertex(st.name, [](Vertex& v) { v.cached(); });
            result.steps.push_back(std::move(rep));
        }
    }
    vertex("exporting to image", [&](Vertex& v) {
        v.log("exporting layers done");
        v.log(fmt::format("exporting manifest {} done", image->manifest.str()));
        v.log(fmt::format("writing image {} done", image->config.str()));
        for (const auto& t : tags)
            v.log(fmt::format("naming to {} done", t.str()));
        v.done();
    });
    result.image = std::move(*image);
    result.names = tags;
    result.source_date_epoch = sum.source_date_epoch;
    result.from_summary = true;
    for (const auto& b : sum.bases)
        result.base_images.emplace_back(b.ref, b.digest);
    return result;
}

std::optional<cache::BuildSummary> summarize(BuildSession& s, const BuildResult& result,
                                             const std::string& inputs, uint64_t generation_before,
                                             bool had_notes) {
    if (had_notes || has_url_sources(s.plan)) return std::nullopt;
    // Two steps that built the same key: the entry the next build finds is
    // only one of them, so its image may not be this one.
    std::set<std::string> built;
    for (const auto& st : result.steps)
        if (st.outcome == StepReport::Outcome::kBuilt && !built.insert(st.key).second)
            return std::nullopt;
    const uint64_t generation = s.cache.generation();
    if (generation != generation_before + s.cache.own_changes()) return std::nullopt;

    cache::BuildSummary sum;
    sum.inputs = inputs;
    sum.generation = generation;
    sum.image = result.image.manifest.str();
    if (s.has_snapshot()) sum.context = cache::digest_string(s.snapshot().root().digest);
    for (auto& [ref, digest] : s.resolver.resolved())
        sum.bases.push_back({std::move(ref), std::move(digest)});
    sum.source_date_epoch = result.source_date_epoch;
    for (const auto& sp : s.plan.stages)
        sum.stages.push_back({sp.index, sp.from_display});
    for (const auto& st : result.steps)
        sum.steps.push_back({st.stage, st.step, st.outcome == StepReport::Outcome::kMetadata,
                             st.name, st.instruction, st.key});
    return sum;
}

}  // namespace strata::executor
