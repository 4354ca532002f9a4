#include "cache/cache_index.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/digest.hpp"
#include "store/image_store_io.hpp"

namespace strata::cache {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kEntryVersion = 1;

void make_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw system_error("create directory", dir.string(), ec.value());
}

// The hex part of "sha256:<hex>"; anything else is hashed, so that a key
// can never name a path outside the directory.
std::string file_name_for(std::string_view key) {
    if (auto d = store::Digest::try_parse(key)) return d->hex;
    return store::sha256_of(key).hex;
}

}  // namespace

CacheIndex::CacheIndex(fs::path cache_dir) : dir_(std::move(cache_dir)) {
    make_dir(dir_ / "steps");
    make_dir(dir_ / "memo");
}

fs::path CacheIndex::entry_path(std::string_view key) const {
    return dir_ / "steps" / file_name_for(key);
}

std::string CacheIndex::to_json(const CacheEntry& e) {
    json j{{"version", kEntryVersion},
           {"key", e.key},
           {"created", e.created},
           {"description", e.description},
           {"layer", nullptr}};
    if (e.layer) j["layer"] = store::layer_record_to_json(*e.layer);
    return store::canonical_json(j);
}

CacheEntry CacheIndex::from_json(std::string_view text, std::string_view what) {
    try {
        json j = store::parse_json(text, what);
        if (!j.is_object() || j.value("version", 0) != kEntryVersion)
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: not a cache entry (version {})", what, kEntryVersion));
        CacheEntry e;
        e.key = j.at("key").get<std::string>();
        e.created = j.at("created").get<std::string>();
        e.description = j.value("description", std::string());
        const json& layer = j.at("layer");
        if (!layer.is_null()) e.layer = store::layer_record_from_json(layer);
        return e;
    } catch (const json::exception& ex) {
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: bad cache entry: {}", what, ex.what()));
    } catch (const Error& ex) {
        if (ex.kind() == ErrorKind::kCorrupt) throw;
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: bad cache entry: {}", what, ex.what()));
    }
}

std::optional<CacheEntry> CacheIndex::get(std::string_view key) const {
    const fs::path p = entry_path(key);
    std::optional<std::string> text;
    try {
        text = store::read_file_if_exists(p);
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!text) return std::nullopt;
    try {
        CacheEntry e = from_json(*text, p.string());
        if (e.key != key) return std::nullopt;  // a hash collision of a non-digest key
        // Its last use; best effort (a store another user owns may refuse).
        ::utimensat(AT_FDCWD, p.c_str(), nullptr, 0);
        return e;
    } catch (const Error&) {
        return std::nullopt;
    }
}

// Entries are hints and written without fsyncs (two per RUN step were the
// largest part of a step's wall time on a busy disk): the blob an entry
// names is already durable, and an entry a crash lost or cut short is a miss
// (get() reads anything malformed as none), so the step is built again.
void CacheIndex::put(const CacheEntry& entry) {
    write_file_atomic_unsynced(entry_path(entry.key), to_json(entry));
    bump_generation();
}

void CacheIndex::remove(std::string_view key) {
    std::error_code ec;
    fs::remove(entry_path(key), ec);
    if (ec) throw system_error("remove", entry_path(key).string(), ec.value());
    bump_generation();
}

uint64_t CacheIndex::generation() const {
    struct stat st {};
    if (::stat((dir_ / "generation").c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.st_size);
}

// An O_APPEND write of one byte is atomic between processes, so concurrent
// builds each add theirs. Not fsynced: after a crash the generation may be
// lower than the entries it counted, and a summary from before then may
// still be taken — it names an image that build made from the same inputs.
void CacheIndex::bump_generation() {
    own_changes_->fetch_add(1);
    const fs::path p = dir_ / "generation";
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw system_error("open", p.string());
    const char one = '.';
    write_all(fd.get(), &one, 1, p.string());
}

std::vector<CacheEntry> CacheIndex::list(std::vector<std::string>* unreadable) const {
    std::vector<CacheEntry> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_ / "steps", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with(".")) continue;  // AtomicFile temp files
        try {
            out.push_back(from_json(store::read_whole_file(it->path()),
                                    "cache entry " + it->path().string()));
        } catch (const Error&) {
            if (unreadable) unreadable->push_back(name);
        }
    }
    if (ec) throw system_error("list", (dir_ / "steps").string(), ec.value());
    std::sort(out.begin(), out.end(),
              [](const CacheEntry& a, const CacheEntry& b) { return a.key < b.key; });
    return out;
}

bool CacheIndex::usable(const CacheEntry& entry, const store::ContentStore& blobs) {
    return !entry.layer || blobs.has(entry.layer->digest);
}

namespace {

// Memos are written unsynced, so after a crash one may be empty, cut short
// or hold zeros instead of its bytes: each file is its value, a newline and
// the first 16 hex digits of the value's sha256, and a file that does not
// check out is a miss. (An old memo is as good as a new one: the value is a
// function of the input its name is the hash of.)
std::string memo_file_text(std::string_view value) {
    return std::string(value) + "\n" + store::sha256_of(value).hex.substr(0, 16) + "\n";
}

std::optional<std::string> memo_from_file_text(std::string_view text) {
    if (text.empty() || text.back() != '\n') return std::nullopt;
    text.remove_suffix(1);
    const size_t nl = text.rfind('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    const std::string_view value = text.substr(0, nl);
    if (text.substr(nl + 1) != store::sha256_of(value).hex.substr(0, 16)) return std::nullopt;
    return std::string(value);
}

}  // namespace

std::optional<std::string> CacheIndex::memo(std::string_view input) const {
    const std::string hex = store::sha256_of(input).hex;
    std::optional<std::string> value;
    try {
        value = store::read_file_if_exists(dir_ / "memo" / hex);
    } catch (const Error&) {
    }
    if (value) value = memo_from_file_text(*value);
    std::lock_guard lock(memo_log_->mu);
    if (!value) {
        auto it = memo_log_->imported.find(hex);
        if (it != memo_log_->imported.end()) value = it->second;
    }
    if (value) memo_log_->used[hex] = *value;
    return value;
}

void CacheIndex::put_memo(std::string_view input, std::string_view value) {
    const std::string hex = store::sha256_of(input).hex;
    write_file_atomic_unsynced(dir_ / "memo" / hex, memo_file_text(value));
    std::lock_guard lock(memo_log_->mu);
    memo_log_->used[hex] = std::string(value);
}

std::map<std::string, std::string> CacheIndex::memos_used() const {
    std::lock_guard lock(memo_log_->mu);
    return memo_log_->used;
}

void CacheIndex::import_memos(const std::map<std::string, std::string>& by_input_hex) {
    std::lock_guard lock(memo_log_->mu);
    for (const auto& [k, v] : by_input_hex)
        memo_log_->imported.emplace(k, v);
}

}  // namespace strata::cache
