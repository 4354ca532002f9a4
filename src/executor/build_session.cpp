#include "executor/build_session.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"
#include "cache/context_digest.hpp"
#include "cache/context_hasher.hpp"
#include "cache/stat_cache.hpp"

namespace strata::executor {

BuildSession::BuildSession(const BuildRequest& req, store::ImageStore& st, ProgressSink& prog,
                           RunExecutor* runner)
    : request(req),
      store(st),
      progress(prog),
      run(runner),
      cache(st.cache_dir()),
      locator(req.dockerfile_name, req.dockerfile_text),
      resolver(
          st, prog, [this] { return next_id(); }, req.pull, req.always_pull),
      slots(req.jobs),
      secrets(req.secrets),
      ssh_agents(req.ssh) {
    if (req.cache_from) cache.import_memos(req.cache_from->memos());
    last_id_ = req.first_vertex_id;
    for (const auto& [name, named] : req.named_contexts) {
        auto state = std::make_unique<NamedContextState>();
        state->dir = named.dir;
        state->dockerignore = named.dockerignore;
        named_contexts_.emplace(name, std::move(state));
    }
}

BuildSession::NamedContextState& BuildSession::named_context(const std::string& name) const {
    const auto it = named_contexts_.find(name);
    if (it == named_contexts_.end())
        throw Error(ErrorKind::kInternal, fmt::format("no named context \"{}\"", name));
    return *it->second;
}

const std::filesystem::path& BuildSession::context_dir(const std::string& name) const {
    return name.empty() ? request.context_dir : named_context(name).dir;
}

const cache::ContextSnapshot& BuildSession::snapshot(const std::string& name) {
    if (!name.empty()) {
        NamedContextState& c = named_context(name);
        std::call_once(c.once, [&] {
            // BuildKit's vertices of a local named context: its own
            // .dockerignore (the main context's does not apply), its files.
            if (c.dockerignore) {
                Vertex v(progress, next_id(), fmt::format("[context {}] load .dockerignore", name));
                c.ignore = directory_dockerignore(c.dir);
                v.done();
            }
            Vertex v(progress, next_id(), fmt::format("[context {}] load from client", name));
            const std::filesystem::path stats =
                store.cache_dir() / "contexts" / cache::context_cache_id(c.dir);
            c.snapshot.emplace(cache::hash_context(c.dir, c.ignore, stats));
            v.log(context_transfer_line(*c.snapshot));
            c.view = std::make_unique<BuildContext>(c.dir, c.ignore);
            c.view->use_snapshot(*c.snapshot);
            v.done();
        });
        return *c.snapshot;
    }
    std::call_once(snapshot_once_, [&] {
        Vertex v(progress, next_id(), "[internal] load build context");
        if (!snapshot_) snapshot_.emplace(hash_context_quietly());
        v.log(context_transfer_line(*snapshot_));
        v.done();
    });
    return *snapshot_;
}

cache::ContextSnapshot BuildSession::hash_context_quietly() const {
    std::filesystem::path stats;
    if (request.cache_context_stats)
        stats = store.cache_dir() / "contexts" / cache::context_cache_id(request.context_dir);
    return cache::hash_context(request.context_dir, ignore, stats);
}

std::string context_transfer_line(const cache::ContextSnapshot& snapshot) {
    const auto& s = snapshot.stats();
    return fmt::format("transferring context: {} files, {} rehashed ({} read) done", s.files,
                       s.files_hashed, progress_bytes(s.bytes_hashed));
}

std::vector<std::filesystem::path> BuildSession::context_mount_sources(const std::string& name) {
    const cache::ContextSnapshot& snap = snapshot(name);
    if (name.empty()) return mask_.sources(request.context_dir, snap, ignore, store.tmp_dir());
    NamedContextState& c = named_context(name);
    return c.mask.sources(c.dir, snap, c.ignore, store.tmp_dir());
}

bool BuildSession::has_snapshot(const std::string& name) const {
    return name.empty() ? snapshot_.has_value() : named_context(name).snapshot.has_value();
}

void BuildSession::warm_up_run(const planner::RunStep& step) {
    if (!run || warm_up_started_.exchange(true)) return;
    RunExecutor* runner = run;
    warm_up_.submit([runner, &step, scratch = store.tmp_dir()] { runner->warm_up(step, scratch); });
}

void BuildSession::wait_warm_up() {
    if (warm_up_started_) std::call_once(warm_up_waited_, [this] { warm_up_.wait(); });
}

const BuildContext& BuildSession::context(const std::string& name) {
    if (!name.empty()) {
        snapshot(name);
        return *named_context(name).view;
    }
    std::call_once(context_once_, [&] {
        auto view = std::make_unique<BuildContext>(request.context_dir, ignore);
        view->use_snapshot(snapshot());
        context_ = std::move(view);
    });
    return *context_;
}

std::vector<std::filesystem::path> BuildSession::unpack(
    const std::vector<store::LayerRecord>& layers) {
    // One distinct directory per position: a chain may repeat a layer, and
    // the kernel refuses one directory twice among an overlay's lowerdirs.
    provide(layers);
    std::vector<store::ChainLayer> chain;
    chain.reserve(layers.size());
    for (const auto& l : layers)
        chain.push_back({l.digest, l.diff_id});
    return store.layers().ensure_chain(chain);
}

void BuildSession::provide(const std::vector<store::LayerRecord>& layers) {
    if (!request.cache_from) return;
    std::vector<store::LayerRecord> wanted;
    for (const auto& l : layers)
        if (!store.content().has(l.digest) && request.cache_from->has_source(l.digest))
            wanted.push_back(l);
    if (wanted.empty()) return;
    // What a lazy --cache-from costs shows as a vertex of its own.
    Vertex v(progress, next_id(), "[internal] fetch layers from the build cache");
    try {
        request.cache_from->provide(wanted, store.content());
    } catch (const Error& e) {
        v.failed(e.what());
        throw;
    }
    for (const auto& l : wanted)
        v.log(fmt::format("{} {} done", l.digest.str(), progress_bytes(l.size)));
    v.done();
}

std::vector<store::LayerRecord> BuildSession::layers_of(const planner::SourceRef& ref) {
    switch (ref.kind) {
        case planner::SourceRef::Kind::kStage:
            return stage_result(ref.stage).layers;
        case planner::SourceRef::Kind::kImage:
            return resolver.record(ref.image_digest).layers;
        case planner::SourceRef::Kind::kContext:
        case planner::SourceRef::Kind::kScratch:
            break;
    }
    return {};
}

SourceDirs BuildSession::source_dirs(const planner::SourceRef& ref) {
    if (ref.kind == planner::SourceRef::Kind::kStage) {
        StageFiles& files = stage_files(ref.stage);
        // As in stage_result(), no stage holds a slot while it waits.
        const bool waits = !files.settled();
        if (waits) slots.release();
        std::optional<LeasedDirs> early = files.lease();
        if (waits) slots.acquire();
        if (early) return SourceDirs{std::nullopt, std::move(early->dirs), std::move(early->lease)};
    }
    return SourceDirs{layers_of(ref), {}, nullptr};
}

StageFiles& BuildSession::stage_files(size_t index) {
    auto it = files_.find(index);
    if (it == files_.end())
        throw Error(ErrorKind::kInternal, fmt::format("stage {} is not part of the build", index));
    return *it->second;
}

void BuildSession::set_futures(std::map<size_t, std::shared_future<StageResult>> futures) {
    futures_ = std::move(futures);
    for (const auto& [index, f] : futures_)
        files_.emplace(index, std::make_unique<StageFiles>());
}

const StageResult& BuildSession::stage_result(size_t index) {
    auto it = futures_.find(index);
    if (it == futures_.end())
        throw Error(ErrorKind::kInternal, fmt::format("stage {} is not part of the build", index));
    if (it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        slots.release();
        it->second.wait();
        slots.acquire();
    }
    return it->second.get();
}

void BuildSession::report(StepReport r, cache::StepRecord record) {
    std::lock_guard lock(reports_mu_);
    reports_.push_back(std::move(r));
    records_.push_back(std::move(record));
}

std::vector<StepReport> BuildSession::reports() {
    std::lock_guard lock(reports_mu_);
    std::vector<StepReport> out = reports_;
    std::sort(out.begin(), out.end(), [&](const StepReport& a, const StepReport& b) {
        return std::pair(stage_order(a.stage), a.step) < std::pair(stage_order(b.stage), b.step);
    });
    return out;
}

std::vector<cache::StepRecord> BuildSession::step_records() {
    std::lock_guard lock(reports_mu_);
    std::vector<cache::StepRecord> out = records_;
    std::sort(out.begin(), out.end(), [&](const cache::StepRecord& a, const cache::StepRecord& b) {
        return std::pair(stage_order(a.stage), a.step) < std::pair(stage_order(b.stage), b.step);
    });
    return out;
}

size_t BuildSession::stage_order(size_t index) const {
    for (size_t i = 0; i < plan.stages.size(); ++i)
        if (plan.stages[i].index == index) return i;
    return plan.stages.size();
}

const std::optional<cache::BuildRecord>& BuildSession::previous() {
    std::call_once(previous_once_, [&] {
        previous_ = cache::BuildRecords(store.cache_dir()).load(request.explain_id);
    });
    return previous_;
}

const cache::FileListing& BuildSession::listing() {
    std::call_once(listing_once_, [&] {
        const cache::ContextSnapshot& snap = snapshot();
        for (const cache::Entry& e : snap.entries()) {
            if (e.type == cache::EntryType::kDir) continue;
            listing_.emplace(std::string(e.path), cache::digest_string(e.digest));
        }
    });
    return listing_;
}

void BuildSession::release_later(std::vector<std::shared_ptr<void>> leftovers) {
    if (leftovers.empty()) return;
    auto held = std::make_shared<std::vector<std::shared_ptr<void>>>(std::move(leftovers));
    run_later([held] { held->clear(); });
}

void BuildSession::run_later(std::function<void()> task) {
    releases_.submit([task = std::move(task)] {
        try {
            task();
        } catch (...) {
            // A hint not kept: the next build does without it.
        }
    });
}

}  // namespace strata::executor
