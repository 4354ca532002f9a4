// Table-driven tests of Docker's COPY path rules: each row is a small build
// context, the parent image's state, the COPY arguments, and either the exact
// layer that must come out (modes, owners, link targets, contents) or the
// error it must fail with.
#include <gtest/gtest.h>

// Rows name only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

struct Row {
    std::string name;
    std::vector<std::string> context;  // tree() spec
    std::vector<std::string> parent;   // tree() spec of the parent image (one layer)
    std::vector<std::string> sources;
    std::string dest;
    std::vector<std::string> expected;  // snapshot() lines of the layer
    std::string error;                  // expected error substring (instead of `expected`)
    std::string workdir = "/";
    std::string chown, chmod;
    bool parents = false;
    std::vector<std::string> excludes;
    std::string dockerignore;
    std::vector<InlineSource> inline_sources;
};

const std::vector<std::string> kSrcTree = {
    "f a.txt 0644",   "f b.txt 0664",   "f c.md 0644",      "d src 0755",
    "f src/x.c 0600", "d src/sub 0700", "f src/sub/y 0644",
};

std::vector<Row> rows() {
    const auto& S = kSrcTree;
    const std::string multi =
        "When using COPY with more than one source file, the destination must be a directory "
        "and end with a /";
    return {
        {"FileToNewName", S, {}, {"a.txt"}, "/b.txt", {"f /b.txt 0644 0:0 =a.txt"}},
        {"FileIntoSlashDirCreated",
         S,
         {},
         {"a.txt"},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt"}},
        {"FileIntoExistingDirWithoutSlash",
         S,
         {"d app 0700 1:1"},
         {"a.txt"},
         "/app",
         {"d /app 0700 1:1", "f /app/a.txt 0644 0:0 =a.txt"}},
        {"FileToMissingNameWithoutSlash", S, {}, {"a.txt"}, "/app", {"f /app 0644 0:0 =a.txt"}},
        {"FileReplacesParentFile",
         S,
         {"f b.txt 0600 =old"},
         {"a.txt"},
         "/b.txt",
         {"f /b.txt 0644 0:0 =a.txt"}},
        {"FileIntoRoot", S, {}, {"a.txt"}, "/", {"f /a.txt 0644 0:0 =a.txt"}},
        {"DirectoryCopiesContents",
         S,
         {},
         {"src"},
         "/app",
         {"d /app 0755 0:0", "d /app/sub 0700 0:0", "f /app/sub/y 0644 0:0 =src/sub/y",
          "f /app/x.c 0600 0:0 =src/x.c"}},
        {"DirectoryWithSlashes",
         S,
         {},
         {"src/"},
         "/app/",
         {"d /app 0755 0:0", "d /app/sub 0700 0:0", "f /app/sub/y 0644 0:0 =src/sub/y",
          "f /app/x.c 0600 0:0 =src/x.c"}},
        {"DirectoryMergesIntoExistingKeepsItsMode",
         S,
         {"d app 0711 5:5", "f app/old 0644"},
         {"src"},
         "/app",
         {"d /app 0711 5:5", "d /app/sub 0700 0:0", "f /app/sub/y 0644 0:0 =src/sub/y",
          "f /app/x.c 0600 0:0 =src/x.c"}},
        {"DirectoryIntoRoot",
         S,
         {},
         {"src"},
         "/",
         {"d /sub 0700 0:0", "f /sub/y 0644 0:0 =src/sub/y", "f /x.c 0600 0:0 =src/x.c"}},
        {"DotCopiesWholeContext",
         {"f a.txt 0644", "d d 0750", "f d/e 0640"},
         {},
         {"."},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt", "d /app/d 0750 0:0",
          "f /app/d/e 0640 0:0 =d/e"}},
        {"MultipleSourcesIntoSlashDir",
         S,
         {},
         {"a.txt", "b.txt"},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt", "f /app/b.txt 0664 0:0 =b.txt"}},
        {"MultipleSourcesWithoutSlashFail", S, {}, {"a.txt", "b.txt"}, "/app", {}, multi},
        {"MultipleSourcesIntoExistingDir",
         S,
         {"d app 0755"},
         {"a.txt", "b.txt"},
         "/app",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt", "f /app/b.txt 0664 0:0 =b.txt"}},
        {"WildcardManyIntoDir",
         S,
         {},
         {"*.txt"},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt", "f /app/b.txt 0664 0:0 =b.txt"}},
        {"WildcardManyWithoutSlashFail", S, {}, {"*.txt"}, "/app", {}, multi},
        {"WildcardOneToFileName", S, {}, {"a*.txt"}, "/x", {"f /x 0644 0:0 =a.txt"}},
        {"WildcardCharacterClass",
         S,
         {},
         {"[ac].*"},
         "/o/",
         {"d /o 0755 0:0", "f /o/a.txt 0644 0:0 =a.txt", "f /o/c.md 0644 0:0 =c.md"}},
        {"WildcardNoMatchFails", S, {}, {"*.none"}, "/app/", {}, "no source files were specified"},
        {"WildcardNoMatchNextToLiteral",
         S,
         {},
         {"*.none", "a.txt"},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt"}},
        {"WildcardDirectoriesGiveTheirContents",
         {"d d1 0755", "f d1/a 0644", "d d2 0755", "f d2/b 0600", "f dxx 0644"},
         {},
         {"d?"},
         "/out/",
         {"d /out 0755 0:0", "f /out/a 0644 0:0 =d1/a", "f /out/b 0600 0:0 =d2/b"}},
        {"WildcardInDirectoryPart",
         {"d p1 0755", "f p1/pkg.json 0644", "d p2 0755", "f p2/pkg.json 0600", "f p2/x 0644"},
         {},
         {"*/pkg.json"},
         "/out/",
         {"d /out 0755 0:0", "f /out/pkg.json 0600 0:0 =p2/pkg.json"}},
        {"MissingLiteralNamesIt", S, {}, {"nope.txt"}, "/app/", {}, "\"/nope.txt\": not found"},
        {"RelativeDestUsesWorkdir",
         S,
         {},
         {"a.txt"},
         "rel/",
         {"d /work 0755 0:0", "d /work/rel 0755 0:0", "f /work/rel/a.txt 0644 0:0 =a.txt"},
         "",
         "/work"},
        {"DotDestIsWorkdirDirectory",
         S,
         {"d app 0750 7:7"},
         {"a.txt", "b.txt"},
         ".",
         {"d /app 0750 7:7", "f /app/a.txt 0644 0:0 =a.txt", "f /app/b.txt 0664 0:0 =b.txt"},
         "",
         "/app"},
        {"DotDestCreatesWorkdir",
         S,
         {},
         {"a.txt"},
         ".",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt"},
         "",
         "/app"},
        {"SlashDotDest",
         S,
         {},
         {"a.txt"},
         "/app/.",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt"}},
        {"DeepParentsCreated0755",
         S,
         {},
         {"a.txt"},
         "/x/y/z/file",
         {"d /x 0755 0:0", "d /x/y 0755 0:0", "d /x/y/z 0755 0:0",
          "f /x/y/z/file 0644 0:0 =a.txt"}},
        {"ExistingParentsCopiedUp",
         S,
         {"d usr 0755", "d usr/share 0775 0:50"},
         {"a.txt"},
         "/usr/share/doc/",
         {"d /usr 0755 0:0", "d /usr/share 0775 0:50", "d /usr/share/doc 0755 0:0",
          "f /usr/share/doc/a.txt 0644 0:0 =a.txt"}},
        {"SymlinkInsideDirectoryStaysSymlink",
         {"f a.txt 0644", "d dir 0755", "l dir/lnk ../a.txt"},
         {},
         {"dir"},
         "/app/",
         {"d /app 0755 0:0", "l /app/lnk -> ../a.txt 0:0"}},
        {"TopLevelSymlinkIsFollowed",
         {"f a.txt 0640", "l lnk a.txt"},
         {},
         {"lnk"},
         "/app/",
         {"d /app 0755 0:0", "f /app/lnk 0640 0:0 =a.txt"}},
        {"SymlinkOutOfContextFails",
         {"l out /etc/passwd"},
         {},
         {"out"},
         "/x",
         {},
         "leads outside the build context"},
        {"RelativeSymlinkOutOfContextFails",
         {"d d 0755", "l d/up ../../secret"},
         {},
         {"d/up"},
         "/x",
         {},
         "leads outside the build context"},
        {"DotDotSourceFails", S, {}, {"../a.txt"}, "/x", {}, "outside the build context"},
        {"DestThroughParentSymlink",
         S,
         {"d opt/bin 0755", "d usr/local 0755", "l usr/local/bin /opt/bin"},
         {"a.txt"},
         "/usr/local/bin/",
         {"d /opt 0755 0:0", "d /opt/bin 0755 0:0", "f /opt/bin/a.txt 0644 0:0 =a.txt"}},
        {"DestSymlinkClimbingOutStaysInRoot",
         S,
         {"l evil ../../../outside"},
         {"a.txt"},
         "/evil/",
         {"d /outside 0755 0:0", "f /outside/a.txt 0644 0:0 =a.txt"}},
        {"DirectoryOntoParentFileFails",
         S,
         {"f app 0644"},
         {"src"},
         "/app",
         {},
         "cannot copy to non-directory: /app"},
        {"FileBelowParentFileFails", S, {"f app 0644"}, {"a.txt"}, "/app/x", {}, "not a directory"},
        {"ContextOwnersBecomeRoot",
         {"f own 0640 1000:1001", "d od 0750 1000:1000", "f od/in 0600 1000:1000"},
         {},
         {"own", "od"},
         "/t/",
         {"d /t 0755 0:0", "f /t/in 0600 0:0 =od/in", "f /t/own 0640 0:0 =own"}},
        {"HardlinksKept",
         {"f a 0644", "h b a", "f c 0644"},
         {},
         {"."},
         "/h/",
         {"d /h 0755 0:0", "f /h/a 0644 0:0 =a #1", "f /h/b 0644 0:0 =a #1", "f /h/c 0644 0:0 =c"}},
        {"ChmodOctalAppliesToACreatedTopDirectory",  // current BuildKit (fsutil #228)
         S,
         {},
         {"src"},
         "/app",
         {"d /app 0700 0:0", "d /app/sub 0700 0:0", "f /app/sub/y 0700 0:0 =src/sub/y",
          "f /app/x.c 0700 0:0 =src/x.c"},
         "",
         "/",
         "",
         "0700"},
        {"ChmodSymbolic", S, {}, {"b.txt"}, "/b", {"f /b 0744 0:0 =b.txt"}, "", "/", "", "u+x,g-w"},
        {"ChownIdAlsoOwnsCreatedParents",
         S,
         {},
         {"a.txt"},
         "/app/",
         {"d /app 0755 1000:1000", "f /app/a.txt 0644 1000:1000 =a.txt"},
         "",
         "/",
         "1000"},
        {"ChownIdsLeaveExistingParents",
         S,
         {"d app 0755 3:3"},
         {"a.txt"},
         "/app/new/",
         {"d /app 0755 3:3", "d /app/new 0755 10:20", "f /app/new/a.txt 0644 10:20 =a.txt"},
         "",
         "/",
         "10:20"},
        {"ExcludeMatchesRelativeToCopiedDirectory",
         {"f a.txt 0644", "f c.md 0644", "d docs 0755", "f docs/x.md 0644"},
         {},
         {"."},
         "/app/",
         {"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt", "d /app/docs 0755 0:0",
          "f /app/docs/x.md 0644 0:0 =docs/x.md"},
         "",
         "/",
         "",
         "",
         false,
         {"*.md"}},
        {"ParentsKeepsStructure",
         S,
         {},
         {"src/sub/y"},
         "/app/",
         {"d /app 0755 0:0", "d /app/src 0755 0:0", "d /app/src/sub 0700 0:0",
          "f /app/src/sub/y 0644 0:0 =src/sub/y"},
         "",
         "/",
         "",
         "",
         true},
        {"ParentsPivot",
         S,
         {},
         {"./src/./sub/y"},
         "/app/",
         {"d /app 0755 0:0", "d /app/sub 0700 0:0", "f /app/sub/y 0644 0:0 =src/sub/y"},
         "",
         "/",
         "",
         "",
         true},
        {"DockerignoredSourceIsMissing",
         {"f a.txt 0644", "f secret 0600"},
         {},
         {"secret"},
         "/x",
         {},
         "not found in the build context",
         "/",
         "",
         "",
         false,
         {},
         "secret\n"},
        {"DockerignoredFilesSkippedInDirectory",
         {"f a.txt 0644", "f secret 0600", "d keep 0755", "f keep/k 0644"},
         {},
         {"."},
         "/c/",
         {"d /c 0755 0:0", "f /c/a.txt 0644 0:0 =a.txt", "d /c/keep 0755 0:0",
          "f /c/keep/k 0644 0:0 =keep/k"},
         "",
         "/",
         "",
         "",
         false,
         {},
         "secret\n"},
        {"HeredocSource",
         {},
         {},
         {},
         "/etc/motd",
         {"d /etc 0755 0:0", "f /etc/motd 0644 0:0 =hello"},
         "",
         "/",
         "",
         "",
         false,
         {},
         "",
         {{"EOF", "hello"}}},
    };
}

class PathRules : public ::testing::TestWithParam<Row> {};

TEST_P(PathRules, Layer) {
    const Row& row = GetParam();
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-exec-");
    const fs::path ctx = tmp.path() / "ctx", parent = tmp.path() / "parent",
                   layer = tmp.path() / "layer";
    tree(ctx, row.context);
    tree(parent, row.parent);
    fs::create_directories(layer);
    BuildContext context(ctx, frontend::DockerIgnore::parse(row.dockerignore, ".dockerignore"));
    LayerStackView below({parent});
    CopyRequest req;
    req.sources = row.sources;
    req.dest = row.dest;
    req.workdir = row.workdir;
    req.chown = row.chown;
    req.chmod = row.chmod;
    req.parents = row.parents;
    req.excludes = row.excludes;
    req.inline_sources = row.inline_sources;
    if (!row.error.empty()) {
        try {
            run_copy(req, context, below, layer);
            FAIL() << "expected an error containing: " << row.error << "\nlayer:\n"
                   << join_lines(snapshot(layer));
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(row.error), std::string::npos) << e.what();
        }
        return;
    }
    run_copy(req, context, below, layer);
    auto got = snapshot(layer);
    auto want = row.expected;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(join_lines(got), join_lines(want));
    // Nothing may appear next to the three trees.
    size_t n = 0;
    for (auto it = fs::directory_iterator(tmp.path()); it != fs::directory_iterator(); ++it)
        ++n;
    EXPECT_EQ(n, 3u);
}

INSTANTIATE_TEST_SUITE_P(Copy, PathRules, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

}  // namespace
}  // namespace strata::executor
