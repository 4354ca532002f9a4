// ImageStore::measure: the unpacked sizes of pulled layers, found (and their
// diffIDs checked) the first time something shows them.
#include <fmt/format.h>

#include <map>
#include <utility>

#include "base/error.hpp"
#include "store/image_store.hpp"
#include "store/image_store_scan.hpp"

namespace strata::store {

ImageRecord ImageStore::measure(const ImageRecord& image) {
    ImageRecord out = image;
    // blob digest → (diffID it was checked against, unpacked size)
    std::map<Digest, std::pair<Digest, uint64_t>> found;
    for (auto& l : out.layers) {
        if (l.unpacked_size) continue;
        auto it = found.find(l.digest);
        if (it == found.end()) {
            const std::string what =
                fmt::format("image {}: layer {}", short_id(image.id()), l.digest.str());
            const LayerScan scan = scan_layer_blob(content(), l.digest, what);
            if (scan.diff_id != l.diff_id)
                throw Error(ErrorKind::kCorrupt,
                            fmt::format("{} has diffID {}, but the image's config says {}: remove "
                                        "the image and pull it again",
                                        what, scan.diff_id.str(), l.diff_id.str()));
            it = found.emplace(l.digest, std::pair{l.diff_id, scan.unpacked_size}).first;
        }
        l.unpacked_size = it->second.second;
    }
    if (found.empty()) return out;
    // A memo: every record that holds a measured layer gets its size. When the
    // store cannot be written now, the next command measures again.
    try {
        auto txn = begin();
        for (ImageRecord rec : txn.images()) {
            bool changed = false;
            for (auto& l : rec.layers) {
                auto it = found.find(l.digest);
                if (l.unpacked_size || it == found.end() || it->second.first != l.diff_id) continue;
                l.unpacked_size = it->second.second;
                changed = true;
            }
            if (changed) txn.put_image(rec);
        }
        txn.commit();
    } catch (const Error&) {
    }
    return out;
}

}  // namespace strata::store
