// One stage of a build: its base, then each step — the cache key, then a hit
// (nothing but bookkeeping) or the step run for real and its layer stored.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/thread_pool.hpp"
#include "executor/build_session.hpp"
#include "executor/config_effect.hpp"
#include "executor/copy/copy.hpp"
#include "executor/copy/copy_reuse.hpp"
#include "executor/explain.hpp"
#include "executor/run_dirs.hpp"
#include "store/image_config_time.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {

namespace {

// A secret or ssh agent the build was not given: the step fails when the
// mount is `required` (the message names the id, never a value), else
// nothing is mounted — BuildKit's rule. Returns "present" (false).
bool absent_unless_required(const planner::RunMount& m, std::string message) {
    if (m.required) throw Error(ErrorKind::kNotFound, std::move(message));
    return false;
}

using planner::Step;
using planner::StepKind;

// The value of a key field the planner recorded (e.g. WORKDIR's "user").
std::string field_value(const Step& step, std::string_view name) {
    for (const auto& f : step.key_fields)
        if (f.name == name) return f.value;
    return {};
}

std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Thrown between steps once another stage has failed.
struct Cancelled : Error {
    Cancelled() : Error(ErrorKind::kInternal, "cancelled: another stage failed") {}
};

class StageRunner {
  public:
    StageRunner(BuildSession& s, const planner::StagePlan& sp) : s_(s), sp_(sp) {}

    StageResult run() {
        start();
        try {
            for (size_t i = 0; i < sp_.steps.size(); ++i) {
                if (s_.cancelled) throw Cancelled();
                step(i);
            }
            store_pending();
        } catch (...) {
            // The step that succeeded before the failure keeps its layer and
            // cache entry (a retry starts from it); its own error, if any,
            // gives way to the one being thrown.
            try {
                store_pending();
            } catch (...) {
            }
            throw;
        }
        return std::move(r_);
    }

  private:
    void start() {
        switch (sp_.base_kind) {
            case planner::StagePlan::BaseKind::kScratch:
                r_.config = scratch_config(sp_.platform);
                break;
            case planner::StagePlan::BaseKind::kImage: {
                const auto& rec = s_.resolver.record(sp_.base_image.digest);
                r_.config = base_config(s_.resolver.config(sp_.base_image.digest));
                r_.layers = rec.layers;
                r_.inherited_history = r_.config.history.size();
                break;
            }
            case planner::StagePlan::BaseKind::kStage:
                r_ = s_.stage_result(sp_.base_stage);
                break;
        }
        r_.config.diff_ids.clear();  // filled from the layers when the image is written
        if (!sp_.from_display.empty()) {
            Vertex v(s_.progress, s_.next_id(), sp_.from_display);
            v.done();
        }
        apply_effect(r_.config, sp_.start_effect);
    }

    void step(size_t i) {
        const Step& st = sp_.steps[i];
        StepReport rep;
        rep.stage = sp_.index;
        rep.step = i;
        rep.name = st.display;
        rep.instruction = first_line(st.instruction.original);
        std::unique_ptr<Vertex> v;
        if (!st.display.empty())
            v = std::make_unique<Vertex>(s_.progress, s_.next_id(), st.display);
        // The vertex outlives this call when a RUN's layer is stored later.
        const Vertex* shown = v.get();
        try {
            rep.key = s_.keys->step_key(sp_.index, i);
            cache::StepRecord record = step_record(i, rep);
            std::optional<std::string> created;
            if (st.changes_filesystem) {
                std::optional<cache::CacheEntry> hit;
                if (!st.no_cache) {
                    hit = s_.cache.get(rep.key);
                    if (hit && !cache::CacheIndex::usable(*hit, s_.store.content())) hit.reset();
                    if (!hit && s_.request.cache_from) hit = s_.request.cache_from->get(rep.key);
                }
                if (hit) {
                    created = hit->created;
                    if (hit->layer) add_layer(*hit->layer);
                    rep.outcome = StepReport::Outcome::kCached;
                    if (v) v->cached();
                } else {
                    if (s_.request.explain) explain(i, st, record, rep, v.get());
                    rep.outcome = StepReport::Outcome::kBuilt;
                    if (st.kind != StepKind::kRun) warm_up_run_after(i);
                    if (st.kind == StepKind::kRun) {
                        created = run_and_store_later(st, i, rep.key, v);
                    } else if (made_before_run(st, i, rep.key)) {
                        created = make_and_store_later(st, i, rep.key, v);
                    } else {
                        // The layer of a RUN before it is written meanwhile
                        // (its directory is the top of the parent this step
                        // sees), and still may be after this one's is done.
                        const store::LayerRecord layer = execute(st, i, v.get());
                        created = store::format_timestamp(store::now_timestamp());
                        if (!s_.request.scratch)
                            s_.cache.put({rep.key, *created, layer, st.display});
                        add_layer(layer);
                        if (v) v->done();
                    }
                }
            }
            apply_effect(r_.config, st.effect);
            add_history(r_.config, st.effect, st.changes_filesystem ? created : std::nullopt);
            rep.seconds = shown ? shown->seconds() : 0;
            s_.report(std::move(rep), std::move(record));
        } catch (const frontend::ParseError& e) {
            if (v) v->failed(e.diagnostic().message);
            throw;
        } catch (const Cancelled&) {
            throw;
        } catch (const RunFailed& e) {
            if (v) v->failed(e.what());
            std::string hint;
            if (!e.output_tail().empty()) hint = "the last lines it printed:\n" + e.output_tail();
            throw frontend::ParseError(s_.locator.error(st.instruction, e.what(), hint), e.kind());
        } catch (const Error& e) {
            if (v) v->failed(e.what());
            throw frontend::ParseError(s_.locator.error(st.instruction, e.what()), e.kind());
        }
    }

    // What the next build's --explain compares with.
    cache::StepRecord step_record(size_t i, const StepReport& rep) {
        cache::StepRecord rec;
        rec.stage = sp_.index;
        rec.step = i;
        rec.name = rep.name;
        rec.instruction = rep.instruction;
        rec.key = rep.key;
        rec.parent_key = parent_key(i);
        for (auto& f : s_.keys->step_fields(sp_.index, i))
            rec.fields.emplace_back(std::move(f.name), std::move(f.value));
        return rec;
    }

    std::string parent_key(size_t i) {
        for (size_t j = i; j-- > 0;)
            if (sp_.steps[j].changes_filesystem) return s_.keys->step_key(sp_.index, j);
        return s_.keys->base_key(sp_.index);
    }

    void explain(size_t i, const Step& st, const cache::StepRecord& now, StepReport& rep,
                 Vertex* v) {
        MissFacts f;
        f.now = &now;
        f.no_cache = st.no_cache;
        f.had_record = s_.previous().has_value();
        if (s_.previous()) {
            for (const auto& b : s_.previous()->steps)
                if (b.stage == sp_.index && b.step == i) f.before = &b;
        }
        if (f.before && f.before->parent_key != now.parent_key) f.parent_change = parent_change(i);
        if (st.kind == StepKind::kCopy && st.copy.from.kind == planner::SourceRef::Kind::kContext) {
            f.changed_files = [&]() -> std::vector<std::string> {
                std::call_once(s_.previous_files_once, [&] {
                    s_.previous_files =
                        cache::BuildRecords(s_.store.cache_dir()).load_files(s_.request.explain_id);
                });
                if (!s_.previous_files) return {};
                return diff_listings(*s_.previous_files, s_.listing(),
                                     s_.digester->context_roots(st.copy));
            };
        }
        rep.explanation = explain_miss(f);
        if (v)
            for (const auto& line : rep.explanation)
                v->log("explain: " + line);
    }

    // Says what changed under step i: the nearest earlier filesystem step of
    // the stage (which was rebuilt), or its base.
    std::string parent_change(size_t i) {
        for (size_t j = i; j-- > 0;) {
            const Step& p = sp_.steps[j];
            if (!p.changes_filesystem) continue;
            return fmt::format("the step it builds on changed: {}",
                               p.display.empty() ? first_line(p.instruction.original) : p.display);
        }
        switch (sp_.base_kind) {
            case planner::StagePlan::BaseKind::kImage: {
                std::string before;
                if (s_.previous()) {
                    auto it = s_.previous()->base_refs.find(sp_.index);
                    if (it != s_.previous()->base_refs.end()) before = it->second;
                }
                return fmt::format("the base image changed: {} -> {}@{}",
                                   before.empty() ? "?" : before, sp_.base_ref,
                                   sp_.base_image.digest);
            }
            case planner::StagePlan::BaseKind::kStage:
                return "the stage it is built FROM changed";
            case planner::StagePlan::BaseKind::kScratch:
                break;
        }
        return "the step it builds on changed";
    }

    store::LayerRecord execute(const Step& st, size_t i, Vertex* v) {
        // A COPY (not ADD, see run_copy) goes straight to its layer tar and
        // makes only a scratch tree of its directories (direct_copy_scratch).
        const bool direct_copy = st.kind == StepKind::kCopy && !st.copy.is_add;
        TempDir dir = TempDir::create(
            direct_copy ? direct_copy_scratch(s_.store.tmp_dir()) : s_.store.tmp_dir(), "layer-");
        // The layer's root is the merged root of any container over it.
        if (::chmod(dir.path().c_str(), 0755) != 0)
            throw system_error("chmod", dir.path().string());
        // The last build's layer of this step, and its COPY index (read
        // while the COPY is planned).
        const auto previous = previous_layer_id(i);
        std::optional<CopyReuseIndex> old_index;
        TaskGroup loading;
        if (direct_copy && previous)
            loading.submit([&old_index, dir = copy_index_dir(), id = *previous] {
                old_index = CopyReuseIndex::load(dir, id);
            });
        // A COPY written straight to the tar: `dir` holds only its
        // directories and links, the files are still in their sources, and
        // layers/<diffID>/ is unpacked from the blob when first needed.
        CopyResult direct = make_layer(st, i, dir.path(), v, direct_copy);
        loading.wait();
        const auto t0 = std::chrono::steady_clock::now();
        store::LayerWriteOptions lw = layer_options();
        // An unchanged COPY rebuilt (--no-cache, or its cache entry gone)
        // makes the same tar as last time: compared, not written again.
        if (previous) lw.likely_blob = previous;
        // Files unchanged since that layer was written: their bytes are read
        // from its blob (copy_reuse.hpp).
        const bool indexed = direct.direct && old_index;
        if (indexed) take_unchanged_bytes(direct, *previous, *old_index);
        store::LayerBlob blob =
            store::write_layer(dir.path(), direct.layer_files, s_.store.content(), lw);
        if (v) log_layer(*v, blob, seconds_since(t0));
        if (!direct.direct) {
            s_.store.layers().adopt(dir.path(), blob.diff_id);
            dir.keep();
        } else {
            // Unpacked when a later step needs it: the files that did not
            // change since the last build are linked from its layer.
            s_.store.layers().note_written(blob.diff_id, previous);
            // The index for the next build, the scratch tree's removal and
            // the freeing of the file list, off the build's path (~5 ms for
            // 10,000 files).
            struct Rest {
                CopyResult copy;
                TempDir scratch;
                std::vector<store::WrittenFile> written;
            };
            auto rest = std::make_shared<Rest>(
                Rest{std::move(direct), std::move(dir), std::move(blob.files)});
            const bool index = !(indexed && blob.diff_id == *previous) && s_.has_snapshot();
            s_.run_later([rest, index, to = copy_index_dir(), diff_id = blob.diff_id,
                          start = index ? s_.snapshot().started_at_ns() : 0] {
                if (!index) return;
                // None (a COPY --from, files all too new): nothing to keep.
                const auto kept = index_of_written(
                    rest->copy.layer_files, rest->copy.layer_file_identities, rest->written, start);
                if (kept.size() > 0) kept.save(to, diff_id);
            });
        }
        return layer_record(blob);
    }

    // Fills `dir` with what the COPY/ADD or WORKDIR step makes; with
    // `direct`, a COPY's regular files stay in their sources (CopyResult).
    CopyResult make_layer(const Step& st, size_t i, const std::filesystem::path& dir, Vertex* v,
                          bool direct) {
        switch (st.kind) {
            case StepKind::kCopy:
                return copy(st, i, dir, v, direct);
            case StepKind::kWorkdir: {
                LayerStackView parent(parent_dirs(), "the image");
                make_workdir(st.effect.working_dir.value_or("/"), field_value(st, "user"), parent,
                             dir, s_.request.source_date_epoch);
                return {};
            }
            default:
                throw Error(ErrorKind::kInternal, "step does not change the filesystem");
        }
    }

    store::LayerWriteOptions layer_options() const {
        store::LayerWriteOptions lw;
        lw.compression = s_.request.compression;
        lw.source_date_epoch = s_.request.source_date_epoch;
        // Nothing durable names a layer until the image record does, and
        // writing that syncs the blobs directory first: one fsync for all
        // the build's layers instead of one each.
        lw.dir_sync = store::ContentStore::DirSync::kDeferred;
        return lw;
    }
    void log_layer(Vertex& v, const store::LayerBlob& blob, double seconds) const {
        const auto unchanged = std::count_if(blob.files.begin(), blob.files.end(),
                                             [](const store::WrittenFile& f) { return f.stored; });
        v.log(fmt::format("layer {}: {} tar, {} {} in {:.2f}s{}", blob.diff_id.str().substr(0, 19),
                          progress_bytes(blob.tar_size), progress_bytes(blob.size),
                          store::compression_name(s_.request.compression), seconds,
                          unchanged == 0 ? std::string()
                                         : fmt::format(" ({} unchanged files read from the last "
                                                       "build's layer)",
                                                       unchanged)));
    }

    std::filesystem::path copy_index_dir() const { return s_.cache.dir() / "copy-index"; }

    // Points the files of a direct COPY that did not change since layer
    // `previous` (whose index is `index`) was written at their bytes in its
    // blob.
    void take_unchanged_bytes(CopyResult& copy, const store::Digest& previous,
                              const CopyReuseIndex& index) {
        if (index.size() == 0) return;
        try {
            auto blob = std::make_shared<const UniqueFd>(s_.store.content().open(previous));
            use_stored_bytes(copy.layer_files, copy.layer_file_identities, index, blob);
        } catch (const Error&) {
            // The blob is gone (pruned): every file is read from the context.
        }
    }

    static store::LayerRecord layer_record(const store::LayerBlob& blob) {
        return store::LayerRecord{blob.digest, blob.diff_id, blob.size, blob.media_type,
                                  blob.content_size};
    }

    // A RUN step's layer is written while the next step runs (and so is
    // the layer of a COPY, ADD or WORKDIR right before a RUN:
    // make_and_store_later). When the command has exited its upper
    // directory is complete: the next RUN
    // mounts it as its top lower layer, and meanwhile another thread writes
    // and hashes its tar (the blob, then the cache entry), then leaves the
    // container's scratch directories and cgroup to be removed on another
    // thread (nothing waits for that but the build's end). A COPY or
    // WORKDIR after it sees it as the top of its parent too. It becomes
    // layers/<diffID>/ and ends its progress vertex in store_pending(),
    // once no container has it mounted: after the next RUN step's command,
    // and at the stage's end. The layers of the COPY,
    // WORKDIR and cached steps between wait in after_pending_ meanwhile, so
    // that layers stay in step order and no step waits for the write but
    // the next RUN, once its command has run. One at most
    // (docs/performance.md, per-RUN cost).
    struct PendingLayer {
        const Step* step = nullptr;
        std::string key;
        std::string created;
        std::unique_ptr<Vertex> vertex;
        std::chrono::steady_clock::time_point t0, written;
        store::LayerBlob blob;
        std::optional<TempDir> dir;
        // What the container left (scratch directories, its emptied
        // cgroup), handed by `write` to BuildSession::release_later.
        std::vector<std::shared_ptr<void>> leftovers;
        TaskGroup write;  // last: destroyed first, waiting for the write
    };

    std::string run_and_store_later(const Step& st, size_t i, const std::string& key,
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

    // A COPY, ADD or WORKDIR step right before a RUN (made_before_run) makes its
    // layer's directory, and its tar is written while the RUN's container
    // starts and runs over that directory, as for a RUN's layer. Without a
    // RUN next, a COPY goes straight to its tar (execute).
    std::string make_and_store_later(const Step& st, size_t i, const std::string& key,
                                     std::unique_ptr<Vertex>& v) {
        TempDir dir = TempDir::create(s_.store.tmp_dir(), "layer-");
        if (::chmod(dir.path().c_str(), 0755) != 0)
            throw system_error("chmod", dir.path().string());
        make_layer(st, i, dir.path(), v.get(), false);
        std::string created = store::format_timestamp(store::now_timestamp());
        store::LayerWriteOptions lw = layer_options();
        if (const auto previous = previous_layer_id(i)) lw.likely_blob = previous;
        store_later(st, key, created, v, std::move(dir), {}, lw);
        return created;
    }

    // Whether step i (not a RUN) makes its layer's directory and stores it
    // later: the next step of the stage that changes the filesystem is a
    // RUN, no layer is pending before this one (one at most), and the step
    // is not one rebuilt with the inputs of a layer still unpacked
    // (--no-cache: without it, such an entry was a cache hit): that one's
    // tar is compared with the stored blob and the RUN mounts the directory
    // there, so a new directory would only be thrown away.
    bool made_before_run(const Step& st, size_t i, const std::string& key) {
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

    // Makes `dir` the pending layer: its tar is written and its cache entry
    // put on another thread; store_pending() adopts it.
    void store_later(const Step& st, const std::string& key, const std::string& created,
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

    // The directories of the stage's layers so far, lowest first: the
    // stored ones, the RUN layer still being written, the layers after it.
    std::vector<std::filesystem::path> parent_dirs() {
        if (!pending_) return s_.unpack(r_.layers);
        std::vector<store::LayerRecord> chain = r_.layers;
        chain.insert(chain.end(), after_pending_.begin(), after_pending_.end());
        std::vector<std::filesystem::path> dirs = s_.unpack(chain);
        dirs.insert(dirs.begin() + static_cast<std::ptrdiff_t>(r_.layers.size()),
                    pending_->dir->path());
        return dirs;
    }

    // The first step of the stage to run for real, when it is not a RUN:
    // the first RUN after it is warmed up meanwhile (BuildSession::
    // warm_up_run). The RUNs after a RUN are prepared while it runs
    // (run_follows).
    void warm_up_run_after(size_t i) {
        if (warmed_) return;
        warmed_ = true;
        for (size_t j = i + 1; j < sp_.steps.size(); ++j)
            if (sp_.steps[j].kind == StepKind::kRun) return s_.warm_up_run(sp_.steps[j].run);
    }

    // A step's finished layer: on top of the stage's, or behind the RUN
    // layer still being written.
    void add_layer(const store::LayerRecord& layer) {
        if (pending_)
            after_pending_.push_back(layer);
        else
            r_.layers.push_back(layer);
    }

    void store_pending() {
        if (!pending_) return;
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
            log_layer(*p->vertex, p->blob,
                      std::chrono::duration<double>(p->written - p->t0).count());
            p->vertex->done_at(p->written);
        }
    }

    // The layer the last build of this Dockerfile made for step `i`, when it
    // is still unpacked: the COPY links the files that did not change from it.
    std::filesystem::path previous_layer(size_t i) {
        const auto id = previous_layer_id(i);
        if (!id || !s_.store.layers().has(*id)) return {};
        return s_.store.layers().path(*id);
    }
    std::optional<store::Digest> previous_layer_id(size_t i) {
        const auto& prev = s_.previous();
        if (!prev) return std::nullopt;
        for (const auto& b : prev->steps) {
            if (b.stage != sp_.index || b.step != i) continue;
            const auto entry = s_.cache.get(b.key);
            if (!entry || !entry->layer) return std::nullopt;
            return entry->layer->diff_id;
        }
        return std::nullopt;
    }

    CopyResult copy(const Step& st, size_t i, const std::filesystem::path& layer_dir, Vertex* v,
                    bool direct) {
        LayerStackView parent(parent_dirs(), "the image");
        std::optional<LayerStackView> from;
        const SourceView* source = nullptr;
        switch (st.copy.from.kind) {
            case planner::SourceRef::Kind::kContext:
                source = &s_.context();
                break;
            case planner::SourceRef::Kind::kStage: {
                const auto& target = s_.plan.stage(st.copy.from.stage);
                const std::string name =
                    target.display_name.empty() ? std::to_string(target.index) : target.name;
                from.emplace(s_.unpack(s_.layers_of(st.copy.from)),
                             fmt::format("stage '{}'", name.empty() ? target.display_name : name));
                source = &*from;
                break;
            }
            case planner::SourceRef::Kind::kImage:
                from.emplace(s_.unpack(s_.layers_of(st.copy.from)), "image " + st.copy.from.image);
                source = &*from;
                break;
            case planner::SourceRef::Kind::kScratch:
                from.emplace(std::vector<std::filesystem::path>{}, "scratch");
                source = &*from;
                break;
        }
        CopyEnvironment env;
        env.scratch_dir = s_.store.tmp_dir();
        env.prefetched = s_.digester->prefetched();
        env.direct = direct;
        // A layer made as a directory links unchanged files from the last
        // build's (ADD always makes its directory).
        if (!direct || st.copy.is_add) env.reuse_layer = previous_layer(i);
        const auto t0 = std::chrono::steady_clock::now();
        CopyResult result =
            run_copy_step(st.copy, *source, parent, layer_dir, env, s_.request.source_date_epoch);
        if (v && result.direct)
            v->log(
                fmt::format("planned {} entries, {} of file content in {:.2f}s (files go "
                            "straight into the layer tar)",
                            result.entries, progress_bytes(result.bytes), seconds_since(t0)));
        else if (v)
            v->log(fmt::format("copied {} entries, {} of file content in {:.2f}s{}", result.entries,
                               progress_bytes(result.bytes), seconds_since(t0),
                               result.reused ? fmt::format(" ({} unchanged files linked from the "
                                                           "last build)",
                                                           result.reused)
                                             : std::string()));
        return result;
    }

    void run(const Step& st, size_t i, const TempDir& upper, TempDir work, Vertex* v,
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
                    rm.sources = {s_.request.context_dir};
                else
                    rm.sources = s_.unpack(s_.layers_of(m.from));
                rm.subpath = m.source;
            } else if (m.type == "cache") {
                const std::string id = m.id.empty() ? m.target : m.id;
                rm.sources = {s_.cache_mounts.dir(s_.store.cache_dir(), id, st.no_cache)};
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
                    rm.ssh_socket = *socket;
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

    BuildSession& s_;
    const planner::StagePlan& sp_;
    StageResult r_;
    std::unique_ptr<PendingLayer> pending_;
    std::vector<store::LayerRecord> after_pending_;  // finished after pending_, in order
    bool warmed_ = false;                            // warm_up_run_after ran, or a RUN did
    RunDirsAhead run_dirs_{s_.store.tmp_dir()};      // the next RUN's, made while one runs
};

}  // namespace

StageResult run_stage(BuildSession& session, const planner::StagePlan& stage) {
    return StageRunner(session, stage).run();
}

}  // namespace strata::executor
