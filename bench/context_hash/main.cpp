// context_hash_bench CONTEXT CACHE_DIR [--runs N] [--threads N]
//
// 1. cold: CACHE_DIR removed, hash_context reads and hashes every file (the
//    files themselves are in the page cache after the first run);
// 2. warm: CACHE_DIR as the cold run left it, nothing changed: load the stat
//    cache, stat every entry, compare, no write. Median and min of N runs.
// The .dockerignore of CONTEXT is applied as strata build would. Times are
// wall-clock milliseconds of hash_context() (load + walk + digests + save).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cache/context_hasher.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace {

double now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// CPU time (user + system) of the whole process, all threads: robust when
// the machine is shared and wall-clock times wander.
double cpu_ms() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

struct Result {
    double median, min;
};

Result summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front()};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s CONTEXT CACHE_DIR [--runs N] [--threads N]\n", argv[0]);
        return 2;
    }
    std::filesystem::path ctx = argv[1], cache_dir = argv[2];
    int runs = 20;
    unsigned threads = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--threads"))
            threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    }
    try {
        using namespace strata;
        frontend::DockerIgnore ig = frontend::load_dockerignore(ctx, ctx / "Dockerfile");
        std::vector<double> cold, warm, cold_cpu, warm_cpu;
        cache::SnapshotStats cold_stats, warm_stats;
        std::string digest;
        for (int i = 0; i < std::min(runs, 5); ++i) {
            std::filesystem::remove_all(cache_dir);
            double t0 = now_ms(), c0 = cpu_ms();
            cache::ContextSnapshot s = cache::hash_context(ctx, ig, cache_dir, threads);
            cold.push_back(now_ms() - t0);
            cold_cpu.push_back(cpu_ms() - c0);
            cold_stats = s.stats();
            digest = s.root().digest.hex();
        }
        for (int i = 0; i < runs; ++i) {
            double t0 = now_ms(), c0 = cpu_ms();
            cache::ContextSnapshot s = cache::hash_context(ctx, ig, cache_dir, threads);
            warm.push_back(now_ms() - t0);
            warm_cpu.push_back(cpu_ms() - c0);
            warm_stats = s.stats();
            if (s.root().digest.hex() != digest) {
                std::fprintf(stderr,
                             "digest changed between runs: is the context being modified?\n");
                return 1;
            }
        }
        Result c = summarize(cold), w = summarize(warm);
        Result cc = summarize(cold_cpu), wc = summarize(warm_cpu);
        std::printf("entries=%llu files=%llu threads=%u\n",
                    static_cast<unsigned long long>(warm_stats.entries),
                    static_cast<unsigned long long>(warm_stats.files), threads);
        std::printf(
            "cold  (no stat cache): wall median %8.2f ms  min %8.2f ms  cpu median %8.2f ms"
            "  hashed=%llu\n",
            c.median, c.min, cc.median, static_cast<unsigned long long>(cold_stats.files_hashed));
        std::printf(
            "warm  (unchanged):     wall median %8.2f ms  min %8.2f ms  cpu median %8.2f ms"
            "  hashed=%llu hits=%llu\n",
            w.median, w.min, wc.median, static_cast<unsigned long long>(warm_stats.files_hashed),
            static_cast<unsigned long long>(warm_stats.cache_hits));
        std::printf("digest xxh3:%s\n", digest.c_str());
        if (warm_stats.files_hashed != 0)
            std::fprintf(stderr,
                         "note: warm runs rehashed %llu files (racy: modified < 2 s ago?)\n",
                         static_cast<unsigned long long>(warm_stats.files_hashed));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
