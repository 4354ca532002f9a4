// ZstdEncoder: the same bytes with 1 or N libzstd workers and any write()
// chunking (two machines with different core counts push the same digest),
// a frame every zstd reader takes back, with a checksum and without a content
// size; Compressor and ThreadedCompressor write exactly those bytes; and the
// zstd command line, given the same settings, writes them too.
#include "store/zstd_encoder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/compression.hpp"
#include "store/threaded_compressor.hpp"

namespace strata::store {
namespace {

// Text-like and random stretches, like a layer of sources and binaries:
// compressible, but not trivially.
std::string sample(size_t n) {
    std::string s;
    s.reserve(n);
    uint64_t x = 88172645463325252ull;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    static const char* words[] = {"layer ", "digest ", "tar ",  "build ", "cache ",
                                  "step ",  "copy ",   "run\n", "zstd ",  "gzip "};
    while (s.size() < n) {
        if ((next() & 7) == 0) {
            for (int i = 0; i < 512 && s.size() < n; ++i)
                s.push_back(static_cast<char>(next()));
        } else {
            for (int i = 0; i < 64 && s.size() < n; ++i)
                s += words[next() % 10];
        }
    }
    s.resize(n);
    return s;
}

std::string encode(const std::string& in, unsigned workers, size_t chunk, int level = kZstdLevel) {
    std::string out;
    ZstdEncoder enc([&](const void* d, size_t n) { out.append(static_cast<const char*>(d), n); },
                    level, workers);
    for (size_t off = 0; off < in.size(); off += chunk)
        enc.write(in.data() + off, std::min(chunk, in.size() - off));
    enc.finish();
    return out;
}

std::string unzstd(const std::string& z) {
    std::string out;
    ZSTD_DCtx* d = ZSTD_createDCtx();
    std::string buf(ZSTD_DStreamOutSize(), '\0');
    ZSTD_inBuffer in{z.data(), z.size(), 0};
    size_t r = 1;
    while (in.pos < in.size) {
        ZSTD_outBuffer o{buf.data(), buf.size(), 0};
        r = ZSTD_decompressStream(d, &o, &in);
        if (ZSTD_isError(r)) break;
        out.append(buf.data(), o.pos);
    }
    ZSTD_freeDCtx(d);
    EXPECT_FALSE(ZSTD_isError(r)) << ZSTD_getErrorName(r);
    EXPECT_EQ(r, 0u) << "frame not complete";
    return out;
}

TEST(ZstdEncoder, SameBytesWithOneOrManyWorkersAndAnyChunks) {
    // Three and a half jobs: the work really is split between the workers.
    const std::string big = sample(3 * ZstdEncoder::kJobSize + ZstdEncoder::kJobSize / 2 + 13);
    for (const std::string& input : {std::string(), std::string("x"), sample(100000), big}) {
        const std::string reference = encode(input, 1, 1 << 20);
        for (unsigned workers : {2u, 3u, 8u})
            EXPECT_EQ(encode(input, workers, 1 << 20), reference)
                << input.size() << " bytes, " << workers << " workers";
        EXPECT_EQ(encode(input, 4, 4097), reference) << input.size() << " bytes, small writes";
        EXPECT_EQ(unzstd(reference), input) << input.size() << " bytes";
        EXPECT_EQ(detect_compression(reference.data(), reference.size()), Compression::kZstd);
    }
}

TEST(ZstdEncoder, SingleThreadedLibzstdWouldWriteOtherBytes) {
    // Why there is always at least one worker: nbWorkers = 0 (what a
    // one-core machine would pick) writes another, equally valid, stream.
    const std::string input = sample(2 * ZstdEncoder::kJobSize + 5);
    std::string single(ZSTD_compressBound(input.size()), '\0');
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, kZstdLevel);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
    const size_t n = ZSTD_compress2(c, single.data(), single.size(), input.data(), input.size());
    ZSTD_freeCCtx(c);
    ASSERT_FALSE(ZSTD_isError(n));
    single.resize(n);
    EXPECT_NE(single, encode(input, 1, 1 << 20));
}

TEST(ZstdEncoder, FrameHasAChecksumAndNoContentSize) {
    const std::string z = encode(sample(300000), 2, 65536);
    ASSERT_GT(z.size(), 5u);
    // The frame header descriptor (RFC 8878 3.1.1.1.1): bit 2 the content
    // checksum flag, bits 0-1 the dictionary ID size.
    const auto descriptor = static_cast<unsigned char>(z[4]);
    EXPECT_EQ(descriptor & 0x04, 0x04) << "content checksum flag";
    EXPECT_EQ(descriptor & 0x03, 0) << "no dictionary ID";
    EXPECT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    // A flipped bit in the content is caught by the checksum.
    std::string bad = z;
    bad[bad.size() - 2] ^= 1;
    ZSTD_DCtx* d = ZSTD_createDCtx();
    std::string out(400000, '\0');
    const size_t r = ZSTD_decompressDCtx(d, out.data(), out.size(), bad.data(), bad.size());
    ZSTD_freeDCtx(d);
    EXPECT_TRUE(ZSTD_isError(r));
}

TEST(ZstdEncoder, CompressorsWriteTheSameBytes) {
    const std::string input = sample(ZstdEncoder::kJobSize + 4321);
    const std::string reference = encode(input, 1, 1 << 20);
    std::string plain, threaded;
    {
        Compressor c(Compression::kZstd, [&](const void* d, size_t n) {
            plain.append(static_cast<const char*>(d), n);
        });
        c.write(input.data(), input.size());
        c.finish();
    }
    {
        ThreadedCompressor c(Compression::kZstd, [&](const void* d, size_t n) {
            threaded.append(static_cast<const char*>(d), n);
        });
        for (size_t off = 0; off < input.size(); off += 10240)
            c.write(input.data() + off, std::min<size_t>(10240, input.size() - off));
        c.finish();
    }
    EXPECT_EQ(plain, reference);
    EXPECT_EQ(threaded, reference);
}

TEST(ZstdEncoder, TheZstdCommandLineWritesTheSameBytes) {
    // `zstd -T2 -B8M` from a pipe (no size known): libzstd's streaming
    // multithreaded mode with the same job size, checksum on, no content size.
    if (std::system("command -v zstd >/dev/null 2>&1") != 0) GTEST_SKIP() << "no zstd command";
    const std::string input = sample(2 * ZstdEncoder::kJobSize + 77);
    char in_path[] = "/tmp/strata-zstd-test-XXXXXX";
    const int fd = ::mkstemp(in_path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::close(fd);
    const std::string cmd = "cat " + std::string(in_path) + " | zstd -q -c -" +
                            std::to_string(kZstdLevel) + " -T2 -B" +
                            std::to_string(ZstdEncoder::kJobSize) + " --no-content-size";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string cli;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        cli.append(buf, n);
    EXPECT_EQ(::pclose(p), 0);
    ::unlink(in_path);
    EXPECT_EQ(cli, encode(input, 3, 1 << 20)) << cmd;
}

}  // namespace
}  // namespace strata::store
