#include "executor/builder.hpp"

#include <fcntl.h>

#include "base/in_root_read.hpp"
#include "base/unique_fd.hpp"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "cache/context_digest.hpp"
#include "executor/build_session.hpp"
#include "executor/config_effect.hpp"
#include "executor/dockerfile_memo.hpp"
#include "executor/summary_answer.hpp"
#include "frontend/dockerignore.hpp"
#include "frontend/instructions.hpp"

namespace strata::executor {

namespace {

std::string default_explain_id(const BuildRequest& r) {
    std::error_code ec;
    auto ctx = std::filesystem::absolute(r.context_dir, ec).lexically_normal().string();
    auto df = r.dockerfile_path.empty()
                  ? std::string("<stdin>")
                  : std::filesystem::absolute(r.dockerfile_path, ec).lexically_normal().string();
    return cache::BuildRecords::id_for(ctx + "\n" + df + "\n" + r.plan.target);
}

frontend::Dockerfile load_definition(BuildSession& s) {
    const BuildRequest& r = s.request;
    const std::string shown =
        r.dockerfile_path.empty() ? r.dockerfile_name : r.dockerfile_path.filename().string();
    Vertex v(s.progress, s.next_id(), "[internal] load build definition from " + shown);
    v.log(fmt::format("transferring dockerfile: {}B done", r.dockerfile_text.size()));
    frontend::Dockerfile df =
        load_dockerfile_memoized(s.cache.dir() / "parsed", r.dockerfile_text, r.dockerfile_name);
    v.done();
    return df;
}

}  // namespace

// The context's ignore file: `<Dockerfile>.dockerignore` next to a
// Dockerfile in the context, else `.dockerignore` — both resolved inside the
// context (a symlink cannot make strata read a host file). A Dockerfile the
// user named outside the context may have its own next to it.
frontend::DockerIgnore context_dockerignore(const BuildRequest& r) {
    namespace fs = std::filesystem;
    if (!r.context_dockerignore) return frontend::DockerIgnore();
    UniqueFd root(::open(r.context_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw system_error("open the build context", r.context_dir.string());
    const fs::path dockerfile =
        r.dockerfile_path.empty() ? r.context_dir / "Dockerfile" : r.dockerfile_path;
    std::error_code ec;
    const fs::path rel = fs::relative(fs::absolute(dockerfile, ec).lexically_normal(),
                                      fs::absolute(r.context_dir, ec).lexically_normal(), ec);
    const bool inside = !ec && !rel.empty() && *rel.begin() != "..";
    if (inside) {
        const std::string name = rel.string() + ".dockerignore";
        if (auto text = read_file_in_root(root.get(), name, name))
            return frontend::DockerIgnore::parse(*text, (r.context_dir / name).string());
    } else {
        fs::path specific = dockerfile;
        specific += ".dockerignore";
        if (fs::is_regular_file(specific, ec)) return frontend::read_ignore_file(specific);
    }
    return directory_dockerignore(r.context_dir);
}

frontend::DockerIgnore directory_dockerignore(const std::filesystem::path& dir) {
    UniqueFd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw system_error("open the build context", dir.string());
    if (auto text = read_file_in_root(root.get(), ".dockerignore", ".dockerignore"))
        return frontend::DockerIgnore::parse(*text, (dir / ".dockerignore").string());
    return frontend::DockerIgnore();
}

namespace {

void load_ignore(BuildSession& s) {
    Vertex v(s.progress, s.next_id(), "[internal] load .dockerignore");
    s.ignore = context_dockerignore(s.request);
    v.done();
}

// Runs every planned stage on its own thread (at most `jobs` at work at
// once); rethrows the first failure once all have stopped.
void run_stages(BuildSession& s, std::map<size_t, StageResult>& results) {
    std::map<size_t, std::promise<StageResult>> promises;
    std::map<size_t, std::shared_future<StageResult>> futures;
    for (const auto& sp : s.plan.stages)
        futures.emplace(sp.index, promises[sp.index].get_future().share());
    s.set_futures(futures);

    std::mutex first_mu;
    std::exception_ptr first;
    std::vector<std::thread> threads;
    threads.reserve(s.plan.stages.size());
    // A stage whose thread could not be started (no more threads: a pids
    // limit) fails the build like a failed stage: the stages already
    // running stop, and any that waits for it gets the error instead of
    // waiting forever; never a joinable thread left to terminate the process.
    auto cannot_start = [&](size_t from) {
        const std::exception_ptr err = std::current_exception();
        s.cancelled = true;
        {
            std::lock_guard lock(first_mu);
            if (!first) first = err;
        }
        for (size_t i = from; i < s.plan.stages.size(); ++i) {
            promises.at(s.plan.stages[i].index).set_exception(err);
            s.stage_files(s.plan.stages[i].index).close();
        }
    };
    for (size_t started = 0; started < s.plan.stages.size(); ++started) {
        const auto& sp = s.plan.stages[started];
        try {
            threads.emplace_back([&s, &sp, &promises, &first_mu, &first] {
                std::promise<StageResult>& p = promises.at(sp.index);
                s.slots.acquire();
                try {
                    p.set_value(run_stage(s, sp));
                } catch (...) {
                    {
                        std::lock_guard lock(first_mu);
                        if (!first) first = std::current_exception();
                    }
                    s.cancelled = true;
                    p.set_exception(std::current_exception());
                }
                s.stage_files(sp.index).close();  // its readers wait for the result now
                s.slots.release();
            });
        } catch (const std::system_error&) {
            cannot_start(started);
            break;
        }
    }
    for (auto& t : threads)
        t.join();
    if (first) std::rethrow_exception(first);
    for (auto& [index, f] : futures)
        results.emplace(index, f.get());
}

store::ImageRecord export_image(BuildSession& s, const StageResult& target,
                                std::vector<store::Reference>& names) {
    Vertex v(s.progress, s.next_id(), "exporting to image");
    store::ImageConfig config = target.config;
    for (const auto& [k, val] : s.request.labels)
        config.config.labels[k] = val;
    fill_history_times(config.history);
    if (s.request.source_date_epoch)
        apply_source_date_epoch(config, target.inherited_history, *s.request.source_date_epoch);
    else
        config.created = last_history_time(config.history);
    config.diff_ids.clear();
    v.log("exporting layers done");

    s.provide(target.layers);
    store::ImageRecord rec = s.store.write_image(config, target.layers, s.request.annotations);
    v.log(fmt::format("exporting manifest {} done", rec.manifest.str()));
    v.log(fmt::format("writing image {} done", rec.config.str()));

    // A rebuild that changed nothing finds the image and its names in place
    // and takes no lock.
    std::vector<store::Reference> tags;
    for (const auto& t : s.request.tags)
        tags.push_back(t.with_default_tag());
    const std::optional<store::ImageRecord> present = s.store.image(rec.manifest);
    bool changed = !present.has_value();
    if (!changed) {
        const store::NameIndex current = s.store.names();
        for (const auto& t : tags) {
            const auto at = current.get(t);
            changed = changed || !at || *at != rec.manifest;
        }
    }
    if (changed && !s.request.scratch) {
        auto tx = s.store.begin();
        if (auto existing = tx.image(rec.manifest))
            rec = *existing;
        else
            tx.put_image(rec);
        for (const auto& t : tags)
            tx.tag(t, rec.manifest);
        tx.commit();
    } else if (present) {
        rec = *present;
    }
    for (const auto& t : tags)
        v.log(fmt::format("naming to {} done", t.str()));
    names = tags;
    v.done();
    return rec;
}

// Whether any step reads the build context (so that it is hashed up front,
// as BuildKit transfers it before the steps that need it).
bool uses_context(const planner::BuildPlan& plan) {
    for (const auto& sp : plan.stages) {
        for (const auto& st : sp.steps) {
            if (st.kind == planner::StepKind::kCopy &&
                st.copy.from.kind == planner::SourceRef::Kind::kContext &&
                st.copy.from.context.empty()) {
                for (const auto& src : st.copy.sources)
                    if (!planner::is_url_source(src)) return true;
            }
            if (st.kind == planner::StepKind::kRun) {
                for (const auto& m : st.run.mounts)
                    if (m.type == "bind" && m.from.kind == planner::SourceRef::Kind::kContext &&
                        m.from.context.empty())
                        return true;
            }
        }
    }
    return false;
}

void save_record(BuildSession& s) {
    cache::BuildRecord rec;
    rec.steps = s.step_records();
    for (const auto& sp : s.plan.stages) {
        rec.base_keys[sp.index] = s.keys->base_key(sp.index);
        if (sp.base_kind == planner::StagePlan::BaseKind::kImage)
            rec.base_refs[sp.index] = sp.base_ref + "@" + sp.base_image.digest;
    }
    cache::BuildRecords records(s.store.cache_dir());
    if (s.has_snapshot())
        records.save_files(s.request.explain_id, cache::digest_string(s.snapshot().root().digest),
                           s.listing());
    records.save(s.request.explain_id, rec);
}

// Large duplicate layer directories set aside by LayerStore are deleted by
// `strata prune`, never during a build: deleting thousands of files makes
// the next thousands of creations on ext4 slow (measured: a 10,000-file COPY
// went from 0.4 s to 2 s), and a build should not pay for an earlier one.
void note_trash(store::ImageStore& store, ProgressSink& progress) {
    if (const size_t n = store.layers().trash_count(50); n >= 50)
        progress.note(
            fmt::format("note: {} or more set-aside layer directories in {}; "
                        "`strata prune` frees them",
                        n, store.tmp_dir().string()));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BuildResult build(const BuildRequest& request_in, store::ImageStore& store, ProgressSink& progress,
                  RunExecutor* run) {
    const auto t0 = std::chrono::steady_clock::now();
    BuildRequest request = request_in;
    std::optional<TempDir> empty_context;
    if (request.context_dir.empty()) {
        empty_context = TempDir::create(store.tmp_dir(), "context-");
        request.context_dir = empty_context->path();
        request.cache_context_stats = false;
    } else {
        // Absolute: a RUN step's bind mount of it is made from elsewhere
        // than the working directory a relative CONTEXT was given in.
        std::error_code ec;
        request.context_dir = std::filesystem::absolute(request.context_dir, ec).lexically_normal();
    }
    if (request.explain_id.empty()) request.explain_id = default_explain_id(request);
    request.plan.source_text = request.dockerfile_text;

    // Keeps `strata prune` from collecting blobs this build writes before
    // an image or cache entry refers to them.
    LockFile lease = store.lease();
    BuildSession s(request, store, progress, run);

    // A rebuild with the inputs of the last build of this Dockerfile and
    // context is confirmed from that build's summary (build_summary.hpp),
    // read before any cache entry is.
    cache::BuildSummaries summaries(store.cache_dir());
    const std::string inputs = request.scratch ? std::string() : summary_inputs(request);
    const uint64_t generation = s.cache.generation();
    if (may_answer_from_summary(request) &&
        request.cache_export == BuildRequest::CacheExportMode::kNone) {
        const auto sum = summaries.load(request.explain_id);
        if (sum && sum->inputs == inputs && sum->generation == generation) {
            if (auto answer = answer_from_summary(s, *sum)) {
                summaries.touch(request.explain_id);  // the last use of its steps
                note_trash(store, progress);
                answer->seconds = seconds_since(t0);
                return std::move(*answer);
            }
        }
    }

    const frontend::Dockerfile df = load_definition(s);
    load_ignore(s);
    s.plan = planner::plan_build(df, request.plan, s.resolver);
    if (!request.source_date_epoch)  // --build-arg or ARG SOURCE_DATE_EPOCH
        request.source_date_epoch = s.plan.source_date_epoch;

    BuildResult result;
    result.warnings = s.plan.warnings;
    for (const auto& w : s.plan.warnings)
        progress.note(frontend::render(w));
    const std::string unused_args = planner::unused_build_args_warning(s.plan);
    if (!unused_args.empty()) progress.note(unused_args);

    DigesterHooks hooks;
    hooks.snapshot = [&s](const std::string& name) -> const cache::ContextSnapshot& {
        return s.snapshot(name);
    };
    hooks.context = [&s](const std::string& name) -> const BuildContext& {
        return s.context(name);
    };
    hooks.source_dirs = [&s](const planner::SourceRef& ref) { return s.source_dirs(ref); };
    hooks.layers_of = [&s](const planner::SourceRef& ref) { return s.layers_of(ref); };
    hooks.unpack = [&s](const std::vector<store::LayerRecord>& l) { return s.unpack(l); };
    // ADD <url> downloads made while computing keys live until the build ends.
    s.digester = std::make_unique<BuildDigester>(std::move(hooks), s.cache, store.tmp_dir());
    s.keys = std::make_unique<planner::KeyComputer>(s.plan, *s.digester);

    // A RUN that runs whatever the cache holds (--no-cache): its container's
    // start is made while the context is hashed and the steps before it work.
    [&] {
        for (const auto& sp : s.plan.stages)
            for (const auto& st : sp.steps)
                if (st.kind == planner::StepKind::kRun && st.no_cache) return s.warm_up_run(st.run);
    }();
    if (uses_context(s.plan)) s.snapshot();
    std::map<size_t, StageResult> results;
    run_stages(s, results);
    s.digester->memoize_late();
    // The record for the next --explain is written while the image's files
    // are synced.
    TaskGroup record;
    if (!request.scratch) record.submit([&s] { save_record(s); });
    result.image = export_image(s, results.at(s.plan.target), result.names);
    result.steps = s.reports();
    result.base_images = s.resolver.resolved();
    result.source_date_epoch = request.source_date_epoch;
    if (request.cache_export != BuildRequest::CacheExportMode::kNone && !request.scratch)
        result.cache_export = collect_cache_export(s);
    if (!request.scratch) {
        record.wait();
        const bool had_notes = !s.plan.warnings.empty() || !unused_args.empty();
        if (auto sum = summarize(s, result, inputs, generation, had_notes))
            summaries.save(request.explain_id, *sum);
        else
            summaries.remove(request.explain_id);
    }
    note_trash(store, progress);
    result.seconds = seconds_since(t0);
    return result;
}

}  // namespace strata::executor
