// snapshot_context: the walk. Each directory is one task: list it, sort the
// names, stat every entry relative to the open directory, apply the ignore
// rules through the matcher's incremental DirState, take content hashes from
// the stat cache or read the file. Subdirectories become new tasks of a
// TaskGroup on the process's thread pool (base/thread_pool.hpp), so a few
// threads walk a large context in parallel; the per-directory scans are then
// stitched together in tree order. The group takes the newest task first:
// the walk stays depth-first, and only the directories on the way down and
// their pending siblings' parent are open at a time.
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "cache/context_digest.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {
namespace {

using frontend::DockerIgnore;

std::optional<EntryType> type_of(uint32_t st_mode) {
    switch (st_mode & S_IFMT) {
        case S_IFREG:
            return EntryType::kFile;
        case S_IFDIR:
            return EntryType::kDir;
        case S_IFLNK:
            return EntryType::kSymlink;
        case S_IFIFO:
            return EntryType::kFifo;
        case S_IFSOCK:
            return EntryType::kSocket;
        case S_IFCHR:
            return EntryType::kCharDevice;
        case S_IFBLK:
            return EntryType::kBlockDevice;
    }
    return std::nullopt;
}

// One included entry of a directory, before paths are assembled.
struct ScanItem {
    uint32_t name_off = 0, name_len = 0;      // in DirScan::names
    uint32_t target_off = 0, target_len = 0;  // in DirScan::targets
    EntryType type = EntryType::kFile;
    bool excluded = false;  // a directory excluded itself, walked for exceptions
    int32_t child = -1;     // DirScan of a walked subdirectory
    int32_t record = -1;    // regular files: DirScan::records index
    uint32_t mode = 0, uid = 0, gid = 0;
    uint64_t size = 0, rdev = 0;
    uint64_t dev = 0, ino = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint32_t nlink = 1;
    bool was_socket = false;
    Hash128 content;
};

struct DirScan {
    std::string names;  // the listing: names, each followed by '\0'
    std::string targets;
    std::vector<ScanItem> items;      // sorted by name
    std::vector<StatRecord> records;  // stat cache records of its files
};

struct Task {
    std::shared_ptr<Directory> parent;  // null for the root
    std::string rel;                    // the directory's path in the context
    size_t name_pos = 0;                // where its own name starts in rel
    DockerIgnore::DirState state;
    uint32_t scan = 0;
};

class HashSink final : public ByteSink {
  public:
    explicit HashSink(XXH3_state_t* st) : st_(st) { XXH3_128bits_reset(st_); }
    void write(const void* data, size_t size) override {
        XXH3_128bits_update(st_, data, size);
        bytes += size;
    }
    Hash128 digest() const {
        XXH128_hash_t d = XXH3_128bits_digest(st_);
        return Hash128{d.low64, d.high64};
    }
    uint64_t bytes = 0;

  private:
    XXH3_state_t* st_;
};

struct XxhStateDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

// What one thread accumulates; merged when the walk ends.
struct WorkerState {
    std::unique_ptr<XXH3_state_t, XxhStateDeleter> xxh{XXH3_createState()};
    size_t cursor = 0;  // into the stat cache: records are in walk order
    SnapshotStats stats;
    std::vector<std::string_view> names;
    std::string rel;
};

Hash128 empty_content() {
    const XXH128_hash_t h = XXH3_128bits(nullptr, 0);
    return Hash128{h.low64, h.high64};
}

void set_meta(ScanItem& it, const FileStat& st) {
    it.mode = st.mode & 07777;
    it.uid = st.uid;
    it.gid = st.gid;
    it.size = st.size;
    it.rdev = is_special(it.type) ? st.rdev : 0;
    it.dev = st.dev;
    it.ino = st.ino;
    it.mtime_ns = st.mtime_ns;
    it.ctime_ns = st.ctime_ns;
    it.nlink = st.nlink;
}

}  // namespace

class SnapshotWalker {
  public:
    SnapshotWalker(Filesystem& fs, const std::string& root, const SnapshotOptions& opts)
        : fs_(fs), root_(root), cache_(opts.stat_cache) {
        if (opts.ignore && !opts.ignore->empty()) ignore_ = opts.ignore;
        threads_ = opts.threads ? opts.threads : std::clamp(thread_pool_size(), 1u, 4u);
        if (!fs.thread_safe()) threads_ = 1;
    }

    ContextSnapshot run() {
        ContextSnapshot snap;
        snap.root_path_ = root_;
        snap.started_at_ns_ = fs_.now_ns();

        root_dir_ = fs_.open_root(root_);
        FileStat root_st;
        root_dir_->stat_self(root_st);
        scans_.push_back(std::make_unique<DirScan>());
        Task root;
        if (ignore_) root.state = ignore_->root();

        // At most threads_ directories at once (this thread helps in wait());
        // a filesystem that is not thread-safe gets them one at a time.
        TaskGroup group({.max_parallel = threads_, .lifo = true});
        group_ = &group;
        submit(std::move(root));
        group.wait();  // every directory scanned, or the first error rethrown
        group_ = nullptr;

        assemble(snap, root_st);
        compute_digests(snap.entries_);

        for (auto& w : states_) {
            SnapshotStats& s = w->stats;
            snap.stats_.files_hashed += s.files_hashed;
            snap.stats_.cache_hits += s.cache_hits;
            snap.stats_.bytes_hashed += s.bytes_hashed;
            snap.stats_.dirs_skipped += s.dirs_skipped;
        }
        if (cache_) cache_->update(seen_, snap.started_at_ns_);
        return snap;
    }

  private:
    void submit(Task task) {
        group_->submit([this, task = std::move(task)]() mutable { visit(task); });
    }

    // One directory, as a task: scan it, then queue its subdirectories.
    void visit(Task& task) {
        WorkerState* ws;
        DirScan* scan;
        {
            std::lock_guard lock(mu_);
            if (free_states_.empty()) {
                states_.push_back(std::make_unique<WorkerState>());
                free_states_.push_back(states_.back().get());
            }
            ws = free_states_.back();
            free_states_.pop_back();
            scan = scans_[task.scan].get();
        }
        struct Release {
            SnapshotWalker* w;
            WorkerState* ws;
            ~Release() {
                std::lock_guard lock(w->mu_);
                w->free_states_.push_back(ws);
            }
        } release{this, ws};
        std::vector<Task> subdirs;
        scan_dir(*ws, task, *scan, subdirs);
        {
            std::lock_guard lock(mu_);
            for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) {
                it->scan = static_cast<uint32_t>(scans_.size());
                scans_.push_back(std::make_unique<DirScan>());
            }
            // The DirScan index was reserved on the item as a placeholder
            // (-2 - position); fix it now that the real index is known.
            fix_children(*scan, subdirs);
        }
        // Last submitted, first taken: the first subdirectory goes next.
        for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it)
            submit(std::move(*it));
    }

    // Items of walked subdirectories hold -2 - (their position in subdirs);
    // subdirs now carry their DirScan indices.
    static void fix_children(DirScan& scan, const std::vector<Task>& subdirs) {
        for (ScanItem& it : scan.items)
            if (it.child <= -2) it.child = static_cast<int32_t>(subdirs[-2 - it.child].scan);
    }

    void scan_dir(WorkerState& ws, Task& task, DirScan& scan, std::vector<Task>& subdirs) {
        std::shared_ptr<Directory> dir;
        if (!task.parent) {
            dir = std::move(root_dir_);
        } else {
            dir = task.parent->open_dir(task.rel.c_str() + task.name_pos);
            task.parent.reset();
            if (!dir) return;  // vanished since its parent was listed
        }
        dir->list(scan.names);
        ws.names.clear();
        for (size_t i = 0; i < scan.names.size();) {
            size_t len = std::char_traits<char>::length(scan.names.data() + i);
            ws.names.emplace_back(scan.names.data() + i, len);
            i += len + 1;
        }
        std::sort(ws.names.begin(), ws.names.end());
        scan.items.reserve(ws.names.size());

        for (std::string_view name : ws.names) {
            const char* cname = name.data();  // '\0'-terminated in scan.names
            FileStat st;
            if (!dir->stat(cname, st)) continue;
            std::optional<EntryType> type = type_of(st.mode);
            if (!type)
                throw Error(ErrorKind::kSystem, "'" + dir->path() + "/" + std::string(name) +
                                                    "': unsupported file type");
            bool need_rel = ignore_ || *type == EntryType::kDir;
            if (need_rel) {
                ws.rel.assign(task.rel);
                if (!ws.rel.empty()) ws.rel += '/';
                ws.rel.append(name);
            }
            ScanItem it;
            it.name_off = static_cast<uint32_t>(name.data() - scan.names.data());
            it.name_len = static_cast<uint32_t>(name.size());
            it.type = *type;

            if (*type == EntryType::kDir) {
                DockerIgnore::DirState sub;
                bool walk = true;
                if (ignore_) {
                    sub = ignore_->enter(task.state, ws.rel);
                    bool excluded = ignore_->excluded(sub);
                    walk = !ignore_->subtree_excluded(sub);
                    if (!walk) ++ws.stats.dirs_skipped;
                    if (excluded && !walk) continue;
                    it.excluded = excluded;
                }
                set_meta(it, st);
                if (walk) {
                    it.child = -2 - static_cast<int32_t>(subdirs.size());
                    Task t;
                    t.parent = dir;
                    t.rel = ws.rel;
                    t.name_pos = t.rel.size() - name.size();
                    t.state = std::move(sub);
                    subdirs.push_back(std::move(t));
                }
            } else {
                if (ignore_ && ignore_->excluded(task.state, ws.rel)) continue;
                if (*type == EntryType::kFile) {
                    if (!file_content(ws, *dir, cname, st, it.content)) continue;
                    if (cache_) {
                        it.record = static_cast<int32_t>(scan.records.size());
                        scan.records.push_back(StatRecord::of(st, it.content));
                    }
                } else if (*type == EntryType::kSymlink) {
                    std::string target = dir->read_link(cname);
                    it.target_off = static_cast<uint32_t>(scan.targets.size());
                    it.target_len = static_cast<uint32_t>(target.size());
                    scan.targets += target;
                }
                set_meta(it, st);
                if (*type == EntryType::kSocket) {
                    // BuildKit's context transfer (fsutil) sends a Unix
                    // socket as an empty regular file with its mode: so
                    // does this snapshot, and COPY writes one.
                    it.type = EntryType::kFile;
                    it.was_socket = true;
                    it.size = 0;
                    it.rdev = 0;
                    it.content = empty_content();
                }
            }
            scan.items.push_back(it);
        }
    }

    // The content hash of a regular file: from the stat cache when its stat
    // matches a record, else read. `st` becomes the stat of what was read.
    bool file_content(WorkerState& ws, Directory& dir, const char* name, FileStat& st,
                      Hash128& out) {
        if (cache_) {
            if (const StatRecord* r = cache_->find(st, ws.cursor)) {
                out = r->hash;
                ++ws.stats.cache_hits;
                return true;
            }
        }
        HashSink sink(ws.xxh.get());
        FileStat opened;
        if (!dir.read_file(name, opened, sink)) return false;
        st = opened;
        out = sink.digest();
        ++ws.stats.files_hashed;
        ws.stats.bytes_hashed += sink.bytes;
        return true;
    }

    struct Span {
        uint32_t path_off, path_len, target_off, target_len;
    };

    void assemble(ContextSnapshot& snap, const FileStat& root_st) {
        std::vector<Span> spans;
        std::vector<Entry>& entries = snap.entries_;
        std::vector<char>& storage = snap.storage_;
        size_t items = 1, records = 0, bytes = 0;
        for (const auto& sc : scans_) {
            items += sc->items.size();
            records += sc->records.size();
            bytes += sc->names.size() + sc->targets.size();
        }
        entries.reserve(items);
        spans.reserve(items);
        seen_.reserve(records);
        storage.reserve(bytes * 3);  // paths repeat their directory's path: a guess
        Entry root;
        root.type = EntryType::kDir;
        root.mode = root_st.mode & 07777;
        root.uid = root_st.uid;
        root.gid = root_st.gid;
        root.size = root_st.size;
        root.dev = root_st.dev;
        root.ino = root_st.ino;
        root.mtime_ns = root_st.mtime_ns;
        root.nlink = root_st.nlink;
        entries.push_back(root);
        spans.push_back({0, 0, 0, 0});
        std::string prefix;
        emit(0, 0, prefix, entries, spans, storage);
        entries[0].subtree_end = static_cast<uint32_t>(entries.size());

        for (size_t i = 0; i < entries.size(); ++i) {
            entries[i].path =
                std::string_view(storage.data() + spans[i].path_off, spans[i].path_len);
            entries[i].link_target =
                std::string_view(storage.data() + spans[i].target_off, spans[i].target_len);
            if (entries[i].type == EntryType::kFile) ++snap.stats_.files;
        }
        snap.stats_.entries = entries.size();
    }

    void emit(uint32_t scan_index, uint32_t parent, std::string& prefix,
              std::vector<Entry>& entries, std::vector<Span>& spans, std::vector<char>& storage) {
        const DirScan& scan = *scans_[scan_index];
        for (const ScanItem& it : scan.items) {
            size_t prefix_len = prefix.size();
            if (!prefix.empty()) prefix += '/';
            prefix.append(scan.names, it.name_off, it.name_len);

            size_t storage_mark = storage.size();
            Span sp;
            sp.path_off = static_cast<uint32_t>(storage.size());
            sp.path_len = static_cast<uint32_t>(prefix.size());
            storage.insert(storage.end(), prefix.begin(), prefix.end());
            sp.target_off = static_cast<uint32_t>(storage.size());
            sp.target_len = it.target_len;
            storage.insert(storage.end(), scan.targets.begin() + it.target_off,
                           scan.targets.begin() + it.target_off + it.target_len);

            uint32_t index = static_cast<uint32_t>(entries.size());
            Entry e;
            e.type = it.type;
            e.mode = it.mode;
            e.uid = it.uid;
            e.gid = it.gid;
            e.size = it.size;
            e.rdev = it.rdev;
            e.dev = it.dev;
            e.ino = it.ino;
            e.mtime_ns = it.mtime_ns;
            e.ctime_ns = it.ctime_ns;
            e.nlink = it.nlink;
            e.was_socket = it.was_socket;
            e.content = it.content;
            e.parent = parent;
            entries.push_back(e);
            spans.push_back(sp);
            if (it.record >= 0) seen_.push_back(scan.records[static_cast<size_t>(it.record)]);
            if (it.child >= 0)
                emit(static_cast<uint32_t>(it.child), index, prefix, entries, spans, storage);
            if (it.excluded && entries.size() == index + 1u) {
                // Excluded, and no exception re-included anything below it.
                entries.pop_back();
                spans.pop_back();
                storage.resize(storage_mark);
            } else {
                entries[index].subtree_end = static_cast<uint32_t>(entries.size());
            }
            prefix.resize(prefix_len);
        }
    }

    Filesystem& fs_;
    std::string root_;
    StatCache* cache_;
    const DockerIgnore* ignore_ = nullptr;
    unsigned threads_ = 1;
    std::unique_ptr<Directory> root_dir_;

    TaskGroup* group_ = nullptr;  // during run()
    std::mutex mu_;               // guards scans_ (the vector), states_, free_states_
    std::vector<std::unique_ptr<DirScan>> scans_;
    // What each thread accumulates, one per directory scanned at once;
    // merged when the walk ends.
    std::vector<std::unique_ptr<WorkerState>> states_;
    std::vector<WorkerState*> free_states_;
    std::vector<StatRecord> seen_;  // files' stat records in tree order, for the cache
};

ContextSnapshot snapshot_context(Filesystem& fs, const std::string& context_dir,
                                 const SnapshotOptions& options) {
    SnapshotWalker walker(fs, context_dir, options);
    return walker.run();
}

}  // namespace strata::cache
