// What a build makes durable, counted: strace lists every fsync of a cold
// build (RUN, COPY, RUN) and each one must be one the store's rules call
// for (docs/store-layers.md, docs/performance.md): a new blob's bytes, the
// blobs directory once before the image record, the record, the name.
// Unpacked layers (trusted per boot), cache entries and memos (hints) and
// the blobs directory per blob are never synced. Skipped when strata cannot
// run a RUN here (not root) or strace is absent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <regex>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class FsyncBudget : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "RUN steps need root";
        if (::access("/usr/bin/strace", X_OK) != 0)
            GTEST_SKIP() << "strace is not installed (apt-get install strace)";
        CliTest::SetUp();
    }

    // Runs strata with `args` under strace, tracing the calls `trace`
    // names in every thread; leaves strace's log in last_log_.
    void traced(const std::string& trace, const std::vector<std::string>& args) {
        const fs::path log = dir_.path() / "strace.log";
        std::vector<std::string> argv = {
            "/usr/bin/strace", "-f",          "-y",     "-qq",         "-e", "trace=" + trace, "-o",
            log.string(),      STRATA_BINARY, "--root", root_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        // LeakSanitizer cannot run under ptrace (an ASan build of the
        // tests): strata is traced with its leak check off.
        const char* asan = std::getenv("ASAN_OPTIONS");
        const std::string asan_options =
            (asan && *asan ? std::string(asan) + ":" : std::string()) + "detect_leaks=0";
        const RunResult r = run(argv, {}, {{"ASAN_OPTIONS", asan_options}});
        EXPECT_EQ(r.code, 0) << r.err;
        last_log_ = read_file(log);
    }

    // The files and directories fsynced (or fdatasynced, or syncfs'ed) while
    // strata ran `args`, relative to the store root, "tmp/blob-*" for a
    // blob's temp file; with how often.
    std::map<std::string, int> synced(const std::vector<std::string>& args) {
        traced("fsync,fdatasync,syncfs", args);
        std::map<std::string, int> out;
        const std::regex call(R"((fsync|fdatasync|syncfs)\(\d+<([^>]*)>)");
        const std::string root = root_.string() + "/";
        for (const std::string& line : split_lines(last_log_)) {
            std::smatch m;
            if (!std::regex_search(line, m, call)) continue;
            std::string path = m[2].str();
            if (path.rfind(root, 0) == 0) path = path.substr(root.size());
            if (path == root_.string()) path = ".";
            if (path.rfind("tmp/blob-", 0) == 0) path = "tmp/blob-*";
            if (path.rfind("images/.", 0) == 0) path = "images/.<record>.tmp";
            if (path.rfind(".names.json.tmp", 0) == 0) path = ".names.json.tmp";
            out[m[1].str() == "fsync" ? path : m[1].str() + " " + path] += 1;
        }
        return out;
    }

    std::string last_log_;  // strace's, shown when an expectation fails

    static std::vector<std::string> split_lines(const std::string& text) {
        std::vector<std::string> lines;
        size_t start = 0;
        for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
            lines.push_back(text.substr(start, nl - start));
        return lines;
    }
};

TEST_F(FsyncBudget, AColdBuildSyncsItsBlobsAndItsImageAndNothingElse) {
    const fs::path ctx = dir_.path() / "ctx";
    write_file(ctx / "a.txt", "hi\n");
    write_file(ctx / "Dockerfile",
               // Each RUN's layer differs from build to build (not only when
               // a second passed): the rebuild below writes them again.
               "FROM busybox\nRUN cat /proc/sys/kernel/random/uuid > /one\nCOPY a.txt /a.txt\n"
               "RUN cat /a.txt /proc/sys/kernel/random/uuid > /b.txt\n");
    const auto first = synced({"build", "--network", "none", "-q", "-t", "app", ctx.string()});
    // Three layers, the config and the manifest: each blob's bytes once; the
    // blobs directory once, before the image record; the record and the
    // name, each with its directory.
    const std::map<std::string, int> expected = {
        {"tmp/blob-*", 5}, {"blobs/sha256", 1},    {"images/.<record>.tmp", 1},
        {"images", 1},     {".names.json.tmp", 1}, {".", 1},
    };
    EXPECT_EQ(first, expected) << last_log_;

    // Rebuilt without the cache: the COPY's layer is the same blob as
    // before (compared, not written), the RUN layers are new.
    const auto again =
        synced({"build", "--no-cache", "--network", "none", "-q", "-t", "app", ctx.string()});
    EXPECT_EQ(again.at("tmp/blob-*"), 4) << "two RUN layers, a config, a manifest\n" << last_log_;
    EXPECT_EQ(again.at("blobs/sha256"), 1);
    for (const auto& [path, n] : again)
        EXPECT_TRUE(expected.count(path)) << path << " was synced " << n << " time(s)";
}

// The order in which a build's image becomes durable, from strace's view of
// every fsync and rename (in whichever thread): each file fsynced before its
// rename; the blobs directory synced before the record is renamed into
// images/, images/ synced before names.json is replaced, and the root last.
// Several of these run at once on the thread pool; this order must hold.
TEST_F(FsyncBudget, TheImageBecomesDurableBlobsThenRecordThenName) {
    const fs::path ctx = dir_.path() / "ctx";
    write_file(ctx / "a.txt", "hi\n");
    write_file(ctx / "Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\n");
    traced("fsync,rename,renameat2", {"build", "-q", "-t", "app", ctx.string()});
    ASSERT_FALSE(last_log_.empty());

    // When (line number) each call returned; the calls strace split across
    // lines ("<unfinished ...>", "<... fsync resumed>") count at the second.
    struct Done {
        std::string call, from, to;  // fsync: `from` is the file; rename: from → to
        size_t at;
    };
    std::vector<Done> done;
    std::map<std::string, std::string> pending;  // pid → the call's first part
    const std::regex line_re(R"(^(\d+)\s+(.*)$)");
    const std::regex fsync_re(R"(^fsync\(\d+<([^>]*)>)");
    const std::regex rename_re(
        R"(^rename(?:at2)?\((?:[^,]*, )?\"([^\"]*)\", (?:[^,]*, )?\"([^\"]*)\")");
    const auto lines = split_lines(last_log_);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (!std::regex_match(lines[i], m, line_re)) continue;
        const std::string pid = m[1].str();
        std::string call = m[2].str();
        if (call.find("<unfinished ...>") != std::string::npos) {
            pending[pid] = call;
            continue;
        }
        if (call.rfind("<... ", 0) == 0) call = pending[pid];
        std::smatch c;
        if (std::regex_search(call, c, fsync_re))
            done.push_back({"fsync", c[1].str(), "", i});
        else if (std::regex_search(call, c, rename_re))
            done.push_back({"rename", c[1].str(), c[2].str(), i});
    }
    const std::string root = root_.string();
    auto when = [&](const std::string& call, const std::string& path, bool to = true) {
        for (const Done& d : done)
            if (d.call == call && ((call == "fsync" || !to) ? d.from : d.to) == path) return d.at;
        ADD_FAILURE() << call << " " << path << " not found\n" << last_log_;
        return size_t{0};
    };
    std::string record;
    for (const Done& d : done)
        if (d.call == "rename" && d.to.rfind(root + "/images/", 0) == 0) record = d.to;
    ASSERT_FALSE(record.empty()) << last_log_;
    EXPECT_LT(when("fsync", root + "/blobs/sha256"), when("rename", record)) << last_log_;
    EXPECT_LT(when("rename", record), when("fsync", root + "/images")) << last_log_;
    EXPECT_LT(when("fsync", root + "/images"), when("rename", root + "/names.json")) << last_log_;
    EXPECT_LT(when("rename", root + "/names.json"), when("fsync", root)) << last_log_;
    // Every file renamed into blobs/, images/ or names.json was fsynced
    // first, under its temp name.
    int renamed = 0;
    for (const Done& d : done) {
        // (Cache entries, kept parses and build records are hints: never synced.)
        const bool durable = d.to.rfind(root + "/blobs/", 0) == 0 ||
                             d.to.rfind(root + "/images/", 0) == 0 || d.to == root + "/names.json";
        if (d.call != "rename" || !durable) continue;
        ++renamed;
        EXPECT_LT(when("fsync", d.from), d.at) << d.from << "\n" << last_log_;
    }
    EXPECT_GE(renamed, 5) << "a layer, the config, the manifest, the record, the names\n"
                          << last_log_;
}

}  // namespace
}  // namespace strata::imagetest
