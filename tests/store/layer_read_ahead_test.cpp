// The layer writer reads files ahead on the thread pool (small ones whole,
// large ones in 1 MiB pieces): the tar must be byte for byte the one the
// file-by-file loop writes, hardlinks included, and a file that fails to read must fail the layer
// with the same error, where the loop would have met it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
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

// A store, and a tree of many files to write layers of (make_many_files).
class LayerReadAhead : public ::testing::Test {
  protected:
    void SetUp() override { make_many_files(src_); }

    // Writes `layer` both ways and checks that they are the same tar; unpacks
    // it and checks that it holds `tree` (with `files` given: that the
    // recorded files went in as they are in `tree`).
    void expect_same_both_ways(const fs::path& layer, const std::vector<LayerFile>& files = {}) {
        const LayerBlob ahead = write(layer, files, cs_, true);
        const LayerBlob plain = write(layer, files, cs_, false);
        EXPECT_EQ(ahead.diff_id, plain.diff_id);
        EXPECT_EQ(ahead.tar_size, plain.tar_size);
        EXPECT_EQ(ahead.content_size, plain.content_size);
        const fs::path dst = work_.path() / ("dst" + std::to_string(unpacked_++));
        fs::create_directories(dst);
        auto fd = cs_.open(ahead.digest);
        EXPECT_EQ(apply_layer(fd.get(), dst), ahead.diff_id);
        if (files.empty()) {
            EXPECT_EQ(describe_tree(layer), describe_tree(dst));
        } else {
            for (const auto& f : files)
                EXPECT_EQ(read_file(dst / f.name), read_file(f.shown)) << f.name;
        }
    }

    // The error of writing `files` (as a COPY records them) into an empty
    // layer, as the plain loop gives it, whichever thread met it.
    std::string error_of(const std::vector<LayerFile>& files, bool read_ahead) {
        const fs::path layer = work_.path() / "empty-layer";
        fs::create_directories(layer);
        try {
            write(layer, files, cs_, read_ahead);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return "no error";
    }

    // The directory a COPY of src_ to /copied leaves (its files are recorded).
    fs::path layer_of_copied_dirs() {
        const fs::path layer = work_.path() / "layer";
        fs::create_directories(layer / "copied");
        for (const auto& d : fs::directory_iterator(src_))
            if (d.is_directory()) fs::create_directories(layer / "copied" / d.path().filename());
        return layer;
    }

    TempDir work_ = scratch();
    ContentStore cs_{work_.path() / "store"};
    const fs::path src_ = work_.path() / "src";
    int unpacked_ = 0;
};

TEST_F(LayerReadAhead, TheTarIsTheSameAsReadingOneFileAtATime) {
    expect_same_both_ways(src_);
}

TEST_F(LayerReadAhead, RecordedFilesGiveTheSameTarToo) {
    const fs::path layer = layer_of_copied_dirs();
    const auto files = as_layer_files(src_);
    ASSERT_GT(files.size(), 400u);
    expect_same_both_ways(layer, files);
}

TEST_F(LayerReadAhead, AFewLargeFilesAreReadAheadInPieces) {
    // Sizes around the 1 MiB pieces: one byte short of, at and past a
    // boundary; no small file at all.
    const fs::path large = work_.path() / "large";
    write_file(large / "a", content((3 << 20) - 1, 7));
    write_file(large / "b", content(2 << 20, 8));
    write_file(large / "c", content((1 << 20) + 1, 9));
    for (auto it = fs::recursive_directory_iterator(large);
         it != fs::recursive_directory_iterator(); ++it)
        set_mtime(it->path(), kTime);
    expect_same_both_ways(large);
}

TEST_F(LayerReadAhead, AFileThatShrankFailsTheLayerWithTheSameError) {
    auto files = as_layer_files(src_);
    // Recorded at 100 bytes more than the file holds (it shrank after the
    // COPY looked at it): a small file, and a large one whose last piece
    // comes up short.
    for (const bool large : {false, true}) {
        SCOPED_TRACE(large ? "large" : "small");
        auto shrunk = files;
        LayerFile* victim = &shrunk[shrunk.size() / 2];
        if (large)
            for (auto& f : shrunk)
                if (f.name == "copied/d4/large") victim = &f;
        ASSERT_EQ(victim->st.st_size > (256 << 10), large);
        victim->st.st_size += 100;
        const std::string ahead = error_of(shrunk, true);
        EXPECT_NE(ahead.find("shrank while it was being archived"), std::string::npos) << ahead;
        EXPECT_NE(ahead.find(victim->shown), std::string::npos) << ahead;
        EXPECT_EQ(ahead, error_of(shrunk, false));
    }
}

TEST_F(LayerReadAhead, AFileThatCannotBeOpenedFailsTheLayerWithTheSameError) {
    auto files = as_layer_files(src_);
    auto& victim = files[files.size() / 3];
    fs::remove(victim.shown);
    const std::string ahead = error_of(files, true);
    EXPECT_NE(ahead.find(victim.shown), std::string::npos) << ahead;
    EXPECT_EQ(ahead, error_of(files, false));
    // Nothing of the failed layers stayed in the store.
    EXPECT_TRUE(cs_.list().empty());
}

// LayerFile::stored: the bytes of a file already in a blob (the last
// build's layer of a COPY) are read from there, with no open() of the
// source; a range whose header does not match falls back to open(). The
// tar is the same either way, and write_layer reports where each file's
// data went.
TEST_F(LayerReadAhead, StoredBytesGiveTheSameTarWithoutOpeningTheSources) {
    const fs::path layer = layer_of_copied_dirs();
    const auto files = as_layer_files(src_);
    const LayerBlob first = write(layer, files, cs_, true);
    ASSERT_EQ(first.files.size(), files.size());
    auto blob = std::make_shared<const UniqueFd>(cs_.open(first.digest));
    for (size_t i = 0; i < files.size(); ++i) {
        EXPECT_FALSE(first.files[i].stored);
        EXPECT_FALSE(first.files[i].xattrs);
        const auto size = static_cast<size_t>(files[i].st.st_size);
        std::string at(size, '\0');
        ASSERT_EQ(::pread(blob->get(), at.data(), size, static_cast<off_t>(first.files[i].offset)),
                  static_cast<ssize_t>(size));
        EXPECT_EQ(at, read_file(files[i].shown)) << files[i].name;
    }

    std::atomic<int> opened{0};
    auto stored = files;
    size_t small = SIZE_MAX, large = SIZE_MAX;
    for (size_t i = 0; i < stored.size(); ++i) {
        stored[i].stored = StoredBytes{blob, first.files[i].offset, std::nullopt};
        stored[i].open = [&opened, open = files[i].open] {
            ++opened;
            return open();
        };
        if (stored[i].name == "copied/d4/large") large = i;
        if (stored[i].st.st_size > 0 && stored[i].st.st_size < 4096 && small == SIZE_MAX) small = i;
    }
    ASSERT_NE(small, SIZE_MAX);
    ASSERT_NE(large, SIZE_MAX);
    for (const bool read_ahead : {true, false}) {
        SCOPED_TRACE(read_ahead ? "read ahead" : "one at a time");
        opened = 0;
        const LayerBlob again = write(layer, stored, cs_, read_ahead);
        EXPECT_EQ(again.diff_id, first.diff_id);
        EXPECT_EQ(opened, 0);
        for (size_t i = 0; i < stored.size(); ++i) {
            EXPECT_TRUE(again.files[i].stored) << stored[i].name;
            EXPECT_EQ(again.files[i].offset, first.files[i].offset);
        }
    }

    // Wrong ranges: a small file pointed at another file's bytes (its
    // header says another size), a large one a block too far (no header
    // there). Both are opened; the tar does not change.
    auto wrong = stored;
    size_t other = 0;
    while (files[other].st.st_size == files[small].st.st_size)
        ++other;
    wrong[small].stored->offset = first.files[other].offset;
    wrong[large].stored->offset += 512;
    for (const bool read_ahead : {true, false}) {
        SCOPED_TRACE(read_ahead ? "read ahead" : "one at a time");
        opened = 0;
        const LayerBlob again = write(layer, wrong, cs_, read_ahead);
        EXPECT_EQ(again.diff_id, first.diff_id);
        EXPECT_EQ(opened, 2);
        EXPECT_FALSE(again.files[small].stored);
        EXPECT_FALSE(again.files[large].stored);
    }
}

// StoredBytes::header: when the header's inputs are the ones recorded, the
// 512 bytes before the data are copied as the header instead of being
// formatted again — the same tar; a header planted there (valid checksum)
// shows that they were copied, and other inputs (a mode) are formatted.
TEST_F(LayerReadAhead, StoredHeadersAreCopiedWhenTheirInputsAreTheSame) {
    const fs::path layer = layer_of_copied_dirs();
    const auto files = as_layer_files(src_);
    const LayerBlob first = write(layer, files, cs_, true);
    auto blob = std::make_shared<const UniqueFd>(cs_.open(first.digest));
    auto stored = files;
    size_t small = SIZE_MAX;
    for (size_t i = 0; i < stored.size(); ++i) {
        ASSERT_EQ(first.files[i].header_size, 512u) << stored[i].name;
        stored[i].stored = StoredBytes{blob, first.files[i].offset, first.files[i].header};
        stored[i].open = []() -> LayerFileSource { throw Error(ErrorKind::kInternal, "opened"); };
        if (small == SIZE_MAX && stored[i].st.st_size > 0 && stored[i].st.st_size < 4096) small = i;
    }
    ASSERT_NE(small, SIZE_MAX);
    const LayerBlob again = write(layer, stored, cs_, true);
    EXPECT_EQ(again.diff_id, first.diff_id);
    for (size_t i = 0; i < stored.size(); ++i) {
        EXPECT_EQ(again.files[i].offset, first.files[i].offset);
        EXPECT_EQ(again.files[i].header_size, 512u);
        EXPECT_EQ(again.files[i].header, first.files[i].header);
    }

    // A copy of the blob with another owner name in one header (checksum
    // fixed): copied, it changes the tar; with other inputs, it does not.
    std::string bytes = read_file(cs_.blob_path(first.digest));
    const size_t h = static_cast<size_t>(first.files[small].offset) - 512;
    std::memcpy(&bytes[h + 265], "planted", 7);
    unsigned sum = 0;
    std::memset(&bytes[h + 148], ' ', 8);
    for (size_t k = 0; k < 512; ++k)
        sum += static_cast<unsigned char>(bytes[h + k]);
    std::snprintf(&bytes[h + 148], 8, "%06o", sum);
    bytes[h + 155] = ' ';
    const fs::path planted = work_.path() / "planted.tar";
    write_file(planted, bytes);
    auto planted_fd = std::make_shared<UniqueFd>(::open(planted.c_str(), O_RDONLY | O_CLOEXEC));
    for (auto& f : stored)
        f.stored->blob = planted_fd;
    EXPECT_NE(write(layer, stored, cs_, true).diff_id, first.diff_id) << "the header was copied";
    stored[small].stored->header->mode ^= 0100;
    EXPECT_EQ(write(layer, stored, cs_, true).diff_id, first.diff_id) << "formatted again";

    // A header that names another file (an index that does not match its
    // blob): formatted, whatever its inputs say.
    stored[small].stored->header->mode ^= 0100;
    std::memcpy(&bytes[h], "zz", 2);
    std::memset(&bytes[h + 148], ' ', 8);
    sum = 0;
    for (size_t k = 0; k < 512; ++k)
        sum += static_cast<unsigned char>(bytes[h + k]);
    std::snprintf(&bytes[h + 148], 8, "%06o", sum);
    bytes[h + 155] = ' ';
    write_file(planted, bytes);
    auto renamed_fd = std::make_shared<UniqueFd>(::open(planted.c_str(), O_RDONLY | O_CLOEXEC));
    for (auto& f : stored)
        f.stored->blob = renamed_fd;
    EXPECT_EQ(write(layer, stored, cs_, true).diff_id, first.diff_id) << "another name";
}

}  // namespace
