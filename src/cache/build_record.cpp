#include "cache/build_record.hpp"

#include <xxhash.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <system_error>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/canonical_json.hpp"
#include "store/digest.hpp"
#include "store/image_store_io.hpp"

namespace strata::cache {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr int kRecordVersion = 1;

// The listing's first line: the context digest and a checksum of the lines
// after it.
std::string listing_head(const std::string& context_digest, std::string_view body) {
    char sum[17];
    std::snprintf(sum, sizeof sum, "%016" PRIx64,
                  static_cast<uint64_t>(XXH3_64bits(body.data(), body.size())));
    return context_digest + " " + sum;
}
}  // namespace

BuildRecords::BuildRecords(fs::path cache_dir) : dir_(std::move(cache_dir) / "builds") {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw system_error("create directory", dir_.string(), ec.value());
}

std::string BuildRecords::id_for(std::string_view what) {
    return store::sha256_of(what).hex.substr(0, 32);
}

std::optional<BuildRecord> BuildRecords::load(const std::string& id) const {
    try {
        auto text = store::read_file_if_exists(dir_ / (id + ".json"));
        if (!text) return std::nullopt;
        json j = store::parse_json(*text, "build record");
        if (j.value("version", 0) != kRecordVersion) return std::nullopt;
        BuildRecord r;
        for (const auto& [k, v] : j.at("bases").items()) {
            r.base_keys[std::stoul(k)] = v.at("key").get<std::string>();
            r.base_refs[std::stoul(k)] = v.at("ref").get<std::string>();
        }
        for (const auto& s : j.at("steps")) {
            StepRecord sr;
            sr.stage = s.at("stage").get<size_t>();
            sr.step = s.at("step").get<size_t>();
            sr.name = s.at("name").get<std::string>();
            sr.instruction = s.at("instruction").get<std::string>();
            sr.key = s.at("key").get<std::string>();
            sr.parent_key = s.at("parent").get<std::string>();
            for (const auto& f : s.at("fields"))
                sr.fields.emplace_back(f.at(0).get<std::string>(), f.at(1).get<std::string>());
            r.steps.push_back(std::move(sr));
        }
        return r;
    } catch (const std::exception&) {
        return std::nullopt;  // an unreadable record only means "nothing to compare with"
    }
}

void BuildRecords::save(const std::string& id, const BuildRecord& r) {
    json bases = json::object();
    for (const auto& [stage, key] : r.base_keys) {
        auto ref = r.base_refs.find(stage);
        bases[std::to_string(stage)] = {{"key", key},
                                        {"ref", ref == r.base_refs.end() ? "" : ref->second}};
    }
    json steps = json::array();
    for (const auto& s : r.steps) {
        json fields = json::array();
        for (const auto& [k, v] : s.fields)
            fields.push_back(json::array({k, v}));
        steps.push_back({{"stage", s.stage},
                         {"step", s.step},
                         {"name", s.name},
                         {"instruction", s.instruction},
                         {"key", s.key},
                         {"parent", s.parent_key},
                         {"fields", std::move(fields)}});
    }
    json j{{"version", kRecordVersion}, {"bases", std::move(bases)}, {"steps", std::move(steps)}};
    const std::string text = j.dump(1, ' ', false, json::error_handler_t::replace);
    const fs::path file = dir_ / (id + ".json");
    try {
        if (store::read_file_if_exists(file) == text) return;
    } catch (const Error&) {
        // unreadable: replaced below
    }
    write_file_atomic_unsynced(file, text);
}

std::optional<FileListing> BuildRecords::load_files(const std::string& id) const {
    std::optional<std::string> text;
    try {
        text = store::read_file_if_exists(dir_ / (id + ".files"));
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!text) return std::nullopt;
    const size_t first_nl = text->find('\n');
    if (first_nl == std::string::npos) return std::nullopt;
    const std::string_view head(text->data(), first_nl);
    const std::string_view body = std::string_view(*text).substr(first_nl + 1);
    const size_t sp = head.find(' ');
    if (sp == std::string_view::npos || listing_head(std::string(head.substr(0, sp)), body) != head)
        return std::nullopt;  // cut short or garbled by a crash, or an older format
    FileListing out;
    size_t pos = first_nl + 1;
    while (pos < text->size()) {
        size_t nl = text->find('\n', pos);
        if (nl == std::string::npos) nl = text->size();
        std::string_view line(text->data() + pos, nl - pos);
        const size_t sp = line.find(' ');
        if (sp != std::string_view::npos)
            out.emplace(std::string(line.substr(sp + 1)), std::string(line.substr(0, sp)));
        pos = nl + 1;
    }
    return out;
}

void BuildRecords::save_files(const std::string& id, const std::string& context_digest,
                              const FileListing& files) {
    const fs::path file = dir_ / (id + ".files");
    {
        // The same context: its listing is there (or, after a crash, one
        // load_files() refuses, and the next context writes it again).
        UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        char buf[160];
        const ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
        if (n > 0) {
            const std::string_view h(buf, static_cast<size_t>(n));
            if (h.starts_with(context_digest + " ")) return;
        }
    }
    std::string body;
    for (const auto& [path, digest] : files) {
        if (path.find('\n') != std::string::npos) continue;  // not representable; rare
        body += digest;
        body += ' ';
        body += path;
        body += '\n';
    }
    write_file_atomic_unsynced(file, listing_head(context_digest, body) + "\n" + body);
}

}  // namespace strata::cache
