// Gzip streams damaged in each way a reader of layers must refuse, and the
// words its error must hold — the same whichever engine inflates them
// (ISA-L, or zlib with STRATA_GZIP=zlib). For every reader that goes through
// store::TarInput (tests/diff/layer_scan_gzip_test.cpp,
// tests/executor/add_archive_test.cpp).
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/compression.hpp"

namespace strata::testsupport {

// Bytes that do not compress: their gzip is about as long as they are, so a
// cut or a flipped byte lands where a test means it to.
inline std::string incompressible(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen());
    return s;
}

// `data` gzip-compressed by strata's own compressor.
inline std::string gzip_of(std::string_view data) {
    std::string z;
    store::Compressor c(store::Compression::kGzip,
                        [&](const void* d, size_t n) { z.append(static_cast<const char*>(d), n); });
    c.write(data.data(), data.size());
    c.finish();
    return z;
}

struct DamagedGzip {
    const char* name;
    std::string bytes;
    const char* words;
};

// The rows for `tar` (at least 100,000 bytes): cut in half, trailer cut, a
// byte flipped, a bad CRC, and a second member with invalid deflate data.
inline std::vector<DamagedGzip> damaged_gzip_rows(std::string_view tar) {
    const std::string z = gzip_of(tar);
    std::string flipped = z;
    flipped[z.size() / 3] = static_cast<char>(flipped[z.size() / 3] ^ 0x5a);
    std::string bad_crc = z;
    bad_crc[z.size() - 8] = static_cast<char>(bad_crc[z.size() - 8] ^ 0x5a);
    // A second member whose first deflate block has the reserved type 3.
    const std::string bad_deflate =
        gzip_of(tar.substr(0, 100000)) + std::string("\x1f\x8b\x08\0\0\0\0\0\0\xff\xff", 11);
    return {
        {"cut in half", z.substr(0, z.size() / 2), "the gzip stream is truncated"},
        {"trailer cut", z.substr(0, z.size() - 4), "the gzip stream is truncated"},
        {"byte flipped", flipped, "fails its CRC-32 or length check"},
        {"bad CRC", bad_crc, "fails its CRC-32 or length check"},
        {"bad deflate", bad_deflate, "holds invalid deflate data"},
    };
}

}  // namespace strata::testsupport
