// Lazy unpacking: a layer may exist only as a blob (a COPY writes its tar
// straight from the sources), and layers/<diffID>/ is made the first time it
// is needed — once, also when several want it at the same moment.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/content_store.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_store.hpp"
#include "store/layer_writer.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

// A layer big enough that two unpacks overlap, and that a duplicate is set
// aside in the trash (over 1,024 inodes) where it can be counted.
LayerBlob many_files_layer(const fs::path& src, ContentStore& cs) {
    for (int d = 0; d < 10; ++d)
        for (int f = 0; f < 200; ++f)
            write_file(src / ("d" + std::to_string(d)) / ("f" + std::to_string(f)),
                       "content " + std::to_string(d * 1000 + f));
    return write_layer(src, cs, {});
}

TEST(LayerUnpackOnce, TwoThreadsAtOnceUnpackOnce) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const auto blob = many_files_layer(work.path() / "src", cs);
    // Two LayerStores, as two stages or two processes have: nothing shared
    // in memory, only the files.
    LayerStore a(work.path() / "store", cs), b(work.path() / "store", cs);
    ASSERT_FALSE(a.has(blob.diff_id));
    fs::path pa, pb;
    std::thread ta([&] { pa = a.ensure_unpacked(blob.digest, blob.diff_id); });
    std::thread tb([&] { pb = b.ensure_chain({{blob.digest, blob.diff_id}}).at(0); });
    ta.join();
    tb.join();
    EXPECT_EQ(pa, pb);
    EXPECT_TRUE(fs::is_directory(pa / "d9"));
    EXPECT_EQ(a.trash_count(), 0u) << "a second unpack was made and set aside";
    EXPECT_FALSE(fs::exists(work.path() / "store" / "layers" / (blob.diff_id.hex + ".lock")));
    EXPECT_EQ(a.list(), std::vector<Digest>{blob.diff_id});
}

TEST(LayerUnpackOnce, AfterAFailureTheNextOneUnpacks) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const auto blob = many_files_layer(work.path() / "src", cs);
    LayerStore layers(work.path() / "store", cs);
    EXPECT_ANY_THROW(layers.ensure_unpacked(sha256_of("no such blob"), blob.diff_id));
    EXPECT_FALSE(layers.has(blob.diff_id));
    EXPECT_TRUE(fs::is_directory(layers.ensure_unpacked(blob.digest, blob.diff_id) / "d0"));
}

}  // namespace
