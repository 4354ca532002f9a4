#include "store/export_image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "store/threaded_compressor.hpp"

namespace strata::store {

namespace fs = std::filesystem;

namespace {

std::string memo_dir_name(Compression c) {
    switch (c) {
        case Compression::kGzip:
            return fmt::format("gzip-{}", kGzipLevel);
        case Compression::kZstd:
            return fmt::format("zstd-{}", kZstdLevel);
        case Compression::kNone:
            break;
    }
    return "none";
}

// The memo's blob when it names one that is in the store with its size.
std::optional<LayerRecord> read_memo(const ImageStore& store, const LayerRecord& layer,
                                     Compression c) {
    std::ifstream in(export_memo_path(store, layer.diff_id, c));
    std::string digest_text;
    uint64_t size = 0;
    if (!(in >> digest_text >> size)) return std::nullopt;
    auto digest = Digest::try_parse(digest_text);
    if (!digest || !store.content().has(*digest)) return std::nullopt;
    if (store.content().size(*digest) != size) return std::nullopt;
    LayerRecord out = layer;
    out.digest = *digest;
    out.size = size;
    return out;
}

LayerRecord compress_layer(ImageStore& store, const LayerRecord& layer, Compression c) {
    UniqueFd fd = store.content().open(layer.digest);
    auto w = store.content().writer();
    Sha256 diff_id;
    {
        ThreadedCompressor compressor(c, [&w](const void* d, size_t n) { w.write(d, n); });
        Decompressor in(fd.get(), nullptr, "layer " + layer.digest.str());
        for (auto chunk = in.next(); !chunk.empty(); chunk = in.next()) {
            diff_id.update(chunk.data(), chunk.size());
            compressor.write(chunk.data(), chunk.size());
        }
        compressor.finish();
    }
    const Digest got = diff_id.finish();
    if (got != layer.diff_id)
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("layer blob {} in the store does not match its diffID {} "
                                "(got {}); run `strata store check`",
                                layer.digest.str(), layer.diff_id.str(), got.str()));
    LayerRecord out = layer;
    out.size = w.size();
    out.digest = w.commit();
    out.media_type = layer_media_type(c);
    const fs::path memo = export_memo_path(store, layer.diff_id, c);
    fs::create_directories(memo.parent_path());
    write_file_atomic(memo, fmt::format("{} {}\n", out.digest.str(), out.size), 0600);
    return out;
}

}  // namespace

fs::path export_memo_path(const ImageStore& store, const Digest& diff_id, Compression c) {
    return store.root() / "exports" / memo_dir_name(c) / diff_id.hex;
}

LayerRecord export_layer(ImageStore& store, const LayerRecord& layer, const ExportOptions& opts) {
    const auto have = compression_from_media_type(layer.media_type);
    if (have == opts.compression) return layer;
    if (opts.keep_compressed && have && *have != Compression::kNone) return layer;
    if (auto memo = read_memo(store, layer, opts.compression)) return *memo;
    if (opts.on_compress) opts.on_compress(layer);
    return compress_layer(store, layer, opts.compression);
}

ImageRecord export_image(ImageStore& store, const ImageRecord& image, const ExportOptions& opts) {
    Manifest m = store.manifest(image);
    if (m.layers.size() != image.layers.size())
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("image {}: the manifest lists {} layers, the record {}",
                                image.manifest.str(), m.layers.size(), image.layers.size()));
    ImageRecord out = image;
    bool changed = false;
    for (size_t i = 0; i < image.layers.size(); ++i) {
        LayerRecord l = export_layer(store, image.layers[i], opts);
        if (l.digest == image.layers[i].digest) continue;
        changed = true;
        l.media_type = layer_media_type(opts.compression, !m.is_docker());
        m.layers[i].media_type = l.media_type;
        m.layers[i].digest = l.digest;
        m.layers[i].size = static_cast<int64_t>(l.size);
        out.layers[i] = std::move(l);
    }
    if (!changed) return image;
    const std::string text = m.canonical();
    out.manifest = store.content().put(text);
    out.manifest_size = text.size();
    return out;
}

namespace {

// Calls f(memo path, the blob it names or nullopt) for every memo.
template <typename F>
void for_each_memo(const ImageStore& store, F&& f) {
    std::error_code ec;
    for (auto dir = fs::directory_iterator(store.root() / "exports", ec);
         !ec && dir != fs::directory_iterator(); dir.increment(ec)) {
        std::error_code ec2;
        for (auto it = fs::directory_iterator(dir->path(), ec2);
             !ec2 && it != fs::directory_iterator(); it.increment(ec2)) {
            std::ifstream in(it->path());
            std::string digest_text;
            f(it->path(), (in >> digest_text) ? Digest::try_parse(digest_text) : std::nullopt);
        }
    }
}

}  // namespace

std::set<Digest> export_memo_blobs(const ImageStore& store) {
    std::set<Digest> out;
    for_each_memo(store, [&](const fs::path&, const std::optional<Digest>& d) {
        if (d) out.insert(*d);
    });
    return out;
}

size_t remove_stale_export_memos(ImageStore& store) {
    size_t removed = 0;
    for_each_memo(store, [&](const fs::path& memo, const std::optional<Digest>& d) {
        if (d && store.content().has(*d)) return;
        std::error_code ec;
        if (fs::remove(memo, ec)) ++removed;
    });
    return removed;
}

}  // namespace strata::store
