#include "store/store_check.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "base/error.hpp"
#include "store/export_image.hpp"
#include "store/image_store_scan.hpp"
#include "store/layer_copy.hpp"

namespace strata::store {

namespace fs = std::filesystem;

namespace {

class Checker {
  public:
    Checker(ImageStore& store, const CheckOptions& opts, CheckReport& report)
        : store_(store), opts_(opts), report_(report) {}

    void run() {
        // Names first: anything they point at was published before them and
        // cannot be removed while we hold the lease.
        NameIndex names;
        try {
            names = store_.names();
        } catch (const Error& e) {
            problem(e.what());
        }
        auto images = store_.images(&report_.problems);
        report_.images = images.size();
        report_.names = names.size();

        for (const auto& d : store_.content().list()) {
            ++report_.blobs;
            bool ok = store_.content().verify(d);
            blob_ok_[d] = ok;
            if (!ok) problem(fmt::format("blob {}: content does not match its digest", d.str()));
        }
        std::set<Digest> used_blobs, used_layers;
        for (const auto& img : images) {
            check_image(img);
            for (const auto& d : img.blobs())
                used_blobs.insert(d);
            for (const auto& l : img.layers)
                used_layers.insert(l.diff_id);
        }
        for (const auto& [name, entry] : names.all()) {
            bool found = false;
            for (const auto& img : images)
                found |= img.manifest == entry.manifest;
            if (!found)
                problem(fmt::format("name {} points at {}, which has no image record",
                                    name.familiar(), entry.manifest.str()));
        }
        size_t unused = 0, copies = 0;
        uint64_t unused_bytes = 0, copy_bytes = 0;
        const std::set<Digest> memo_blobs = export_memo_blobs(store_);
        for (const auto& [d, ok] : blob_ok_)
            if (!used_blobs.count(d)) {
                const bool copy = memo_blobs.count(d) != 0;
                (copy ? copies : unused) += 1;
                (copy ? copy_bytes : unused_bytes) += store_.content().size(d);
            }
        if (unused)
            note(fmt::format("{} blob(s), {} bytes, not used by any image", unused, unused_bytes));
        if (copies)
            note(fmt::format("{} compressed layer cop{}, {} bytes, kept for the next save or push",
                             copies, copies == 1 ? "y" : "ies", copy_bytes));
        auto layers = store_.layers().list();
        report_.layers = layers.size();
        for (const auto& l : layers) {
            if (!fs::is_directory(store_.layers().path(l)))
                problem(fmt::format("unpacked layer {} is not a directory", l.str()));
            else if (!used_layers.count(l))
                note(fmt::format("unpacked layer {} not used by any image", l.str()));
        }
        check_layer_copies();
        std::error_code ec;
        size_t tmp = 0;
        for (auto it = fs::directory_iterator(store_.tmp_dir(), ec);
             !ec && it != fs::directory_iterator(); it.increment(ec))
            ++tmp;
        if (tmp)
            note(fmt::format("{} entr{} in tmp/ (work in progress, or leftovers prune removes)",
                             tmp, tmp == 1 ? "y" : "ies"));
    }

  private:
    // Copies of unpacked layers for chains that repeat a layer: each a
    // directory beside its layer with the same tree (unless --fast).
    void check_layer_copies() {
        for (const auto& c : store_.layers().list_copies()) {
            ++report_.layer_copies;
            const fs::path p = store_.layers().path(c.diff_id, c.occurrence);
            const std::string what =
                fmt::format("copy {} of unpacked layer {} (layers/{})", c.occurrence,
                            c.diff_id.str(), p.filename().string());
            if (!fs::is_directory(p)) {
                problem(what + " is not a directory");
                continue;
            }
            const fs::path layer = store_.layers().path(c.diff_id);
            if (!fs::is_directory(layer)) {
                note(what + ": the layer is gone (prune removes the copy)");
                continue;
            }
            if (!opts_.verify_layer_contents) continue;
            try {
                if (auto diff = compare_layer_tree(layer, p); !diff.empty())
                    problem(what + " differs from the layer: " + diff +
                            " (remove the copy; the next build that needs it makes it again)");
            } catch (const Error& e) {
                problem(what + ": " + e.what());
            }
        }
    }

    void problem(std::string msg) { report_.problems.push_back(std::move(msg)); }
    void note(std::string msg) { report_.notes.push_back(std::move(msg)); }

    // Present and intact; otherwise reports a problem about `role`.
    bool blob_present(const Digest& d, const std::string& role) {
        auto it = blob_ok_.find(d);
        if (it == blob_ok_.end()) {
            problem(fmt::format("{}: blob {} is missing", role, d.str()));
            return false;
        }
        return it->second;  // a corrupt blob was reported already
    }

    void check_image(const ImageRecord& img) {
        std::string who =
            fmt::format("image {} (manifest {})", short_id(img.config), img.manifest.str());
        if (!blob_present(img.manifest, who + ": manifest")) return;
        Manifest m;
        ImageConfig config;
        try {
            std::string text = store_.content().read(img.manifest);
            m = Manifest::parse(text, who + ": manifest");
            if (text.size() != img.manifest_size)
                problem(fmt::format("{}: manifest size {} differs from the record's {}", who,
                                    text.size(), img.manifest_size));
        } catch (const Error& e) {
            problem(e.what());
            return;
        }
        if (m.config.digest != img.config)
            problem(fmt::format("{}: manifest names config {}, the record {}", who,
                                m.config.digest.str(), img.config.str()));
        if (!blob_present(m.config.digest, who + ": config")) return;
        try {
            config = ImageConfig::parse(store_.content().read(m.config.digest), who + ": config");
        } catch (const Error& e) {
            problem(e.what());
            return;
        }
        if (m.layers.size() != img.layers.size() || config.diff_ids.size() != img.layers.size()) {
            problem(
                fmt::format("{}: {} layers in the manifest, {} diffIDs in the config, {} in "
                            "the record",
                            who, m.layers.size(), config.diff_ids.size(), img.layers.size()));
            return;
        }
        for (size_t i = 0; i < m.layers.size(); ++i) {
            const auto& rec = img.layers[i];
            std::string layer = fmt::format("{}: layer {} ({})", who, i, m.layers[i].digest.str());
            if (m.layers[i].digest != rec.digest || config.diff_ids[i] != rec.diff_id) {
                problem(layer + ": manifest, config and record disagree");
                continue;
            }
            if (!blob_present(rec.digest, layer)) continue;
            if (store_.content().size(rec.digest) != static_cast<uint64_t>(m.layers[i].size))
                problem(layer + ": blob size differs from the manifest's");
            if (!opts_.verify_layer_contents) continue;
            auto seen = diff_ids_.find(rec.digest);
            if (seen == diff_ids_.end()) {
                try {
                    seen =
                        diff_ids_
                            .emplace(rec.digest,
                                     scan_layer_blob(store_.content(), rec.digest, layer).diff_id)
                            .first;
                } catch (const Error& e) {
                    problem(e.what());
                    continue;
                }
            }
            if (seen->second != rec.diff_id)
                problem(fmt::format("{}: uncompressed content is {}, the config says {}", layer,
                                    seen->second.str(), rec.diff_id.str()));
        }
    }

    ImageStore& store_;
    const CheckOptions& opts_;
    CheckReport& report_;
    std::map<Digest, bool> blob_ok_;
    std::map<Digest, Digest> diff_ids_;  // layer blob → diffID found
};

}  // namespace

CheckReport check_store(ImageStore& store, const CheckOptions& opts) {
    CheckReport report;
    LockFile lease = store.lease();
    Checker(store, opts, report).run();
    return report;
}

}  // namespace strata::store
