// A COPY written straight to its layer tar (CopyEnvironment::direct: files
// recorded, read once by store::write_layer) must give the same bytes as the
// old way: a layer directory of real files, then write_layer over it. The
// diffID, the cache and the reproducibility tests rest on that. Each row
// runs one COPY both ways and compares the tars byte for byte (and the
// error, when the COPY must fail).
//
// The layer directory such a COPY leaves to be unpacked later is made from
// the tar, linking the files that are the same in the previous build's layer
// (ApplyOptions::link_from); each row also unpacks its tar that way and
// plainly, and compares the two trees in every byte and attribute.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor/copy/layer_tree.hpp"
#include "executor_test_util.hpp"
#include "store/layer_reader.hpp"
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

// Every attribute of every entry below `root` (the root included), one line
// each, sorted by path: type, mode, owner, mtime to the nanosecond, size,
// content, link target, device number, all xattrs, and the hardlink groups
// inside the tree (by inode, counted here: a link to a file of another
// layer does not show). The root's mtime is left out: a tar without a "./"
// entry leaves it at the time of the unpack.
std::string describe(const fs::path& root) {
    std::vector<fs::path> paths{root};
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        paths.push_back(it->path());
    std::sort(paths.begin(), paths.end());
    std::map<ino_t, std::string> first_path;
    std::string out;
    for (const auto& p : paths) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
        const std::string rel = "/" + p.lexically_relative(root).string();
        char line[256];
        snprintf(line, sizeof line, "%s %o %u:%u @%lld.%09ld", rel.c_str(), st.st_mode, st.st_uid,
                 st.st_gid, static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
        out += p == root ? std::string(line).substr(0, std::string(line).find(" @")) : line;
        if (S_ISREG(st.st_mode)) {
            out += " size=" + std::to_string(st.st_size) + " =" + read_text(p);
            auto [it, first] = first_path.try_emplace(st.st_ino, rel);
            if (!first) out += " same-inode-as=" + it->second;
        } else if (S_ISLNK(st.st_mode)) {
            out += " -> " + fs::read_symlink(p).string();
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            out += " dev=" + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev));
        }
        char names[4096];
        const ssize_t n = ::llistxattr(p.c_str(), names, sizeof names);
        std::set<std::string> keys;
        for (ssize_t off = 0; off < n; off += static_cast<ssize_t>(strlen(names + off)) + 1)
            keys.insert(names + off);
        for (const auto& k : keys) {
            char value[4096];
            const ssize_t v = ::lgetxattr(p.c_str(), k.c_str(), value, sizeof value);
            out += " xattr " + k + "=" + std::string(value, v > 0 ? static_cast<size_t>(v) : 0);
        }
        out += "\n";
    }
    return out;
}

// Unpacks `tar` as the layer store does (overlay whiteouts, owners kept)
// into a new directory `dir`, linking from `like` when given.
store::ApplyStats unpack(const std::string& tar, const fs::path& dir, const fs::path& like = {}) {
    const fs::path file = dir.string() + ".tar";
    write_text(file, tar);
    fs::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    store::ApplyOptions ao;
    ao.whiteouts = store::WhiteoutMode::kOverlay;
    ao.same_owner = true;
    ao.link_from = like;
    store::ApplyStats stats;
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::runtime_error("open " + file.string());
    store::apply_layer(fd.get(), dir, ao, &stats);
    return stats;
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

TEST_P(DirectCopyTar, UnpackedWithLinksIsTheSameTree) {
    const Row& row = GetParam();
    if (row.expect_error) GTEST_SKIP() << "an error row makes no layer";
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-direct-");
    const fs::path ctx = tmp.path() / "ctx";
    tree(ctx, row.context);
    tree(tmp.path() / "parent", row.parent);
    tree(tmp.path() / "stage", row.stage);
    if (row.prepare) row.prepare(ctx);
    const Outcome direct = run_one(row, true, tmp.path());
    ASSERT_TRUE(direct.error.empty()) << direct.error;
    const fs::path plain = tmp.path() / "plain", prev = tmp.path() / "prev",
                   linked = tmp.path() / "linked";
    unpack(direct.tar, plain);
    const std::string want = describe(plain);

    // The previous build gave the same layer: its files are linked.
    unpack(direct.tar, prev);
    const store::ApplyStats same = unpack(direct.tar, linked, prev);
    EXPECT_EQ(describe(linked), want);
    EXPECT_GT(same.linked, 0u) << "no file was linked from the earlier layer";

    // The previous build's files had other bytes (the last one of each,
    // size and times kept): each is made from the tar (after the prefix that
    // matched), never linked.
    const fs::path changed = tmp.path() / "changed", relinked = tmp.path() / "relinked";
    unpack(direct.tar, changed);
    std::set<ino_t> edited;
    for (auto it = fs::recursive_directory_iterator(changed);
         it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
            !edited.insert(st.st_ino).second)
            continue;
        UniqueFd fd(::open(it->path().c_str(), O_RDWR | O_CLOEXEC));
        ASSERT_TRUE(fd) << it->path();
        char c = 0;
        ASSERT_EQ(::pread(fd.get(), &c, 1, st.st_size - 1), 1);
        c = static_cast<char>(c ^ 0x5a);
        ASSERT_EQ(::pwrite(fd.get(), &c, 1, st.st_size - 1), 1);
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        ASSERT_EQ(::futimens(fd.get(), times), 0);
    }
    unpack(direct.tar, relinked, changed);
    EXPECT_EQ(describe(relinked), want);
    for (auto it = fs::recursive_directory_iterator(relinked);
         it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            EXPECT_FALSE(edited.count(st.st_ino)) << it->path() << " linked to an edited file";
        }
    }
}

// A file of the earlier layer is linked into the new one at most once (two
// of its names must not become a hardlink the tar does not have), and only
// when its metadata is the entry's too.
TEST(DirectCopyTarCheck, LinksNeitherJoinFilesNorIgnoreMetadata) {
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-direct-");
    tree(tmp.path() / "src", {"f x 0644 =same", "f y 0644 =same", "f z 0644 =zzz"});
    std::string tar;
    store::LayerWriteOptions lw;
    lw.compression = store::Compression::kNone;
    store::write_layer_to(
        tmp.path() / "src", {},
        [&tar](const void* d, size_t n) { tar.append(static_cast<const char*>(d), n); }, lw);
    const fs::path prev = tmp.path() / "prev";
    tree(prev, {"f x 0644 =same", "h y x", "f z 0600 =zzz"});
    const fs::path plain = tmp.path() / "plain", linked = tmp.path() / "linked";
    unpack(tar, plain);
    const store::ApplyStats stats = unpack(tar, linked, prev);
    EXPECT_EQ(describe(linked), describe(plain));
    EXPECT_EQ(stats.files, 3u);
    EXPECT_EQ(stats.linked, 1u) << "x or y linked, not both; z has another mode";
    struct stat x {};
    struct stat y {};
    ASSERT_EQ(::stat((linked / "x").c_str(), &x), 0);
    ASSERT_EQ(::stat((linked / "y").c_str(), &y), 0);
    EXPECT_NE(x.st_ino, y.st_ino);
}

// Record mode answers lstat() in the directories the tree made itself from
// what it put there (no system call: nothing else writes to a layer
// directory), and from the disk everywhere else.
TEST(DirectCopyTarCheck, RecordModeKnowsWhatItMadeInItsOwnDirectories) {
    auto tmp = TempDir::create(fs::temp_directory_path(), "strata-direct-");
    LayerTree t(tmp.path());
    t.record_files();
    EntryMeta meta;
    meta.mode = 0755;
    meta.uid = ::geteuid();
    meta.gid = ::getegid();
    const LayerTree::Dir d = t.make_dir(t.root(), "new", meta, false);
    EXPECT_FALSE(t.lstat(d, "x"));
    t.write_symlink(d, "l", "target", meta);
    t.write_file(d, "f", std::string_view("bytes"), meta);
    const LayerTree::Dir sub = t.make_dir(d, "sub", meta, false);
    t.write_symlink(sub, "deep", "x", meta);
    ASSERT_TRUE(t.lstat(d, "l"));
    EXPECT_TRUE(S_ISLNK(t.lstat(d, "l")->st_mode));
    EXPECT_TRUE(S_ISREG(t.lstat(d, "f")->st_mode));
    EXPECT_TRUE(S_ISDIR(t.lstat(d, "sub")->st_mode));
    t.remove(d, "l");
    EXPECT_FALSE(t.lstat(d, "l"));
    t.remove(d, "sub");
    EXPECT_FALSE(t.lstat(d, "sub"));
    const LayerTree::Dir again = t.make_dir(d, "sub", meta, false);
    EXPECT_FALSE(t.lstat(again, "deep")) << "what was below a removed directory is gone";
    // Written behind the tree's back: not seen in a directory it made (the
    // contract), seen where it did not make the directory.
    write_text(tmp.path() / "new/ghost", "g");
    write_text(tmp.path() / "outside", "o");
    EXPECT_FALSE(t.lstat(d, "ghost"));
    EXPECT_TRUE(t.lstat(t.root(), "outside"));
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
