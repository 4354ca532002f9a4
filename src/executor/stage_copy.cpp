// A stage's COPY, ADD and WORKDIR layers: straight to the tar when no RUN
// needs their directory, with the bytes of unchanged files taken from the
// last build's layer.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/error.hpp"
#include "executor/stage_runner.hpp"

namespace strata::executor {

namespace {

// The value of a key field the planner recorded (e.g. WORKDIR's "user").
std::string field_value(const planner::Step& step, std::string_view name) {
    for (const auto& f : step.key_fields)
        if (f.name == name) return f.value;
    return {};
}

}  // namespace

store::LayerRecord StageRunner::execute(const Step& st, size_t i, Vertex* v) {
    // A COPY (not ADD, see run_copy) goes straight to its layer tar and
    // makes only a scratch tree of its directories (direct_copy_scratch).
    const bool direct_copy = st.kind == StepKind::kCopy && !st.copy.is_add;
    TempDir dir = TempDir::create(
        direct_copy ? direct_copy_scratch(s_.store.tmp_dir()) : s_.store.tmp_dir(), "layer-");
    // The layer's root is the merged root of any container over it.
    if (::chmod(dir.path().c_str(), 0755) != 0) throw system_error("chmod", dir.path().string());
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
        auto rest =
            std::make_shared<Rest>(Rest{std::move(direct), std::move(dir), std::move(blob.files)});
        // The files' identities are of the context the COPY read.
        const std::string& context = st.copy.from.context;
        const bool index = !(indexed && blob.diff_id == *previous) && s_.has_snapshot(context);
        s_.run_later([rest, index, to = copy_index_dir(), diff_id = blob.diff_id,
                      start = index ? s_.snapshot(context).started_at_ns() : 0] {
            if (!index) return;
            // None (a COPY --from, files all too new): nothing to keep.
            const auto kept = index_of_written(
                rest->copy.layer_files, rest->copy.layer_file_identities, rest->written, start);
            if (kept.size() > 0) kept.save(to, diff_id);
        });
    }
    return layer_record(blob);
}

CopyResult StageRunner::make_layer(const Step& st, size_t i, const std::filesystem::path& dir,
                                   Vertex* v, bool direct) {
    switch (st.kind) {
        case StepKind::kCopy:
            return copy(st, i, dir, v, direct);
        case StepKind::kWorkdir: {
            LayerStackView parent(parent_dirs(), "the image");
            make_workdir(st.effect.working_dir.value_or("/"), field_value(st, "user"), parent, dir,
                         s_.request.source_date_epoch);
            return {};
        }
        default:
            throw Error(ErrorKind::kInternal, "step does not change the filesystem");
    }
}

store::LayerWriteOptions StageRunner::layer_options() const {
    store::LayerWriteOptions lw;
    lw.compression = s_.request.compression;
    lw.source_date_epoch = s_.request.source_date_epoch;
    // Nothing durable names a layer until the image record does, and
    // writing that syncs the blobs directory first: one fsync for all
    // the build's layers instead of one each.
    lw.dir_sync = store::ContentStore::DirSync::kDeferred;
    return lw;
}

void StageRunner::log_layer(Vertex& v, const store::LayerBlob& blob, double seconds) const {
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

void StageRunner::take_unchanged_bytes(CopyResult& copy, const store::Digest& previous,
                                       const CopyReuseIndex& index) {
    if (index.size() == 0) return;
    try {
        auto blob = std::make_shared<const UniqueFd>(s_.store.content().open(previous));
        use_stored_bytes(copy.layer_files, copy.layer_file_identities, index, blob);
    } catch (const Error&) {
        // The blob is gone (pruned): every file is read from the context.
    }
}

store::LayerRecord StageRunner::layer_record(const store::LayerBlob& blob) {
    return store::LayerRecord{blob.digest, blob.diff_id, blob.size, blob.media_type,
                              blob.content_size};
}

CopyResult StageRunner::copy(const Step& st, size_t i, const std::filesystem::path& layer_dir,
                             Vertex* v, bool direct) {
    LayerStackView parent(parent_dirs(), "the image");
    std::optional<LayerStackView> from;
    const SourceView* source = nullptr;
    switch (st.copy.from.kind) {
        case planner::SourceRef::Kind::kContext:
            source = &s_.context(st.copy.from.context);
            break;
        case planner::SourceRef::Kind::kStage: {
            const auto& target = s_.plan.stage(st.copy.from.stage);
            const std::string name =
                target.display_name.empty() ? std::to_string(target.index) : target.name;
            from.emplace(source_dirs(st.copy.from),
                         fmt::format("stage '{}'", name.empty() ? target.display_name : name));
            source = &*from;
            break;
        }
        case planner::SourceRef::Kind::kImage:
            from.emplace(source_dirs(st.copy.from), "image " + st.copy.from.image);
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
    env.git_commits = s_.digester->git_commits();
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

}  // namespace strata::executor
