// scan_layer over compressed layers: gzip goes through store::GzipDecoder
// (ISA-L or zlib, STRATA_GZIP), every other compression libarchive knows still
// reads; a truncated or corrupted .tar.gz is Error(kCorrupt) naming the layer,
// with the same text whichever engine inflates it.
#include <archive.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <random>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "diff/diff_fixture.hpp"
#include "diff/layer_scan.hpp"
#include "store/compression.hpp"
#include "store/gzip_decoder.hpp"
#include "support/damaged_gzip.hpp"

namespace strata::difftest {
namespace {

using diff::ChunkSource;
using diff::LayerFiles;
using diff::TextBudget;

const Layer kLayer = {{"etc", 'd', "", 0755},
                      {"etc/passwd", 'f', "root:x:0:0:root:/root:/bin/sh\n"},
                      {"bin/tool", 'f', testsupport::incompressible(300000, 1), 0755},
                      {"bin/sh", 'l', "tool", 0777},
                      {"bin/last", 'f', testsupport::incompressible(200000, 2)}};

// The tar through one of libarchive's write filters ("bzip2", "xz", "lz4").
std::string filtered(const std::string& tar, const std::string& filter) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_raw(a);
    int r = archive_write_add_filter_by_name(a, filter.c_str());
    if (r != ARCHIVE_OK) {
        archive_write_free(a);
        return "";
    }
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
            return la_ssize_t(n);
        },
        nullptr);
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_filetype(e, AE_IFREG);
    archive_write_header(a, e);
    archive_entry_free(e);
    archive_write_data(a, tar.data(), tar.size());
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// Scans `bytes` handed out in 1000-byte chunks (a stream that is not a file).
LayerFiles scan(const std::string& bytes) {
    size_t pos = 0;
    ChunkSource src = [&]() -> std::string_view {
        std::string_view v(bytes);
        v = v.substr(pos, 1000);
        pos += v.size();
        return v;
    };
    TextBudget budget;
    return diff::scan_layer(src, "layer 1 of test", budget);
}

// The Error(kCorrupt) text for `bytes`, or "<no error>".
std::string scan_error(const std::string& bytes) {
    try {
        scan(bytes);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
        return e.what();
    }
    return "<no error>";
}

std::vector<const char*> engines() {
    std::vector<const char*> out = {"zlib"};
    if (store::GzipDecoder::isal_available()) out.push_back("isa-l");
    return out;
}

class LayerScanGzip : public ::testing::Test {
  protected:
    void TearDown() override { ::unsetenv("STRATA_GZIP"); }
    const std::string tar_ = make_tar(kLayer);
};

TEST_F(LayerScanGzip, GzipReadsAsThePlainTarWithEitherEngine) {
    const LayerFiles plain = scan(tar_);
    ASSERT_EQ(plain.entries.size(), 5u);
    for (const char* engine : engines()) {
        ASSERT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
        const LayerFiles z = scan(testsupport::gzip_of(tar_));
        EXPECT_EQ(z.order_digest, plain.order_digest) << engine;
        ASSERT_EQ(z.entries.size(), plain.entries.size()) << engine;
        for (const auto& [path, f] : plain.entries) {
            auto it = z.entries.find(path);
            ASSERT_NE(it, z.entries.end()) << engine << " " << path;
            EXPECT_EQ(it->second.sha256, f.sha256) << engine << " " << path;
            EXPECT_EQ(it->second.mode, f.mode) << engine << " " << path;
        }
    }
}

TEST_F(LayerScanGzip, OtherCompressionsStillRead) {
    const LayerFiles plain = scan(tar_);
    for (const std::string filter : {"zstd", "bzip2", "xz", "lz4"}) {
        const std::string bytes = filtered(tar_, filter);
        if (bytes.empty()) continue;  // this libarchive cannot write it
        const LayerFiles f = scan(bytes);
        EXPECT_EQ(f.order_digest, plain.order_digest) << filter;
        EXPECT_EQ(f.entries.size(), plain.entries.size()) << filter;
    }
}

// Each row: the damage, and the words the error must hold. With libarchive's
// gzip filter (before GzipDecoder) the cut was "truncated gzip input", and the
// flipped byte and bad CRC were read without an error, as wrong content.
TEST_F(LayerScanGzip, DamagedGzipIsCorruptWithTheSameTextFromEitherEngine) {
    for (const auto& row : testsupport::damaged_gzip_rows(tar_)) {
        std::string text;
        for (const char* engine : engines()) {
            ASSERT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
            const std::string e = scan_error(row.bytes);
            EXPECT_EQ(e.rfind("layer 1 of test: cannot decompress: ", 0), 0u)
                << row.name << ": " << e;
            EXPECT_NE(e.find(row.words), std::string::npos) << row.name << ": " << e;
            if (text.empty()) text = e;
            EXPECT_EQ(e, text) << row.name << " " << engine;  // the same words from both engines
        }
    }
}

TEST_F(LayerScanGzip, BytesAfterTheGzipAreNotRead) {
    // As before, and as Docker's tar reader: the scan ends at the tar's end.
    const LayerFiles plain = scan(tar_);
    for (const char* engine : engines()) {
        ASSERT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
        EXPECT_EQ(scan(testsupport::gzip_of(tar_) + "not gzip at all").order_digest,
                  plain.order_digest)
            << engine;
    }
}

TEST_F(LayerScanGzip, TruncatedTarInsideAGoodGzipNamesTheEntry) {
    // The tar is cut inside bin/tool's data; the gzip around it is whole.
    const std::string cut = tar_.substr(0, 200000);
    for (const char* engine : engines()) {
        ASSERT_EQ(::setenv("STRATA_GZIP", engine, 1), 0);
        const std::string e = scan_error(testsupport::gzip_of(cut));
        EXPECT_EQ(e.rfind("layer 1 of test: entry 'bin/tool' (data): ", 0), 0u) << e;
    }
}

}  // namespace
}  // namespace strata::difftest
