// ADD of local tar archives: detection by content for every compression,
// extraction with the archive's metadata, --chown, and refusal of hostile
// entries (nothing may land outside the destination).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string_view>

#include "base/error.hpp"
#include "executor/copy/archive_extract.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"
#include "store/compression.hpp"
#include "store/gzip_decoder.hpp"
#include "support/damaged_gzip.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<TarEntry> kArchive = {
    {"./", 'd', "", 0755},
    {"bin/", 'd', "", 0750, 0, 0, 1400000000},
    {"bin/tool", 'f', "#!/bin/sh\n", 04755, 10, 20, 1400000001},
    {"bin/alias", 'l', "tool", 0777, 10, 20},
    {"bin/hard", 'h', "bin/tool"},
    {"deep/er/file", 'f', "implied parents", 0600, 1, 1},
    {"/abs/x", 'f', "leading slash dropped", 0644},
};

const std::vector<std::string> kExtracted = {
    "d /opt 0755 0:0",
    "d /opt/abs 0755 0:0",
    "f /opt/abs/x 0644 0:0 =leading slash dropped",
    "d /opt/bin 0750 0:0",
    "l /opt/bin/alias -> tool 10:20",
    "f /opt/bin/hard 0644 0:0 =#!/bin/sh\n #1",
    "f /opt/bin/tool 0644 0:0 =#!/bin/sh\n #1",
    "d /opt/deep 0755 0:0",
    "d /opt/deep/er 0755 0:0",
    "f /opt/deep/er/file 0600 1:1 =implied parents",
};

class AddArchive : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-add-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    void add(const std::string& src, const std::string& dest, const std::string& chown = "",
             bool is_add = true) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.is_add = is_add;
        req.sources = {src};
        req.dest = dest;
        req.chown = chown;
        run_copy(req, context, below, layer_);
    }

    std::vector<std::string> layer(SnapshotOptions o = {}) {
        auto lines = snapshot(layer_, o);
        std::sort(lines.begin(), lines.end());
        return lines;
    }

    std::string add_error(const std::vector<TarEntry>& entries) {
        write_tar(ctx_ / "evil.tar", entries);
        try {
            add("evil.tar", "/dst/");
        } catch (const Error& e) {
            return e.what();
        }
        return "<no error>";
    }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

class Compressions : public AddArchive, public ::testing::WithParamInterface<std::string> {};

TEST_P(Compressions, ExtractedWithArchiveMetadata) {
    // The name says nothing: detection is by content.
    write_tar(ctx_ / "payload.bin", kArchive, GetParam());
    // The hardlink shares the tool's inode, so the last metadata written
    // (the link entry's 0644 0:0) is what both names show, as with tar.
    add("payload.bin", "/opt");
    auto want = kExtracted;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(join_lines(layer()), sorted_lines(want));
    struct stat st {};
    ASSERT_EQ(::lstat((layer_ / "opt/bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1400000000);
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, Compressions,
                         ::testing::Values("none", "gzip", "bzip2", "xz", "zstd"));

TEST_F(AddArchive, SetuidBitsAndOwnersKept) {
    write_tar(ctx_ / "a.tar.gz", {{"tool", 'f', "x", 04755, 10, 20}}, "gzip");
    add("a.tar.gz", "/t/");
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /t 0755 0:0", "f /t/tool 4755 10:20 =x"}));
}

TEST_F(AddArchive, ChownOverridesEntriesButNotImpliedParents) {
    write_tar(ctx_ / "a.tar", {{"d/f", 'f', "x", 0640, 10, 20}, {"e/", 'd', "", 0700, 3, 3}});
    add("a.tar", "/x", "7:8");
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /x 0755 7:8", "d /x/d 0755 0:0",
                                                 "f /x/d/f 0640 7:8 =x", "d /x/e 0700 7:8"}));
}

TEST_F(AddArchive, NotAnArchiveIsCopiedAsFile) {
    write_text(ctx_ / "fake.tar.gz", "just text, not gzip");
    write_text(ctx_ / "empty.tar", "");
    write_text(ctx_ / "zeros.tar", std::string(1024, '\0'));
    ::chmod((ctx_ / "fake.tar.gz").c_str(), 0644);
    ::chmod((ctx_ / "empty.tar").c_str(), 0644);
    ::chmod((ctx_ / "zeros.tar").c_str(), 0644);
    add("fake.tar.gz", "/f/");
    add("empty.tar", "/f/");
    add("zeros.tar", "/f/");
    auto lines = layer();
    ASSERT_EQ(lines.size(), 4u) << join_lines(lines);
    EXPECT_EQ(lines[1], "f /f/empty.tar 0644 0:0 =");
    EXPECT_EQ(lines[2], "f /f/fake.tar.gz 0644 0:0 =just text, not gzip");
    EXPECT_TRUE(lines[3].starts_with("f /f/zeros.tar 0644 0:0 ="));
}

TEST_F(AddArchive, CopyNeverExtracts) {
    write_tar(ctx_ / "a.tar", {{"f", 'f', "x"}});
    ::chmod((ctx_ / "a.tar").c_str(), 0644);
    add("a.tar", "/c/", "", /*is_add=*/false);
    auto lines = layer();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[1].starts_with("f /c/a.tar 0644")) << lines[1];
}

TEST_F(AddArchive, ArchivesInsideADirectoryAreNotExtracted) {
    fs::create_directories(ctx_ / "dir");
    write_tar(ctx_ / "dir/a.tar", {{"f", 'f', "x"}});
    ::chmod((ctx_ / "dir/a.tar").c_str(), 0644);
    add("dir", "/d/");
    auto lines = layer();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[1].starts_with("f /d/a.tar 0644")) << lines[1];
}

TEST_F(AddArchive, EntriesReplaceParentStateUnlessBothDirectories) {
    tree(parent_, {"d x 0755", "d x/conf 0700", "f x/conf/old 0644", "f x/file 0644"});
    write_tar(ctx_ / "a.tar", {{"conf/", 'd', "", 0750},
                               {"conf/new", 'f', "n"},
                               {"file/", 'd', "", 0711},
                               {"file/in", 'f', "i"}});
    add("a.tar", "/x/");
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /x 0755 0:0", "d /x/conf 0750 0:0", "f /x/conf/new 0644 0:0 =n",
                            "d /x/file 0711 0:0", "f /x/file/in 0644 0:0 =i"}));
}

TEST_F(AddArchive, SymlinksInsideTheArchiveAreReRootedAtTheDestination) {
    write_tar(ctx_ / "a.tar", {{"etc", 'l', "/"},
                               {"etc/passwd", 'f', "inside"},
                               {"rel", 'l', "sub"},
                               {"rel/f", 'f', "r"}});
    add("a.tar", "/dst/");
    EXPECT_EQ(
        join_lines(layer()),
        sorted_lines({"d /dst 0755 0:0", "l /dst/etc -> / 0:0", "f /dst/passwd 0644 0:0 =inside",
                      "l /dst/rel -> sub 0:0", "d /dst/sub 0755 0:0", "f /dst/sub/f 0644 0:0 =r"}));
}

TEST_F(AddArchive, HostileEntriesAreRefused) {
    EXPECT_NE(add_error({{"../evil", 'f', "x"}}).find("outside the extraction root"),
              std::string::npos);
    EXPECT_NE(add_error({{"a/../../evil", 'f', "x"}}).find("outside the extraction root"),
              std::string::npos);
    EXPECT_NE(add_error({{"up", 'l', "../.."}, {"up/evil", 'f', "x"}})
                  .find("points outside the extraction root"),
              std::string::npos);
    EXPECT_NE(add_error({{"link", 'h', "../../etc/passwd"}}).find("outside the extraction root"),
              std::string::npos);
    EXPECT_NE(add_error({{"null", 'c', ""}}).find("unsupported tar entry"), std::string::npos);
    EXPECT_NE(add_error({{".wh.victim", 'f', "x"}}).find("reserved for layer whiteouts"),
              std::string::npos);
    // Nothing was written next to the layer.
    for (auto it = fs::directory_iterator(tmp_->path()); it != fs::directory_iterator(); ++it) {
        const auto n = it->path().filename();
        EXPECT_TRUE(n == "ctx" || n == "parent" || n == "layer") << n;
    }
    EXPECT_FALSE(fs::exists(layer_ / "evil"));
}

TEST_F(AddArchive, ParentSymlinkCannotLeadExtractionOut) {
    // The destination's existing symlink is followed, re-rooted at the
    // extraction root.
    tree(parent_, {"d dst 0755", "l dst/out /tmp/elsewhere"});
    write_tar(ctx_ / "a.tar", {{"out/f", 'f', "x"}});
    add("a.tar", "/dst/");
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /dst 0755 0:0", "d /dst/tmp 0755 0:0",
                                                 "d /dst/tmp/elsewhere 0755 0:0",
                                                 "f /dst/tmp/elsewhere/f 0644 0:0 =x"}));
}

// A damaged .tar.gz: Error(kCorrupt) naming the ADD, in the same words
// whichever engine inflates it (STRATA_GZIP=zlib, or ISA-L when present).
class CorruptGzip : public AddArchive {
  protected:
    void TearDown() override { ::unsetenv("STRATA_GZIP"); }

    std::string tar() {
        write_tar(ctx_ / "good.tar", {{"a/first", 'f', testsupport::incompressible(300000, 1)},
                                      {"a/second", 'f', testsupport::incompressible(200000, 2)},
                                      {"a/last", 'f', "the end"}});
        return read_file(ctx_ / "good.tar");
    }

    // The error text for each engine.
    std::vector<std::string> errors(const std::string& archive) {
        write_text(ctx_ / "bad.tar.gz", archive);
        std::vector<std::string> out;
        std::vector<const char*> engines = {"zlib"};
        if (store::GzipDecoder::isal_available()) engines.push_back("isa-l");
        for (const char* engine : engines) {
            EXPECT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
            try {
                add("bad.tar.gz", "/dst/");
                out.push_back("<no error>");
            } catch (const Error& e) {
                EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
                out.push_back(e.what());
            }
        }
        return out;
    }
};

// Each row: the damage, and the words the error must hold. With libarchive's
// gzip filter (before GzipDecoder) the cut in half was "reading the archive:
// truncated gzip input", the cut trailer an error without a message, and the
// flipped byte and the bad CRC extracted without an error, as wrong content.
TEST_F(CorruptGzip, DamagedArchiveIsRefusedInTheSameWordsByEitherEngine) {
    for (const auto& row : testsupport::damaged_gzip_rows(tar())) {
        auto errs = errors(row.bytes);
        for (const auto& e : errs) {
            EXPECT_EQ(e.rfind("ADD bad.tar.gz: cannot decompress: ", 0), 0u)
                << row.name << ": " << e;
            EXPECT_NE(e.find(row.words), std::string::npos) << row.name << ": " << e;
            EXPECT_EQ(e, errs.front()) << row.name;
        }
    }
}

TEST_F(CorruptGzip, TruncatedTarInsideAGoodGzipIsRefused) {
    // The gzip is whole; the tar inside ends in the middle of a file.
    const std::string z = testsupport::gzip_of(std::string_view(tar()).substr(0, 100000));
    for (const auto& e : errors(z))
        EXPECT_EQ(e, "ADD bad.tar.gz: entry 'a/first' (data): Truncated tar archive");
}

TEST_F(AddArchive, TrailingBytesAfterTheGzipAreIgnored) {
    // As Docker's ADD (its tar reader stops at the end-of-archive marker):
    // bytes after the compressed tar do not matter.
    write_tar(ctx_ / "a.tar.gz", {{"f", 'f', "x"}}, "gzip");
    write_text(ctx_ / "b.tar.gz", read_file(ctx_ / "a.tar.gz") + "not gzip at all");
    add("b.tar.gz", "/t/");
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /t 0755 0:0", "f /t/f 0644 0:0 =x"}));
}

TEST(ArchiveDetect, ByContent) {
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-det-");
    for (const std::string c : {"none", "gzip", "bzip2", "xz", "zstd"}) {
        fs::path p = tmp.path() / ("t-" + c);
        write_tar(p, {{"f", 'f', "x"}}, c);
        UniqueFd fd(::open(p.c_str(), O_RDONLY));
        EXPECT_TRUE(is_tar_archive(fd.get())) << c;
        EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 0);
    }
    // gzip around something that is not a tar, or a gzip magic before
    // garbage: plain files, as for Docker.
    fs::path gz_text = tmp.path() / "text.gz";
    write_text(gz_text, testsupport::gzip_of("hello world, certainly not a tar header"));
    fs::path bad_gz = tmp.path() / "bad.gz";
    static const char kBadGz[] = "\x1f\x8b\x08\0garbage after a gzip magic";
    write_text(bad_gz, std::string(kBadGz, sizeof kBadGz - 1));
    for (const auto& p : {gz_text, bad_gz}) {
        UniqueFd gfd(::open(p.c_str(), O_RDONLY));
        EXPECT_FALSE(is_tar_archive(gfd.get())) << p;
        EXPECT_EQ(::lseek(gfd.get(), 0, SEEK_CUR), 0);
    }
    fs::path text = tmp.path() / "text";
    write_text(text, "hello world, certainly not a tar header");
    UniqueFd fd(::open(text.c_str(), O_RDONLY));
    EXPECT_FALSE(is_tar_archive(fd.get()));
}

}  // namespace
}  // namespace strata::executor
