// ADD of local archives as BuildKit unpacks them: every archive a wildcard
// matches is unpacked into the destination, whatever else it matches is
// copied beside them.
#include <gtest/gtest.h>

#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class AddUnpack : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-unpack-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    void add(std::vector<std::string> sources, const std::string& dest,
             std::optional<bool> unpack = std::nullopt, const CopyEnvironment& env = {}) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.is_add = true;
        req.sources = std::move(sources);
        req.dest = dest;
        req.unpack = unpack;
        run_copy(req, context, below, layer_, env);
    }

    // A download that is already there (no server needed): `url` -> `file`.
    CopyEnvironment prefetched(const std::string& url, const fs::path& file) {
        CopyEnvironment env;
        FetchedUrl f;
        f.url = url;
        f.file_name = url.substr(url.rfind('/') + 1);
        f.file = file;
        f.sha256 = "sha256:0";
        f.size = fs::file_size(file);
        env.prefetched[url] = f;
        return env;
    }

    std::string layer() { return sorted_lines(snapshot(layer_)); }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

TEST_F(AddUnpack, WildcardUnpacksEveryArchive) {
    write_tar(ctx_ / "a.tar", {{"a/one", 'f', "1", 0644}});
    write_tar(ctx_ / "b.tar", {{"b/two", 'f', "2", 0600}});
    add({"*.tar"}, "/dest/");
    EXPECT_EQ(layer(),
              sorted_lines({"d /dest 0755 0:0", "d /dest/a 0755 0:0", "f /dest/a/one 0644 0:0 =1",
                            "d /dest/b 0755 0:0", "f /dest/b/two 0600 0:0 =2"}));
}

TEST_F(AddUnpack, WildcardMixesArchivesAndPlainFiles) {
    write_tar(ctx_ / "x.tar", {{"in-x", 'f', "x", 0644}});
    write_text(ctx_ / "y.tar", "not an archive");
    add({"?.tar"}, "/d/");
    EXPECT_EQ(layer(), sorted_lines({"d /d 0755 0:0", "f /d/in-x 0644 0:0 =x",
                                     "f /d/y.tar 0644 0:0 =not an archive"}));
}

TEST_F(AddUnpack, SeveralWildcardsAndExplicitArchives) {
    write_tar(ctx_ / "p1.tar", {{"p1", 'f', "1", 0644}});
    write_tar(ctx_ / "p2.tar", {{"p2", 'f', "2", 0644}});
    write_tar(ctx_ / "q.tar", {{"q", 'f', "q", 0644}});
    add({"p*.tar", "q.tar"}, "/o/");
    EXPECT_EQ(layer(), sorted_lines({"d /o 0755 0:0", "f /o/p1 0644 0:0 =1", "f /o/p2 0644 0:0 =2",
                                     "f /o/q 0644 0:0 =q"}));
}

TEST_F(AddUnpack, UnpackFalseCopiesLocalArchivesAsFiles) {
    write_tar(ctx_ / "a.tar", {{"one", 'f', "1", 0644}});
    add({"a.tar"}, "/d/", false);
    const std::string l = layer();
    EXPECT_NE(l.find("f /d/a.tar 0644 0:0 ="), std::string::npos) << l;
    EXPECT_EQ(l.find("/d/one"), std::string::npos) << l;
}

TEST_F(AddUnpack, UnpackTrueIsTheLocalDefault) {
    write_tar(ctx_ / "a.tar", {{"one", 'f', "1", 0644}});
    add({"a.tar"}, "/d/", true);
    EXPECT_EQ(layer(), sorted_lines({"d /d 0755 0:0", "f /d/one 0644 0:0 =1"}));
}

TEST_F(AddUnpack, DownloadsAreUnpackedOnlyWithUnpackTrue) {
    const fs::path dl = tmp_->path() / "dl.tar";
    write_tar(dl, {{"remote", 'f', "r", 0644}});
    const std::string url = "http://127.0.0.1:1/files/r.tar";
    add({url}, "/u/", true, prefetched(url, dl));
    EXPECT_EQ(layer(), sorted_lines({"d /u 0755 0:0", "f /u/remote 0644 0:0 =r"}));
}

TEST_F(AddUnpack, DownloadsStayFilesByDefaultAndWithUnpackFalse) {
    const fs::path dl = tmp_->path() / "dl.tar";
    write_tar(dl, {{"remote", 'f', "r", 0644}});
    const std::string url = "http://127.0.0.1:1/files/r.tar";
    add({url}, "/u/", std::nullopt, prefetched(url, dl));
    std::string l = layer();
    EXPECT_NE(l.find("f /u/r.tar 0600"), std::string::npos) << l;
    fs::remove_all(layer_);
    fs::create_directories(layer_);
    add({url}, "/v/", false, prefetched(url, dl));
    l = layer();
    EXPECT_NE(l.find("f /v/r.tar 0600"), std::string::npos) << l;
}

TEST_F(AddUnpack, UnpackTrueOnAPlainDownloadCopiesIt) {
    const fs::path dl = tmp_->path() / "plain";
    write_text(dl, "just text");
    const std::string url = "http://127.0.0.1:1/plain.txt";
    add({url}, "/p/", true, prefetched(url, dl));
    EXPECT_EQ(layer(), sorted_lines({"d /p 0755 0:0", "f /p/plain.txt 0600 0:0 =just text"}));
}

}  // namespace
}  // namespace strata::executor
