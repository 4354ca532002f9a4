// StreamingScan: the scan of bytes fed in pieces equals the scan of the
// whole blob; a stream the scan refuses early never blocks the feeder (the
// rest is drained), and the error names the layer; dropped without finish()
// (a failed download) it stops and joins.
#include "registry/streaming_scan.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/error.hpp"
#include "store/digest.hpp"
#include "store/image_fixture.hpp"

namespace strata::registry {
namespace {

std::string big(size_t n) {
    std::string s(n, '\0');
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s[i] = static_cast<char>((x & 3) ? 'a' + (x >> 8) % 4 : (x >> 16));
    }
    return s;
}

TEST(StreamingScan, PiecesGiveTheWholeBlobsScan) {
    imagetest::TarBuilder plain, gz(true);
    for (auto* t : {&plain, &gz})
        t->dir("d").file("d/a", big(3 << 20)).file("d/b", "bee").symlink("d/l", "a");
    const std::string tar = plain.finish(), tgz = gz.finish();
    for (size_t piece : {size_t{1000}, size_t{16384}, size_t{1} << 20}) {
        StreamingScan s("app: layer x");
        for (size_t at = 0; at < tgz.size(); at += piece)
            s.feed(tgz.data() + at, std::min(piece, tgz.size() - at));
        const store::LayerScan r = s.finish();
        EXPECT_EQ(r.diff_id, store::sha256_of(tar)) << piece;
        EXPECT_EQ(r.unpacked_size, (3u << 20) + 3 + 1) << piece;
    }
}

TEST(StreamingScan, RefusedStreamIsDrainedAndNamesTheLayer) {
    // Far more than the queue holds: feed() must not wait for a scan that
    // gave up at the first bytes.
    const std::string junk = "\x1f\x8b\x08\x00" + big(40 << 20);
    StreamingScan s("app: layer sha256:junk");
    for (size_t at = 0; at < junk.size(); at += 65536)
        s.feed(junk.data() + at, std::min<size_t>(65536, junk.size() - at));
    try {
        s.finish();
        FAIL() << "junk scanned";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
        EXPECT_NE(std::string(e.what()).find("app: layer sha256:junk"), std::string::npos)
            << e.what();
    }
}

TEST(StreamingScan, DroppedWithoutFinishStops) {
    imagetest::TarBuilder gz(true);
    gz.file("a", big(1 << 20));
    const std::string tgz = gz.finish();
    StreamingScan s("app: layer y");
    s.feed(tgz.data(), tgz.size() / 2);
    // The destructor ends the scan that waits for the rest.
}

}  // namespace
}  // namespace strata::registry
