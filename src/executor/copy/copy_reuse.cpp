#include "executor/copy/copy_reuse.hpp"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "base/atomic_file.hpp"
#include "base/build_id.hpp"
#include "base/error.hpp"
#include "store/image_store_io.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

namespace {

// "strata copy-index", version, count, build ID's size; the build ID;
// records; names; XXH3-64 of all before it. Host byte order: the file never
// leaves the machine.
constexpr std::string_view kMagic = "strata copy-index\n";
constexpr uint32_t kVersion = 2;
constexpr uint32_t kHasHeader = 1;

struct RawRecord {
    uint64_t offset;
    cache::StatRecord source;
    uint32_t name_size;
    uint32_t flags;  // kHasHeader: the header fields below are set
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t reserved;
    int64_t mtime;
};
static_assert(sizeof(RawRecord) == 104);

template <typename T>
void put(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool get(std::string_view& in, T& v) {
    if (in.size() < sizeof v) return false;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return true;
}

}  // namespace

void CopyReuseIndex::add(std::string_view name, uint64_t offset, const cache::StatRecord& source,
                         const std::optional<store::HeaderInputs>& header) {
    if (names_.size() + name.size() > std::numeric_limits<uint32_t>::max())
        throw Error(ErrorKind::kInternal, "copy index: names too long");
    Record r{offset, source, static_cast<uint32_t>(names_.size()),
             static_cast<uint32_t>(name.size()), header};
    names_.append(name);
    auto less = [this](const Record& a, std::string_view b) { return this->name(a) < b; };
    if (records_.empty() || this->name(records_.back()) < name) {
        records_.push_back(r);  // the usual case: names come in tar order
        return;
    }
    auto it = std::lower_bound(records_.begin(), records_.end(), name, less);
    if (it != records_.end() && this->name(*it) == name)
        *it = r;
    else
        records_.insert(it, r);
}

const CopyReuseIndex::Record* CopyReuseIndex::find(std::string_view name) const {
    auto it =
        std::lower_bound(records_.begin(), records_.end(), name,
                         [this](const Record& a, std::string_view b) { return this->name(a) < b; });
    return it != records_.end() && this->name(*it) == name ? &*it : nullptr;
}

std::string CopyReuseIndex::encode() const {
    std::string out(kMagic);
    put(out, kVersion);
    put(out, static_cast<uint32_t>(records_.size()));
    put(out, static_cast<uint32_t>(build_id_.size()));
    out += build_id_;
    out.reserve(out.size() + records_.size() * sizeof(RawRecord) + names_.size() + 8);
    std::string names;
    names.reserve(names_.size());
    for (const Record& r : records_) {
        RawRecord raw{r.offset, r.source, r.name_size, 0, 0, 0, 0, 0, 0};
        if (r.header) {
            raw.flags = kHasHeader;
            raw.mode = r.header->mode;
            raw.uid = r.header->uid;
            raw.gid = r.header->gid;
            raw.mtime = r.header->mtime;
        }
        put(out, raw);
        names.append(name(r));
    }
    out += names;
    put(out, static_cast<uint64_t>(XXH3_64bits(out.data(), out.size())));
    return out;
}

std::optional<CopyReuseIndex> CopyReuseIndex::decode(std::string_view bytes) {
    if (bytes.size() < kMagic.size() + 16 || !bytes.starts_with(kMagic)) return std::nullopt;
    const std::string_view body = bytes.substr(0, bytes.size() - 8);
    uint64_t sum = 0;
    std::memcpy(&sum, bytes.data() + body.size(), sizeof sum);
    if (sum != XXH3_64bits(body.data(), body.size())) return std::nullopt;
    std::string_view in = body.substr(kMagic.size());
    uint32_t version = 0, count = 0, id_size = 0;
    if (!get(in, version) || version != kVersion || !get(in, count) || !get(in, id_size) ||
        id_size > in.size())
        return std::nullopt;
    CopyReuseIndex index;
    index.build_id_.assign(in.substr(0, id_size));
    in.remove_prefix(id_size);
    if (count > in.size() / sizeof(RawRecord)) return std::nullopt;
    index.records_.reserve(count);
    uint64_t name_at = 0;
    for (uint32_t i = 0; i < count; ++i) {
        RawRecord raw{};
        if (!get(in, raw) || (raw.flags & ~kHasHeader) != 0) return std::nullopt;
        Record r{raw.offset, raw.source, static_cast<uint32_t>(name_at), raw.name_size,
                 std::nullopt};
        if (raw.flags & kHasHeader)
            r.header = store::HeaderInputs{raw.mode, raw.uid, raw.gid, raw.mtime};
        index.records_.push_back(r);
        name_at += raw.name_size;
    }
    if (name_at != in.size()) return std::nullopt;
    index.names_.assign(in);
    // Sorted and unique, as encode() writes them: find() relies on it.
    for (size_t i = 1; i < index.records_.size(); ++i)
        if (!(index.name(index.records_[i - 1]) < index.name(index.records_[i])))
            return std::nullopt;
    return index;
}

std::optional<CopyReuseIndex> CopyReuseIndex::load(const fs::path& dir,
                                                   const store::Digest& diff_id) {
    try {
        if (auto bytes = store::read_file_if_exists(dir / diff_id.hex)) return decode(*bytes);
    } catch (const Error&) {
        // Unreadable: no index.
    }
    return std::nullopt;
}

void CopyReuseIndex::save(const fs::path& dir, const store::Digest& diff_id) const {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw system_error("create", dir.string());
    write_file_atomic_unsynced(dir / diff_id.hex, encode());
}

cache::StatRecord reuse_identity(uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns,
                                 int64_t ctime_ns, uint32_t st_mode,
                                 const cache::Hash128& content) {
    cache::StatRecord r;
    r.dev = dev;
    r.ino = ino;
    r.size = size;
    r.mtime_ns = mtime_ns;
    r.ctime_ns = ctime_ns;
    r.mode = st_mode;
    r.hash = content;
    return r;
}

size_t use_stored_bytes(std::vector<store::LayerFile>& files,
                        const std::vector<std::optional<cache::StatRecord>>& sources,
                        const CopyReuseIndex& index, const std::shared_ptr<const UniqueFd>& blob) {
    size_t used = 0;
    // Headers only from the binary that wrote them (libarchive's, this code's).
    const bool same_writer = !binary_build_id().empty() && index.build_id() == binary_build_id();
    for (size_t i = 0; i < files.size() && i < sources.size(); ++i) {
        if (!sources[i]) continue;
        const auto* r = index.find(files[i].name);
        // Every field, the reserved one included: both sides come from reuse_identity.
        if (!r || std::memcmp(&r->source, &*sources[i], sizeof r->source) != 0) continue;
        files[i].stored =
            store::StoredBytes{blob, r->offset, same_writer ? r->header : std::nullopt};
        ++used;
    }
    return used;
}

CopyReuseIndex index_of_written(const std::vector<store::LayerFile>& files,
                                const std::vector<std::optional<cache::StatRecord>>& sources,
                                const std::vector<store::WrittenFile>& written,
                                int64_t snapshot_start_ns) {
    CopyReuseIndex index;
    index.set_build_id(binary_build_id());
    for (size_t i = 0; i < files.size() && i < sources.size() && i < written.size(); ++i) {
        const auto& s = sources[i];
        if (!s || written[i].xattrs ||
            cache::is_racy(s->mtime_ns, s->ctime_ns, snapshot_start_ns,
                           cache::StatCache::kRacyMarginNs))
            continue;
        std::optional<store::HeaderInputs> header;
        if (written[i].header_size == 512) header = written[i].header;
        index.add(files[i].name, written[i].offset, *s, header);
    }
    return index;
}

}  // namespace strata::executor
