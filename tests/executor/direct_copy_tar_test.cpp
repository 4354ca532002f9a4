// A COPY written straight to its layer tar (CopyEnvironment::direct: files
// recorded, read once by store::write_layer) must give the same bytes as the
// old way: a layer directory of real files, then write_layer over it. The
// diffID, the cache and the reproducibility tests rest on that. Each row
// runs one COPY both ways and compares the tars byte for byte (and the
// error, when the COPY must fail).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"
#include "store/layer_writer.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

struct Row {
    std::string name = {};
    std::vector<std::string> context = {};  // tree() spec of the build context
    std::vector<std::string> parent = {};   // of the image below the COPY
    std::vector<std::string> stage = {};    // of a stage: COPY --from it when not empty
    std::vector<std::string> sources = {};
    std::string dest = {};
    std::string chown = {};
    std::string chmod = {};
    std::vector<std::string> excludes = {};
    std::string dockerignore = {};
    std::optional<int64_t> epoch = {};  // SOURCE_DATE_EPOCH, for the COPY and the tar
    bool add = false;
    bool parents = false;
    bool expect_direct = true;  // the direct path applies (ADD keeps the directory)
    bool expect_error = false;  // the COPY fails (with the same message both ways)
    std::vector<InlineSource> inline_sources = {};
    std::function<void(const fs::path& ctx)> prepare = {};  // what tree() cannot make
};

// Without SOURCE_DATE_EPOCH a directory the COPY creates gets the time of
// the run; the tar writer clamps to this (past all tree() times, before any
// run) so that the two runs compare.
constexpr int64_t kClamp = 1700000000;

struct Outcome {
    std::string tar;
    std::string error;
    bool direct = false;
    size_t recorded = 0;
};

Outcome run_one(const Row& row, bool direct, const fs::path& work) {
    const fs::path ctx = work / "ctx", parent = work / "parent", stage = work / "stage",
                   layer = work / (direct ? "layer-direct" : "layer-dir");
    fs::create_directories(layer);
    Outcome out;
    try {
        std::optional<BuildContext> context;
        std::optional<LayerStackView> from;
        const SourceView* source = nullptr;
        if (row.stage.empty()) {
            context.emplace(ctx, row.dockerignore.empty() ? frontend::DockerIgnore()
                                                          : frontend::DockerIgnore::parse(
                                                                row.dockerignore, ".dockerignore"));
            source = &*context;
        } else {
            from.emplace(std::vector<fs::path>{stage}, "stage 'build'");
            source = &*from;
        }
        LayerStackView below({parent});
        CopyRequest req;
        req.is_add = row.add;
        req.sources = row.sources;
        req.inline_sources = row.inline_sources;
        req.dest = row.dest;
        req.chown = row.chown;
        req.chmod = row.chmod;
        req.excludes = row.excludes;
        req.parents = row.parents;
        req.source_date_epoch = row.epoch;
        CopyEnvironment env;
        env.scratch_dir = work;
        env.direct = direct;
        CopyResult r = run_copy(req, *source, below, layer, env);
        out.direct = r.direct;
        out.recorded = r.layer_files.size();
        store::LayerWriteOptions lw;
        lw.compression = store::Compression::kNone;
        lw.source_date_epoch = row.epoch.value_or(kClamp);
        store::write_layer_to(
            layer, r.layer_files,
            [&out](const void* d, size_t n) { out.tar.append(static_cast<const char*>(d), n); },
            lw);
    } catch (const Error& e) {
        out.error = e.what();
    }
    return out;
}

// The entry names of a tar, in order ("ctx/a", "ctx/a/b", ...).
std::vector<std::string> tar_names(const std::string& tar) {
    std::vector<std::string> names;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_open_memory(a, tar.data(), tar.size());
    struct archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK)
        names.emplace_back(archive_entry_pathname(e));
    archive_read_free(a);
    return names;
}

std::vector<Row> rows() {
    std::vector<Row> r;
    r.push_back({.name = "plain files and nested dirs",
                 .context = {"f a.txt 0644", "d src 0755", "f src/main.c 0600", "d src/lib 0750",
                             "f src/lib/x.h 0644 =#define X 1"},
                 .sources = {"."},
                 .dest = "/app"});
    r.push_back({.name = "names that sort differently as paths and as a tree",
                 .context = {"d a 0755", "f a/b 0644", "f a-c 0644", "f a.b 0644", "d a/b2 0755",
                             "f a/b2/z 0644", "f a0 0644", "d a_ 0755", "f a_/x 0644"},
                 .sources = {"."},
                 .dest = "/ctx"});
    r.push_back({.name = "symlinks, hardlinks, empty dirs",
                 .context = {"d src 0755", "f src/a 0644", "l src/link a", "l src/abs /etc/passwd",
                             "h src/hard src/a", "f src/b 0644", "d src/empty 0700",
                             "d src/empty/inner 0755"},
                 .sources = {"src"},
                 .dest = "/dst/"});
    r.push_back({.name = "--chown",
                 .context = {"d src 0755", "f src/a 0644 7:7", "d src/d 0700", "f src/d/b 0755"},
                 .sources = {"src"},
                 .dest = "/new/deep/dst",
                 .chown = "1000:1001"});
    r.push_back({.name = "--chmod (also the directories it creates)",
                 .context = {"d src 0755", "f src/a 0644", "d src/d 0700", "f src/d/b 0755"},
                 .sources = {"src"},
                 .dest = "/made/here/",
                 .chmod = "0751"});
    r.push_back({.name = "--chmod symbolic",
                 .context = {"f run.sh 0644", "f conf 0600"},
                 .sources = {"run.sh", "conf"},
                 .dest = "/bin/",
                 .chmod = "u+x,g-w,o+r"});
    r.push_back({.name = "--exclude",
                 .context = {"d src 0755", "f src/a.c 0644", "f src/a.o 0644", "d src/obj 0755",
                             "f src/obj/b.o 0644", "f src/keep.o 0644"},
                 .sources = {"src"},
                 .dest = "/src",
                 .excludes = {"*.o", "obj", "!keep.o"}});
    r.push_back({.name = "dest under existing dirs of the parent image (copied up)",
                 .context = {"f conf 0644"},
                 .parent = {"d usr 0711 3:4", "d usr/share 0750 5:6", "f usr/share/old 0644"},
                 .sources = {"conf"},
                 .dest = "/usr/share/app/conf"});
    r.push_back({.name = "dest through a symlink in the parent image",
                 .context = {"d src 0755", "f src/a 0644"},
                 .parent = {"d real 0755 1:1", "d real/dir 0700", "l app /real/dir"},
                 .sources = {"src"},
                 .dest = "/app/sub/"});
    r.push_back({.name = "a file over a parent symlink, a later source replaces an earlier one",
                 .context = {"d one 0755", "f one/f 0644 =first", "d two 0755",
                             "f two/f 0600 =second", "f two/g 0644"},
                 .parent = {"d d 0755", "l d/g /nowhere"},
                 .sources = {"one/f", "two/f", "two/g"},
                 .dest = "/d/"});
    r.push_back({.name = "directories merge across sources",
                 .context = {"d x 0755", "d x/etc 0755", "f x/etc/a 0644", "d y 0700",
                             "d y/etc 0700", "f y/etc/b 0644"},
                 .sources = {"x", "y"},
                 .dest = "/"});
    r.push_back({.name = "wildcards and --parents",
                 .context = {"d p 0755", "d p/a 0755", "f p/a/x.json 0644", "d p/b 0755",
                             "f p/b/y.json 0644", "f p/b/z.txt 0644"},
                 .sources = {"p/*/*.json"},
                 .dest = "/out/",
                 .parents = true});
    r.push_back({.name = ".dockerignore",
                 .context = {"f keep 0644", "d node_modules 0755", "f node_modules/m 0644",
                             "d logs 0755", "f logs/a.log 0644", "f logs/important.log 0644"},
                 .sources = {"."},
                 .dest = "/app",
                 .dockerignore = "node_modules\nlogs/*\n!logs/important.log\n"});
    r.push_back({.name = "SOURCE_DATE_EPOCH",
                 .context = {"d src 0755", "f src/a 0644", "l src/l a", "d src/d 0700"},
                 .sources = {"src"},
                 .dest = "/new/epoch",
                 .epoch = 1234567890});
    r.push_back({.name = "COPY --from a stage keeps owners, hardlinks and xattrs",
                 .parent = {"d opt 0755"},
                 .stage = {"d out 0755 2:2", "f out/bin 4755 0:3", "h out/bin2 out/bin",
                           "f out/data 0640 33:33", "l out/cur bin", "d out/var 1777"},
                 .sources = {"/out"},
                 .dest = "/opt/app"});
    r.push_back({.name = "heredoc and a fifo",
                 .context = {"f a 0644"},
                 .sources = {"a", "fifo"},
                 .dest = "/x/",
                 .inline_sources = {{"EOF", "inline text\n"}},
                 .prepare = [](const fs::path& ctx) {
                     if (::mkfifo((ctx / "fifo").c_str(), 0640) != 0)
                         throw std::runtime_error("mkfifo");
                 }});
    r.push_back({.name = "xattrs on context files",
                 .context = {"d src 0755", "f src/plain 0644", "f src/tagged 0644"},
                 .sources = {"src"},
                 .dest = "/t",
                 .prepare = [](const fs::path& ctx) {
                     const auto f = (ctx / "src/tagged").string();
                     if (::setxattr(f.c_str(), "user.a", "1", 1, 0) != 0 ||
                         ::setxattr(f.c_str(), "user.overlay.x", "y", 1, 0) != 0)
                         throw std::runtime_error("setxattr");
                 }});
    r.push_back({.name = "a dest that is a file of the parent: error",
                 .context = {"d src 0755", "f src/a 0644"},
                 .parent = {"f f 0644"},
                 .sources = {"src"},
                 .dest = "/f/",
                 .expect_error = true});
    r.push_back(
        {.name = "a source dir over a file an earlier source wrote: error",
         .context = {"d one 0755", "f one/x 0644", "d two 0755", "d two/x 0755", "f two/x/y 0644"},
         .sources = {"one", "two"},
         .dest = "/d/",
         .expect_error = true});
    r.push_back({.name = "ADD of a local tar (keeps the layer directory)",
                 .context = {"f plain 0644"},
                 .sources = {"t.tar", "plain"},
                 .dest = "/add/",
                 .add = true,
                 .expect_direct = false,
                 .prepare = [](const fs::path& ctx) {
                     write_tar(ctx / "t.tar", {{"top", 'd', "", 0755},
                                               {"top/f", 'f', "in tar"},
                                               {"top/h", 'h', "top/f"},
                                               {"top/l", 'l', "f"}});
                 }});
    return r;
}

void PrintTo(const Row& row, std::ostream* os) {
    *os << row.name;
}

class DirectCopyTar : public ::testing::TestWithParam<Row> {};

TEST_P(DirectCopyTar, SameBytesAsTheLayerDirectory) {
    const Row& row = GetParam();
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-direct-");
    const fs::path ctx = tmp.path() / "ctx";
    tree(ctx, row.context);
    tree(tmp.path() / "parent", row.parent);
    tree(tmp.path() / "stage", row.stage);
    if (row.prepare) row.prepare(ctx);

    const Outcome old_way = run_one(row, false, tmp.path());
    const Outcome direct = run_one(row, true, tmp.path());
    EXPECT_FALSE(old_way.direct);
    EXPECT_EQ(old_way.recorded, 0u);
    EXPECT_EQ(direct.error, old_way.error);
    EXPECT_EQ(!old_way.error.empty(), row.expect_error) << old_way.error;
    if (!old_way.error.empty()) return;  // an error row: the same error both ways
    EXPECT_EQ(direct.direct, row.expect_direct);
    if (row.expect_direct) {
        EXPECT_GT(direct.recorded, 0u) << "no file went straight to the tar";
    }
    ASSERT_FALSE(old_way.tar.empty());
    EXPECT_EQ(tar_names(direct.tar), tar_names(old_way.tar));
    EXPECT_TRUE(direct.tar == old_way.tar) << "the tars differ in their bytes";
}

INSTANTIATE_TEST_SUITE_P(Rows, DirectCopyTar, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                             std::string n;
                             for (char c : info.param.name)
                                 n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return n;
                         });

// The rows above must be able to fail: a recorded file whose header would
// differ (another mtime) gives other bytes.
TEST(DirectCopyTarCheck, ADifferentHeaderGivesOtherBytes) {
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-direct-");
    tree(tmp.path() / "ctx", {"f a 0644"});
    tree(tmp.path() / "parent", {});
    Row row{.name = "one", .sources = {"a"}, .dest = "/a"};
    const Outcome first = run_one(row, true, tmp.path());
    set_mtime(tmp.path() / "ctx/a", kMtime - 10);
    fs::remove_all(tmp.path() / "layer-direct");
    const Outcome second = run_one(row, true, tmp.path());
    ASSERT_TRUE(first.error.empty()) << first.error;
    EXPECT_EQ(first.tar.size(), second.tar.size());
    EXPECT_NE(first.tar, second.tar);
}

}  // namespace
}  // namespace strata::executor
