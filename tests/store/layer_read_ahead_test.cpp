// The layer writer reads files ahead on the thread pool (small ones whole,
// large ones in 1 MiB pieces): the tar must be byte for byte the one the
// file-by-file loop writes, hardlinks included, and a file that fails to read must fail the layer
// with the same error, where the loop would have met it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "store/content_store.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_writer.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

constexpr time_t kTime = 1700000000;

std::string content(size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i)
        s[i] = static_cast<char>(((i + seed) * 2654435761u) >> 11);
    return s;
}

// Hundreds of small files of every size class around the read-ahead's
// limits (empty, 1 B, a few KiB, just under and over 256 KiB), hardlinks
// within and across directories, a large file between small ones.
void make_many_files(const fs::path& root) {
    for (unsigned i = 0; i < 400; ++i) {
        const size_t size = i % 7 == 0 ? 0 : (i * 977) % 6000;
        write_file(root / ("d" + std::to_string(i % 9)) / ("f" + std::to_string(i)),
                   content(size, i));
    }
    write_file(root / "d3" / "just-under", content((256 << 10) - 1, 1));
    write_file(root / "d3" / "limit", content(256 << 10, 2));
    write_file(root / "d3" / "just-over", content((256 << 10) + 1, 3));
    write_file(root / "d4" / "large", content(5 << 20, 4));
    fs::create_hard_link(root / "d1" / "f1", root / "d8" / "link-to-f1");
    fs::create_hard_link(root / "d1" / "f1", root / "d0" / "another-link-to-f1");
    fs::create_hard_link(root / "d4" / "large", root / "d0" / "link-to-large");
    fs::create_symlink("f1", root / "d2" / "symlink");
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        set_mtime(it->path(), kTime);
}

LayerBlob write(const fs::path& dir, const std::vector<LayerFile>& files, ContentStore& cs,
                bool read_ahead) {
    LayerWriteOptions o;
    o.compression = Compression::kNone;
    o.read_ahead = read_ahead;
    return write_layer(dir, files, cs, o);
}

// The regular files below `root`, as LayerFiles named "copied/<path>" (how
// a COPY hands its files to the writer), each opened from `root`.
std::vector<LayerFile> as_layer_files(const fs::path& root) {
    std::vector<LayerFile> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        if (!it->is_regular_file() || it->is_symlink()) continue;
        LayerFile f;
        f.name = "copied/" + fs::relative(it->path(), root).string();
        EXPECT_EQ(::lstat(it->path().c_str(), &f.st), 0);
        f.st.st_nlink = 1;
        f.shown = it->path().string();
        f.open = [p = it->path()] {
            LayerFileSource s;
            s.data.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
            if (!s.data) throw system_error("open", p.string());
            return s;
        };
        out.push_back(std::move(f));
    }
    return out;
}

TEST(LayerReadAhead, TheTarIsTheSameAsReadingOneFileAtATime) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    make_many_files(src);

    const LayerBlob ahead = write(src, {}, cs, true);
    const LayerBlob plain = write(src, {}, cs, false);
    EXPECT_EQ(ahead.diff_id, plain.diff_id);
    EXPECT_EQ(ahead.tar_size, plain.tar_size);
    EXPECT_EQ(ahead.content_size, plain.content_size);

    // And the tar holds the tree: unpacked, it is the same tree.
    const fs::path dst = work.path() / "dst";
    fs::create_directories(dst);
    auto fd = cs.open(ahead.digest);
    EXPECT_EQ(apply_layer(fd.get(), dst), ahead.diff_id);
    EXPECT_EQ(describe_tree(src), describe_tree(dst));
}

TEST(LayerReadAhead, RecordedFilesGiveTheSameTarToo) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    make_many_files(src);
    const fs::path layer = work.path() / "layer";
    fs::create_directories(layer / "copied");
    for (const auto& d : fs::directory_iterator(src))
        if (d.is_directory()) fs::create_directories(layer / "copied" / d.path().filename());
    const auto files = as_layer_files(src);
    ASSERT_GT(files.size(), 400u);

    const LayerBlob ahead = write(layer, files, cs, true);
    const LayerBlob plain = write(layer, files, cs, false);
    EXPECT_EQ(ahead.diff_id, plain.diff_id);
    EXPECT_EQ(ahead.tar_size, plain.tar_size);
}

// The error of the file that cannot be read, as the plain loop gives it,
// whichever thread met it.
std::string error_of(const fs::path& layer, const std::vector<LayerFile>& files, ContentStore& cs,
                     bool read_ahead) {
    try {
        write(layer, files, cs, read_ahead);
    } catch (const Error& e) {
        return std::string(e.what());
    }
    return "no error";
}

TEST(LayerReadAhead, AFileThatShrankFailsTheLayerWithTheSameError) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    make_many_files(src);
    const fs::path layer = work.path() / "layer";
    fs::create_directories(layer);
    auto files = as_layer_files(src);
    // Recorded at 100 bytes more than the file holds (it shrank after the
    // COPY looked at it).
    auto& victim = files[files.size() / 2];
    ASSERT_LT(victim.st.st_size, 256 << 10);
    victim.st.st_size += 100;

    const std::string ahead = error_of(layer, files, cs, true);
    EXPECT_NE(ahead.find("shrank while it was being archived"), std::string::npos) << ahead;
    EXPECT_NE(ahead.find(victim.shown), std::string::npos) << ahead;
    EXPECT_EQ(ahead, error_of(layer, files, cs, false));
}

TEST(LayerReadAhead, ALargeFileThatShrankFailsTheLayerWithTheSameError) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    make_many_files(src);
    const fs::path layer = work.path() / "layer";
    fs::create_directories(layer);
    auto files = as_layer_files(src);
    LayerFile* large = nullptr;
    for (auto& f : files)
        if (f.name == "copied/d4/large") large = &f;
    ASSERT_NE(large, nullptr);
    large->st.st_size += 100;  // its last piece comes up short

    const std::string ahead = error_of(layer, files, cs, true);
    EXPECT_NE(ahead.find("shrank while it was being archived"), std::string::npos) << ahead;
    EXPECT_NE(ahead.find(large->shown), std::string::npos) << ahead;
    EXPECT_EQ(ahead, error_of(layer, files, cs, false));
}

TEST(LayerReadAhead, AFewLargeFilesAreReadAheadInPieces) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    // Sizes around the 1 MiB pieces: one byte short of, at and past a
    // boundary; no small file at all.
    write_file(src / "a", content((3 << 20) - 1, 7));
    write_file(src / "b", content(2 << 20, 8));
    write_file(src / "c", content((1 << 20) + 1, 9));
    for (auto it = fs::recursive_directory_iterator(src); it != fs::recursive_directory_iterator();
         ++it)
        set_mtime(it->path(), kTime);
    const LayerBlob ahead = write(src, {}, cs, true);
    const LayerBlob plain = write(src, {}, cs, false);
    EXPECT_EQ(ahead.diff_id, plain.diff_id);
    const fs::path dst = work.path() / "dst";
    fs::create_directories(dst);
    auto fd = cs.open(ahead.digest);
    EXPECT_EQ(apply_layer(fd.get(), dst), ahead.diff_id);
    EXPECT_EQ(describe_tree(src), describe_tree(dst));
}

TEST(LayerReadAhead, AFileThatCannotBeOpenedFailsTheLayerWithTheSameError) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    const fs::path src = work.path() / "src";
    make_many_files(src);
    const fs::path layer = work.path() / "layer";
    fs::create_directories(layer);
    auto files = as_layer_files(src);
    auto& victim = files[files.size() / 3];
    fs::remove(victim.shown);

    const std::string ahead = error_of(layer, files, cs, true);
    EXPECT_NE(ahead.find(victim.shown), std::string::npos) << ahead;
    EXPECT_EQ(ahead, error_of(layer, files, cs, false));
    // Nothing of the failed layers stayed in the store.
    EXPECT_TRUE(cs.list().empty());
}

}  // namespace
