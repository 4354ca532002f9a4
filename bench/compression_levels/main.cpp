// compression_levels_bench — how fast and how small strata's encoders are at
// each level, on one input held in memory (a layer tar).
//
//   compression_levels_bench FILE [--gzip 1,6,9] [--zstd 1,3,9] [--runs N]
//
// gzip: GzipEncoder, blocks deflated on the shared thread pool (one thread
// per core, STRATA_THREADS); zstd: ZstdEncoder with one libzstd worker per
// core — the encoders `strata save`/`push` use. The input is read into memory
// first, so the numbers are the encoder's alone. One Markdown row per codec
// and level: MB/s (input bytes / best wall time, 1 MB = 10^6 bytes), CPU
// seconds of the best run (all threads), compressed size and ratio.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "base/unique_fd.hpp"
#include "store/gzip_encoder.hpp"
#include "store/zstd_encoder.hpp"

using namespace strata;
using namespace strata::store;

namespace {

double cpu_seconds() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::vector<int> parse_levels(const char* s) {
    std::vector<int> out;
    for (const char* p = s; *p;) {
        out.push_back(std::atoi(p));
        p = std::strchr(p, ',');
        if (!p) break;
        ++p;
    }
    return out;
}

std::string read_all(const char* path) {
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", path);
    std::string data;
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd.get(), buf, sizeof buf);
        if (r < 0) throw system_error("read", path);
        if (r == 0) break;
        data.append(buf, static_cast<size_t>(r));
    }
    return data;
}

struct Result {
    double wall = 1e30, cpu = 0;
    uint64_t out = 0;
};

template <typename Encoder, typename... Args>
Result measure(const std::string& in, int runs, Args... args) {
    Result best;
    for (int i = 0; i < runs; ++i) {
        uint64_t out = 0;
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpu_seconds();
        {
            Encoder enc([&](const void*, size_t n) { out += n; }, args...);
            constexpr size_t kChunk = 1 << 20;  // what the layer writer hands over
            for (size_t off = 0; off < in.size(); off += kChunk)
                enc.write(in.data() + off, std::min(kChunk, in.size() - off));
            enc.finish();
        }
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds() - c0;
        if (wall < best.wall) best = {wall, cpu, out};
    }
    return best;
}

void row(const char* codec, int level, const std::string& in, const Result& r) {
    std::printf("| %s | %d | %.0f | %.2f | %.2f | %.1f | %.3f |\n", codec, level,
                static_cast<double>(in.size()) / 1e6 / r.wall, r.wall, r.cpu,
                static_cast<double>(r.out) / 1e6,
                static_cast<double>(r.out) / static_cast<double>(in.size()));
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: compression_levels_bench FILE [--gzip 1,6,9] [--zstd 1,3,9] "
                     "[--runs N]\n");
        return 2;
    }
    std::vector<int> gzip_levels{1, 6, 9}, zstd_levels{1, 3, 9};
    int runs = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--gzip")) gzip_levels = parse_levels(argv[i + 1]);
        if (!std::strcmp(argv[i], "--zstd")) zstd_levels = parse_levels(argv[i + 1]);
        if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
    }
    try {
        const std::string in = read_all(argv[1]);
        const unsigned threads = ThreadPool::shared().size();
        std::printf("input: %s, %.1f MB; pool threads %u, zstd workers %u, zstd %s\n\n", argv[1],
                    static_cast<double>(in.size()) / 1e6, threads, ZstdEncoder::default_workers(),
                    ZstdEncoder::library_version().c_str());
        std::printf("| codec | level | MB/s | wall s | CPU s | output MB | ratio |\n");
        std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
        for (int level : gzip_levels)
            row("gzip", level, in, measure<GzipEncoder>(in, runs, threads, level));
        for (int level : zstd_levels)
            row("zstd", level, in, measure<ZstdEncoder>(in, runs, level, 0u));
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "compression_levels_bench: %s\n", e.what());
        return 1;
    }
}
