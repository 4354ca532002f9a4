// layer_export_bench — exports a directory as a layer and reports throughput.
//
//   layer_export_bench DIR [--compression gzip|zstd|none] [--out FILE | --store ROOT]
//
// --out writes the blob to FILE (like `tar | gzip > FILE`); --store runs the
// real write_layer() into a content store at ROOT (temp file, fsync, rename);
// neither: the bytes are hashed and dropped. Prints one line of JSON with the
// uncompressed tar size, the blob size, the wall time and MB/s (tar bytes per
// second, 1 MB = 10^6 bytes).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/content_store.hpp"
#include "store/layer_writer.hpp"

using namespace strata;
using namespace strata::store;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: layer_export_bench DIR [--compression gzip|zstd|none] [--out FILE | "
                 "--store ROOT]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    std::string dir = argv[1], out, store_root;
    LayerWriteOptions opts;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--compression" && i + 1 < argc) {
            opts.compression = parse_compression(argv[++i]);
        } else if (a == "--out" && i + 1 < argc) {
            out = argv[++i];
        } else if (a == "--store" && i + 1 < argc) {
            store_root = argv[++i];
        } else {
            return usage();
        }
    }
    try {
        auto start = std::chrono::steady_clock::now();
        LayerBlob blob;
        if (!store_root.empty()) {
            ContentStore cs(store_root);
            blob = write_layer(dir, cs, opts);
        } else {
            UniqueFd fd;
            if (!out.empty()) {
                fd.reset(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
                if (!fd) throw system_error("open", out);
            }
            std::string buf;
            buf.reserve(1 << 20);
            blob = write_layer_to(
                dir,
                [&](const void* d, size_t n) {
                    if (!fd) return;
                    buf.append(static_cast<const char*>(d), n);
                    if (buf.size() >= (1 << 20)) {
                        write_all(fd.get(), buf.data(), buf.size(), out);
                        buf.clear();
                    }
                },
                opts);
            if (fd) write_all(fd.get(), buf.data(), buf.size(), out);
        }
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "{\"compression\":\"%s\",\"tar_bytes\":%llu,\"blob_bytes\":%llu,\"seconds\":%.3f,"
            "\"mb_per_s\":%.1f,\"digest\":\"%s\"}\n",
            std::string(compression_name(opts.compression)).c_str(),
            static_cast<unsigned long long>(blob.tar_size),
            static_cast<unsigned long long>(blob.size), secs,
            static_cast<double>(blob.tar_size) / 1e6 / secs, blob.digest.str().c_str());
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "layer_export_bench: %s\n", e.what());
        return 1;
    }
}
