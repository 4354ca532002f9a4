// GzipDecoder: ISA-L's igzip and zlib give the same bytes for the same gzip
// stream (several members, header fields, empty members, any chunking of the
// input and any output room), and the same Error(kCorrupt) text for a
// truncated stream, a bad CRC, broken deflate data and bytes after the last
// member; Decompressor and TarInput read gzip through it.
#include "store/gzip_decoder.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "store/compression.hpp"
#include "store/digest.hpp"
#include "store/tar_input.hpp"

namespace strata::store {
namespace {

using Engine = GzipDecoder::Engine;

// Text-like and random stretches: compressible, but not trivially (dynamic
// Huffman blocks, long matches, stored runs).
std::string sample(size_t n, uint64_t seed) {
    std::string s;
    s.reserve(n);
    uint64_t x = seed * 2654435761u + 88172645463325252ull;
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
            for (int i = 0; i < 700 && s.size() < n; ++i)
                s.push_back(static_cast<char>(next()));
        } else {
            for (int i = 0; i < 64 && s.size() < n; ++i)
                s += words[next() % 10];
        }
    }
    s.resize(n);
    return s;
}

// One gzip member of `in`, written by zlib; `named` adds FNAME, FEXTRA and
// FCOMMENT to the header, as `gzip` and some registries' tools write.
std::string gzip_member(const std::string& in, int level, bool named = false) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    gz_header h{};
    std::string extra = "strata", name = "layer.tar", comment = "a comment";
    if (named) {
        h.extra = reinterpret_cast<Bytef*>(extra.data());
        h.extra_len = static_cast<uInt>(extra.size());
        h.name = reinterpret_cast<Bytef*>(name.data());
        h.comment = reinterpret_cast<Bytef*>(comment.data());
        h.os = 3;
        EXPECT_EQ(deflateSetHeader(&z, &h), Z_OK);
    }
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

struct Decoded {
    std::string bytes;
    std::optional<std::string> error;  // Error(kCorrupt)'s text
};

// Decodes `gz` handing it over `chunk` bytes at a time, into `room` bytes.
Decoded decode(Engine e, const std::string& gz, size_t chunk, size_t room) {
    Decoded d;
    GzipDecoder dec("layer sha256:test", e);
    std::vector<char> out(room);
    try {
        for (size_t at = 0; at < gz.size(); at += chunk) {
            std::string_view in = std::string_view(gz).substr(at, chunk);
            while (size_t n = dec.inflate(in, out.data(), out.size()))
                d.bytes.append(out.data(), n);
            EXPECT_TRUE(in.empty());
        }
        dec.finish();
        EXPECT_EQ(dec.total_in(), gz.size());
        EXPECT_EQ(dec.total_out(), d.bytes.size());
    } catch (const Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::kCorrupt) << err.what();
        d.error = err.what();
    }
    return d;
}

class GzipDecoderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!GzipDecoder::isal_available())
            GTEST_SKIP() << "ISA-L is not available (built without libisal-dev, or no "
                            "libisal.so.2): nothing to compare zlib with";
    }

    // Both engines, several chunkings: the same result every time.
    Decoded both(const std::string& gz) {
        const Decoded ref = decode(Engine::kZlib, gz, gz.size() + 1, 256 << 10);
        for (Engine e : {Engine::kZlib, Engine::kIsal})
            for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}, gz.size() + 1})
                for (size_t room : {size_t{1}, size_t{1000}, size_t{256 << 10}}) {
                    if (chunk == 1 && gz.size() > (64 << 10)) continue;  // slow
                    const Decoded d = decode(e, gz, chunk, room);
                    const std::string label = std::string(GzipDecoder::engine_name(e)) + " chunk " +
                                              std::to_string(chunk) + " room " +
                                              std::to_string(room);
                    EXPECT_EQ(d.error, ref.error) << label;
                    // Before an error each engine may have handed out more
                    // or less of the member: only a complete stream counts.
                    if (!ref.error) {
                        EXPECT_TRUE(d.bytes == ref.bytes)
                            << label << ": " << d.bytes.size() << " bytes vs " << ref.bytes.size();
                    }
                }
        return ref;
    }
};

TEST_F(GzipDecoderTest, MultiMemberStreamGivesTheSameBytes) {
    const std::string a = sample(3 << 20, 1), b = sample(100000, 2), c = sample(777, 3);
    const std::string gz = gzip_member(a, 6) + gzip_member("", 6) + gzip_member(b, 1, true) +
                           gzip_member(c, 9) + gzip_member(a.substr(0, 70000), 0);
    const Decoded d = both(gz);
    ASSERT_FALSE(d.error) << *d.error;
    EXPECT_TRUE(d.bytes == a + b + c + a.substr(0, 70000));
}

TEST_F(GzipDecoderTest, TruncatedStreamGivesTheSameError) {
    const std::string gz = gzip_member(sample(200000, 4), 6) + gzip_member(sample(5000, 5), 6);
    const size_t second = gzip_member(sample(200000, 4), 6).size();
    // In the first header, in the data, in the trailer, in the second header.
    for (size_t cut : {size_t{1}, size_t{3}, size_t{9}, size_t{5000}, second - 5, second - 1,
                       second + 2, second + 11, gz.size() - 1}) {
        const Decoded d = both(gz.substr(0, cut));
        ASSERT_TRUE(d.error) << "cut at " << cut;
        EXPECT_NE(d.error->find("layer sha256:test: cannot decompress: the gzip stream is "
                                "truncated"),
                  std::string::npos)
            << *d.error;
    }
}

TEST_F(GzipDecoderTest, CorruptChecksumGivesTheSameError) {
    std::string gz = gzip_member(sample(50000, 6), 6);
    gz[gz.size() - 6] ^= 0x40;  // a CRC-32 byte
    Decoded d = both(gz);
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->find("fails its CRC-32 or length check"), std::string::npos) << *d.error;

    gz = gzip_member(sample(50000, 6), 6);
    gz[gz.size() - 2] ^= 0x01;  // the length
    d = both(gz);
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->find("fails its CRC-32 or length check"), std::string::npos) << *d.error;
}

TEST_F(GzipDecoderTest, CorruptDeflateDataGivesTheSameError) {
    const std::string good = gzip_member(sample(60000, 7), 6);
    // A reserved block type (binary 11) in the first block's header.
    std::string gz = good;
    gz[10] = static_cast<char>(gz[10] | 0x06);
    Decoded d = both(gz);
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->find("holds invalid deflate data"), std::string::npos) << *d.error;
    // Bytes flipped all over the member: whatever each flip breaks, both
    // engines say the same thing.
    for (size_t at = 11; at < good.size() - 8; at += good.size() / 41) {
        gz = good;
        gz[at] = static_cast<char>(gz[at] ^ 0x5a);
        d = both(gz);
        EXPECT_TRUE(d.error) << "flip at " << at;
    }
}

TEST_F(GzipDecoderTest, BytesAfterTheLastMemberGiveTheSameError) {
    const std::string gz = gzip_member(sample(10000, 8), 6);
    for (const std::string& tail :
         {std::string(512, '\0'), std::string("PK\x03\x04"), std::string("\x1f\x8b\x09\x00", 4),
          std::string("\x1f\x8b\x08\xe0", 4)}) {
        const Decoded d = both(gz + tail);
        ASSERT_TRUE(d.error);
        EXPECT_NE(d.error->find("are not another gzip member"), std::string::npos) << *d.error;
    }
    const Decoded d = both("\x1f\x8b\x07\x00" + gz.substr(4));
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->find("not a gzip header at compressed byte 0"), std::string::npos)
        << *d.error;
}

// Decompressor: detection, chunked sources, the raw tee, and STRATA_GZIP.
TEST(GzipDecompressor, ReadsMultiMemberGzipFromAChunkReader) {
    const std::string a = sample(1 << 20, 9), b = sample(3000, 10);
    const std::string gz = gzip_member(a, 6) + gzip_member(b, 6);
    for (const char* engine : {"zlib", "isa-l"}) {
        if (std::string(engine) == "isa-l" && !GzipDecoder::isal_available()) continue;
        ASSERT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
        size_t at = 0;
        std::string raw, out;
        Decompressor dec(
            [&]() -> std::string_view {
                // Three bytes first: detection must not need them in one piece.
                const size_t n = at == 0 ? 3 : 10007;
                std::string_view c = std::string_view(gz).substr(std::min(at, gz.size()), n);
                at += c.size();
                return c;
            },
            [&](const void* p, size_t n) { raw.append(static_cast<const char*>(p), n); },
            "layer x");
        EXPECT_EQ(dec.detected(), Compression::kGzip);
        for (auto c = dec.next(); !c.empty(); c = dec.next())
            out.append(c);
        EXPECT_TRUE(out == a + b) << engine;
        EXPECT_TRUE(raw == gz) << engine;
    }
    ::unsetenv("STRATA_GZIP");
}

TEST(GzipDecompressor, TruncatedLayerIsRefusedThroughTarInput) {
    // A ustar header for one 100000-byte file, its data, the end marker.
    std::string tar(512, '\0');
    std::snprintf(tar.data(), 100, "%s", "file");
    std::snprintf(tar.data() + 100, 8, "%07o", 0644);
    std::snprintf(tar.data() + 108, 8, "%07o", 0);
    std::snprintf(tar.data() + 116, 8, "%07o", 0);
    std::snprintf(tar.data() + 124, 12, "%011o", 100000);
    std::snprintf(tar.data() + 136, 12, "%011o", 0);
    tar[156] = '0';
    std::memcpy(tar.data() + 257,
                "ustar\0"
                "00",
                8);
    std::memset(tar.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : tar)
        sum += c;
    std::snprintf(tar.data() + 148, 8, "%06o", sum);
    tar += sample(100000, 11);
    tar.resize(tar.size() + (512 - tar.size() % 512) % 512 + 1024, '\0');
    const std::string gz = gzip_member(tar, 6);
    const std::string cut = gz.substr(0, gz.size() / 2);
    size_t at = 0;
    try {
        TarInput in(
            [&]() -> std::string_view {
                std::string_view c = std::string_view(cut).substr(std::min(at, cut.size()), 4096);
                at += c.size();
                return c;
            },
            "layer sha256:cut");
        while (in.next()) {
        }
        in.finish();
        FAIL() << "a truncated gzip layer was read to its end";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("layer sha256:cut"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}

// inflate_member: the member in progress is read to its end (CRC and length
// checked) and what follows it is left unread — garbage or another member.
TEST(GzipDecoderMember, StopsAtTheEndOfTheMemberInProgress) {
    const std::string a = sample(300000, 7), b = sample(1000, 8);
    for (Engine e : {Engine::kZlib, Engine::kIsal}) {
        if (e == Engine::kIsal && !GzipDecoder::isal_available()) continue;
        for (const std::string& tail : {gzip_member(b, 6), std::string("not gzip")}) {
            const std::string gz = gzip_member(a, 6) + tail;
            GzipDecoder dec("layer sha256:member", e);
            std::vector<char> out(4096);
            std::string_view in(gz);
            // A little through `inflate`, as a tar reader would ask for it.
            std::string got(out.data(), dec.inflate(in, out.data(), out.size()));
            EXPECT_TRUE(dec.in_member());
            while (size_t n = dec.inflate_member(in, out.data(), out.size()))
                got.append(out.data(), n);
            EXPECT_FALSE(dec.in_member()) << GzipDecoder::engine_name(e);
            EXPECT_EQ(got, a) << GzipDecoder::engine_name(e);
            EXPECT_EQ(in, tail) << GzipDecoder::engine_name(e);
            EXPECT_EQ(dec.inflate_member(in, out.data(), out.size()), 0u);
            EXPECT_EQ(in, tail);
        }
        // A cut member: inflate_member returns 0 with the member still open,
        // and finish() names the truncation.
        const std::string gz = gzip_member(a, 6);
        GzipDecoder dec("layer sha256:member", e);
        std::vector<char> out(4096);
        std::string_view in = std::string_view(gz).substr(0, gz.size() - 4);
        ASSERT_GT(dec.inflate(in, out.data(), out.size()), 0u);
        while (dec.inflate_member(in, out.data(), out.size()) > 0) {
        }
        EXPECT_TRUE(in.empty());
        EXPECT_TRUE(dec.in_member());
        try {
            dec.finish();
            ADD_FAILURE() << "a cut member finished";
        } catch (const Error& err) {
            EXPECT_NE(std::string(err.what()).find("truncated"), std::string::npos) << err.what();
        }
    }
}

TEST(GzipDecompressor, UnknownStrataGzipIsAUsageError) {
    ASSERT_EQ(::setenv("STRATA_GZIP", "pigz", 1), 0);
    try {
        (void)GzipDecoder::default_engine();
        ADD_FAILURE() << "STRATA_GZIP=pigz accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_NE(std::string(e.what()).find("zlib or isa-l"), std::string::npos);
    }
    ::unsetenv("STRATA_GZIP");
}

}  // namespace
}  // namespace strata::store
