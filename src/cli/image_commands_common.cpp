#include "cli/image_commands_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "base/error.hpp"
#include "base/go/utf8.hpp"
#include "cache/cache_index.hpp"
#include "cache/cache_prune.hpp"
#include "containers/container_record.hpp"
#include "executor/run/cache_mount_dirs.hpp"
#include "sandbox/user_namespace.hpp"
#include "store/store_root.hpp"

namespace strata::cli {

std::unique_ptr<store::ImageStore> open_store(const GlobalOptions& global) {
    // Rootless (src/cli/rootless.hpp): opaque directories of unpacked layers
    // marked as overlay with `userxattr` reads them.
    store::LayerStoreOptions layers;
    layers.user_xattr_overlay = sandbox::in_user_namespace();
    auto store =
        std::make_unique<store::ImageStore>(store::resolve_store_root(global.root), layers);
    if (!store->root_warning().empty()) std::fprintf(stderr, "%s\n", store->root_warning().c_str());
    return store;
}

namespace {

// The cache index and the cache mounts live as long as their participant.
class BuildCacheParticipant final : public store::GcParticipant {
  public:
    BuildCacheParticipant(store::ImageStore& store, std::optional<cache::CachePrunePolicy> policy)
        : index_(store.cache_dir()),
          mounts_(store.cache_dir()),
          inner_(index_, store.content(), policy, {&mounts_}) {}
    std::string name() const override { return inner_.name(); }
    void prune(const store::GcRoots& roots, store::PruneReport& report) override {
        inner_.prune(roots, report);
    }
    void add_roots(store::GcRoots& roots) const override { inner_.add_roots(roots); }

  private:
    cache::CacheIndex index_;
    executor::CacheMountRecords mounts_;
    cache::CacheGcParticipant inner_;
};

}  // namespace

std::vector<std::unique_ptr<store::GcParticipant>> make_gc_participants(
    store::ImageStore& store, std::optional<cache::CachePrunePolicy> build_cache) {
    std::vector<std::unique_ptr<store::GcParticipant>> out;
    out.push_back(std::make_unique<BuildCacheParticipant>(store, build_cache));
    return out;
}

store::ImageUsers container_users(const store::ImageStore& store) {
    // Read at the first question, which rmi and prune ask under the store's
    // gc lock: a container made since holds a lease until it is recorded
    // (run_command.cpp), so it is either seen here or finds its image gone.
    using Users = std::map<std::string, std::vector<store::ImageUser>>;
    auto users = std::make_shared<std::optional<Users>>();
    return [users, root = store.root()](const store::ImageRecord& img) {
        if (!*users) {
            users->emplace();
            containers::ContainerStore containers(root);
            for (containers::Container& c : containers.list()) {
                containers.refresh(c);  // a running record whose init is gone is exited
                (**users)[c.spec.image_manifest].push_back(
                    {c.short_id(), c.state.status == containers::Status::kRunning});
            }
        }
        const auto it = (*users)->find(img.manifest.str());
        return it == (*users)->end() ? std::vector<store::ImageUser>{} : it->second;
    };
}

std::vector<store::GcParticipant*> raw_pointers(
    const std::vector<std::unique_ptr<store::GcParticipant>>& participants) {
    std::vector<store::GcParticipant*> out;
    for (const auto& p : participants)
        out.push_back(p.get());
    return out;
}

std::string created_since(const std::string& rfc3339) {
    auto t = store::parse_timestamp(rfc3339);
    if (!t) return "N/A";
    auto now = store::now_timestamp();
    return human_duration(now.seconds - t->seconds) + " ago";
}

std::string created_at(const std::string& rfc3339) {
    auto t = store::parse_timestamp(rfc3339);
    if (!t) return "";
    std::time_t secs = static_cast<std::time_t>(t->seconds);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

namespace {

// Characters in s, counted as Go's utf8.RuneCountInString does: what
// tabwriter and Ellipsis count.
size_t runes(std::string_view s) {
    return go::utf8::rune_count(s);
}

}  // namespace

store::ImageRecord measured(store::ImageStore& store, const store::ImageRecord& image) {
    if (image.measured()) return image;
    try {
        return store.measure(image);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::kCorrupt) throw;
        fmt::print(stderr, "strata: warning: {}\n", e.what());
        return image;
    }
}

std::string ellipsis(std::string_view s, size_t width) {
    if (width == 0) return {};
    if (runes(s) <= width) return std::string(s);
    size_t end = 0;  // after width - 1 characters
    for (size_t n = 0; n + 1 < width; ++n)
        end += go::utf8::decode(s, end).width;
    return std::string(s.substr(0, end)) + "…";
}

std::string Table::render() const {
    constexpr size_t kPadding = 3;

    size_t cols = 0;
    for (const auto& r : rows_)
        cols = std::max(cols, r.size());
    std::vector<size_t> width(cols, 0);
    for (const auto& r : rows_)
        for (size_t c = 0; c + 1 < r.size(); ++c)
            width[c] = std::max(width[c], std::max(runes(r[c]) + kPadding, min_width_));
    std::string out;
    for (const auto& r : rows_) {
        std::string line;
        for (size_t c = 0; c < r.size(); ++c) {
            line += r[c];
            if (c + 1 < r.size()) line.append(width[c] - runes(r[c]), ' ');
        }
        out += line + "\n";
    }
    return out;
}

bool confirm(const std::string& warning) {
    fmt::print("{}\nAre you sure you want to continue? [y/N] ", warning);
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        fmt::print("\n");
        return false;
    }
    return answer == "y" || answer == "Y";
}

void print_error(std::string_view message) {
    fmt::print(stderr, "strata: error: {}\n", message);
}

}  // namespace strata::cli
