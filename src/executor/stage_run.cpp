// A stage's RUN steps, and the layers written while the next step runs.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor/copy/source_view.hpp"
#include "executor/stage_runner.hpp"
#include "store/image_config_time.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

namespace {

// A secret or ssh agent the build was not given: the step fails when the
// mount is `required` (the message names the id, never a value), else
// nothing is mounted — BuildKit's rule. Returns "present" (false).
bool absent_unless_required(const planner::RunMount& m, std::string message) {
    if (m.required) throw Error(ErrorKind::kNotFound, std::move(message));
    return false;
}

// A cache mount with from= (a stage or an image): BuildKit keeps it under
// its id and that filesystem's identity, and starts it as a copy of it,
// shown from source= (the whole filesystem without it). strata copies the
// part the mount shows (the same files for the step) and keys the directory
// by the id, the layers' diffIDs and source=. With uid=, gid= or mode= and
// no source=, BuildKit mounts a new directory made with them on top of that
// filesystem instead: an empty one, as without from=, under its own key.
std::filesystem::path cache_dir_from(BuildSession& s, const planner::RunMount& m,
                                     const std::string& id, bool fresh) {
    std::string identity;
    for (const store::LayerRecord& l : s.layers_of(m.from))
        identity += l.diff_id.str() + ",";
    const std::string source = go::path::join("/", m.source);
    const std::string key = fmt::format("{}\nfrom {}\nsource {}", id, identity, source);
    const bool settings =
        m.options.count("uid") || m.options.count("gid") || m.options.count("mode");
    if (source == "/" && settings) return s.cache_mounts.dir(s.store.cache_dir(), key, fresh);
    return s.cache_mounts.seeded(s.store.cache_dir(), key, fresh, [&](const fs::path& into) {
        std::string what = fmt::format("image {}", m.from.image);
        if (m.from.kind == planner::SourceRef::Kind::kStage) {
            const auto& stage = s.plan.stage(m.from.stage);
            what = fmt::format("stage '{}'",
                               stage.name.empty() ? std::to_string(stage.index) : stage.name);
        }
        LayerStackView from(s.unpack(s.layers_of(m.from)), what);
        const std::optional<Node> top = from.lookup(source, true);
        if (!top)
            throw Error(ErrorKind::kNotFound,
                        fmt::format("cache mount source {}: not found in {}", source, what));
        if (top->type != FileType::kDirectory)
            throw Error(
                ErrorKind::kUsage,
                fmt::format("cache mount source {} in {} is not a directory", source, what));
        CopyRequest req;
        req.sources = {source};
        req.dest.assign(1, '/');  // (= "/" trips GCC 12's -Wrestrict here)
        CopyEnvironment env;
        env.scratch_dir = s.store.tmp_dir();
        run_copy(req, from, LayerStackView({}, "the cache mount"), into, env);
        // The mount shows that directory itself: its owner and mode.
        if (::chown(into.c_str(), top->st.st_uid, top->st.st_gid) != 0 ||
            ::chmod(into.c_str(), top->st.st_mode & 07777) != 0)
            throw system_error("set the owner and mode of", into.string());
    });
}

}  // namespace

std::string StageRunner::run_and_store_later(const Step& st, size_t i, const std::string& key,
                                             std::unique_ptr<Vertex>& v) {
    RunDirs dirs = run_dirs_.take();
    TempDir dir = std::move(dirs.layer);
    std::vector<std::shared_ptr<void>> leftovers;
    run(st, i, dir, std::move(dirs.work), v.get(), leftovers);
    std::string created = store::format_timestamp(store::now_timestamp());
    store_pending();  // its directory was a lower layer of this container
    store_later(st, key, created, v, std::move(dir), std::move(leftovers), layer_options());
    return created;
}

std::string StageRunner::make_and_store_later(const Step& st, size_t i, const std::string& key,
                                              std::unique_ptr<Vertex>& v) {
    TempDir dir = TempDir::create(s_.store.tmp_dir(), "layer-");
    if (::chmod(dir.path().c_str(), 0755) != 0) throw system_error("chmod", dir.path().string());
    make_layer(st, i, dir.path(), v.get(), false);
    std::string created = store::format_timestamp(store::now_timestamp());
    store::LayerWriteOptions lw = layer_options();
    if (const auto previous = previous_layer_id(i)) lw.likely_blob = previous;
    store_later(st, key, created, v, std::move(dir), {}, lw);
    return created;
}

bool StageRunner::made_before_run(const Step& st, size_t i, const std::string& key) {
    if (pending_ || !s_.run) return false;
    bool run_next = false;
    for (size_t j = i + 1; j < sp_.steps.size() && !run_next; ++j) {
        if (!sp_.steps[j].changes_filesystem) continue;
        if (sp_.steps[j].kind != StepKind::kRun) return false;
        run_next = true;
    }
    if (!run_next || !st.no_cache) return run_next;
    const auto same = s_.cache.get(key);
    return !(same && same->layer && s_.store.layers().has(same->layer->diff_id));
}

void StageRunner::store_later(const Step& st, const std::string& key, const std::string& created,
                              std::unique_ptr<Vertex>& v, TempDir dir,
                              std::vector<std::shared_ptr<void>> leftovers,
                              const store::LayerWriteOptions& lw) {
    auto p = std::make_unique<PendingLayer>();
    p->step = &st;
    p->key = key;
    p->created = created;
    p->vertex = std::move(v);
    p->dir.emplace(std::move(dir));
    p->leftovers = std::move(leftovers);
    PendingLayer* raw = p.get();
    store::ContentStore& content = s_.store.content();
    cache::CacheIndex* cache = s_.request.scratch ? nullptr : &s_.cache;
    BuildSession* session = &s_;
    raw->write.submit([raw, &content, cache, lw, session] {
        raw->t0 = std::chrono::steady_clock::now();
        raw->blob = store::write_layer(raw->dir->path(), content, lw);
        raw->written = std::chrono::steady_clock::now();
        // The entry needs the blob only: the directory is unpacked
        // from it when a crash comes before it is adopted.
        if (cache)
            cache->put({raw->key, raw->created, layer_record(raw->blob), raw->step->display});
        session->release_later(std::move(raw->leftovers));
    });
    pending_ = std::move(p);
}

void StageRunner::store_pending() {
    if (!pending_) return;
    // Other stages may be reading the directory where it is: it is moved
    // (or removed, when the layer is there already) once they are done.
    // Without its job slot meanwhile: a reader that waited for the
    // publication may be waiting for a slot, with its lease.
    if (published_) {
        s_.slots.release();
        s_.stage_files(sp_.index).close_when_unread();
        s_.slots.acquire();
    }
    std::unique_ptr<PendingLayer> p = std::move(pending_);
    try {
        p->write.wait();
        s_.store.layers().adopt(p->dir->path(), p->blob.diff_id);
        p->dir->keep();
    } catch (const Error& e) {
        if (p->vertex) p->vertex->failed(e.what());
        throw frontend::ParseError(s_.locator.error(p->step->instruction, e.what()), e.kind());
    }
    r_.layers.push_back(layer_record(p->blob));
    r_.layers.insert(r_.layers.end(), after_pending_.begin(), after_pending_.end());
    after_pending_.clear();
    if (p->vertex) {
        log_layer(*p->vertex, p->blob, std::chrono::duration<double>(p->written - p->t0).count());
        p->vertex->done_at(p->written);
    }
}

void StageRunner::run(const Step& st, size_t i, const TempDir& upper, TempDir work, Vertex* v,
                      std::vector<std::shared_ptr<void>>& leftovers) {
    if (!s_.run)
        throw Error(ErrorKind::kUsage,
                    "RUN steps need a container runtime, and this strata was built without "
                    "one");
    RunRequest req;
    req.step = &st.run;
    const uint64_t linked_before = s_.store.layers().files_linked();
    const auto t_unpack = std::chrono::steady_clock::now();
    req.lower_layers = parent_dirs();
    if (const uint64_t linked = s_.store.layers().files_linked() - linked_before; v && linked)
        v->log(
            fmt::format("unpacked the layers below in {:.2f}s ({} unchanged files linked "
                        "from the last build)",
                        seconds_since(t_unpack), linked));
    req.upper_dir = upper.path();
    req.work_dir = work.path();
    req.description = st.display;
    // A later RUN of the stage: after this step missed the cache, the
    // steps after it almost always miss too (one prepared and not used
    // is dropped).
    req.run_follows =
        std::any_of(sp_.steps.begin() + static_cast<std::ptrdiff_t>(i) + 1, sp_.steps.end(),
                    [](const Step& s) { return s.kind == StepKind::kRun; });
    for (const planner::RunMount& m : st.run.mounts) {
        ResolvedMount rm;
        rm.mount = m;
        if (m.type == "bind") {
            if (m.from.kind == planner::SourceRef::Kind::kContext)
                rm.sources = s_.context_mount_sources(m.from.context);
            else
                rm.sources = source_dirs(m.from);
            rm.subpath = m.source;
        } else if (m.type == "cache") {
            const std::string id = m.id.empty() ? m.target : m.id;
            if (m.from.kind == planner::SourceRef::Kind::kScratch)
                rm.sources = {s_.cache_mounts.dir(s_.store.cache_dir(), id, st.no_cache)};
            else
                rm.sources = {cache_dir_from(s_, m, id, st.no_cache)};
        } else if (m.type == "secret") {
            if (std::optional<std::string> value = s_.secrets.value(m.id))
                rm.secret = std::move(*value);
            else
                rm.present = absent_unless_required(
                    m, fmt::format("secret {0} is required but was not given: pass it with "
                                   "--secret id={0},src=FILE or --secret id={0},env=VARIABLE",
                                   m.id));
        } else if (m.type == "ssh") {
            if (auto socket = s_.ssh_agents.socket(m.id))
                rm.ssh_socket = s_.ssh_forwards.socket_for(*socket, m.uid, m.gid, m.mode);
            else
                rm.present = absent_unless_required(
                    m, fmt::format("ssh agent {0} is required but was not given: pass --ssh "
                                   "{0} (your $SSH_AUTH_SOCK) or --ssh {0}=SOCKET|KEYFILE",
                                   m.id));
        }
        req.mounts.push_back(std::move(rm));
    }
    // Output lines with the time since the step started, as BuildKit
    // prints them ("#6 0.054 Groups: 2000").
    req.output = [v](std::string_view line) {
        if (v) v->log(fmt::format("{:.3f} {}", v->seconds(), line));
    };
    req.leftovers = &leftovers;
    warmed_ = true;     // from here on, RUNs prepare the next (run_follows)
    s_.wait_warm_up();  // what a warm-up made is there to be used
    if (req.run_follows) run_dirs_.make_ahead();
    s_.run->run(req);
    leftovers.push_back(std::make_shared<TempDir>(std::move(work)));
}

}  // namespace strata::executor
