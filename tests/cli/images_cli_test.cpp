// `strata images`, `strata tag`, `strata rmi` through the real binary.
#include "cli/image_cli_fixture.hpp"

#include <nlohmann/json.hpp>

#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace strata::imagetest {
namespace {

TEST_F(CliTest, ImagesTableLooksLikeDockers) {
    auto r = run_ok({"images"});
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 2u) << r.out;
    // The CREATED column is as wide as its widest value plus three, as Go's
    // tabwriter pads it, and that value depends on how long the import took
    // ("Less than a second ago" or "2 seconds ago" on a loaded machine).
    const std::string head = "REPOSITORY   TAG       IMAGE ID       CREATED";
    ASSERT_EQ(ls[0].rfind(head, 0), 0u) << ls[0];
    EXPECT_EQ(ls[1].rfind("busybox      latest    " + short_id() + "   ", 0), 0u) << ls[1];
    auto ago = ls[1].find(" ago");
    ASSERT_NE(ago, std::string::npos) << ls[1];
    auto size_col = ls[0].find("SIZE");
    ASSERT_NE(size_col, std::string::npos) << ls[0];
    EXPECT_EQ(size_col, ago + 4 + 3) << ls[0] << "\n" << ls[1];
    EXPECT_EQ(ls[0].substr(head.size(), size_col - head.size()),
              std::string(size_col - head.size(), ' '));
    EXPECT_EQ(ls[1].substr(size_col).find("MB"), ls[1].size() - size_col - 2) << ls[1];
}

TEST_F(CliTest, ImagesDigestsQuietJsonAndFilter) {
    run_ok({"tag", "busybox", "example.com/team/app:v2"});
    auto digests = run_ok({"images", "--digests"});
    EXPECT_NE(digests.out.find("DIGEST"), std::string::npos);
    EXPECT_NE(digests.out.find("sha256:"), std::string::npos);
    auto quiet = run_ok({"images", "-q"});
    EXPECT_EQ(quiet.out, short_id() + "\n" + short_id() + "\n");
    EXPECT_EQ(run_ok({"images", "-q=true"}).out, quiet.out);  // pflag's shorthand=value
    auto full = run_ok({"images", "-q", "--no-trunc"});
    EXPECT_EQ(lines(full.out)[0], id_);
    auto json = run_ok({"images", "--format", "json"});
    auto ls = lines(json.out);
    ASSERT_EQ(ls.size(), 2u);
    std::set<std::string> repos;
    for (const auto& l : ls) {
        auto j = nlohmann::json::parse(l);
        repos.insert(j["Repository"].get<std::string>());
        EXPECT_EQ(j["ID"], short_id());
        EXPECT_TRUE(j.contains("CreatedSince"));
        EXPECT_TRUE(j.contains("Size"));
    }
    EXPECT_EQ(repos, (std::set<std::string>{"busybox", "example.com/team/app"}));
    auto filtered = run_ok({"images", "example.com/team/app"});
    EXPECT_EQ(lines(filtered.out).size(), 2u);
    EXPECT_NE(filtered.out.find("v2"), std::string::npos);
    EXPECT_EQ(filtered.out.find("busybox"), std::string::npos);
    run_fail({"images", "--format", "xml"}, "--format");
    run_fail({"images", "Bad:Name"}, "invalid reference format");
}

// A pulled layer's size is unknown until it is first shown: `images`
// measures it once and keeps it; a layer that is not what its config says is
// a warning for `images`, `inspect` and `history`, which still answer, and
// an error for an export of its files, which writes none of them.
TEST_F(CliTest, ImagesMeasuresAnUnmeasuredLayerOnceAndWarnsWhenItLies) {
    // The listing without its CREATED column ("Less than a second ago"
    // turns into "1 second ago" between two calls on a slow machine).
    auto listing = [&] {
        std::string out;
        std::istringstream lines(run_ok({"images"}).out);
        for (std::string line; std::getline(lines, line);) {
            std::istringstream words(line);
            std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
            if (w.size() >= 4) out += w[0] + " " + w[1] + " " + w[2] + " " + w.back() + "\n";
        }
        return out;
    };
    const std::string before = listing();
    ASSERT_NE(before.find("busybox latest"), std::string::npos) << before;
    std::vector<fs::path> records;
    for (const auto& e : fs::directory_iterator(root_ / "images"))
        records.push_back(e.path());
    ASSERT_EQ(records.size(), 1u);
    // As a pull leaves it.
    auto forget_sizes = [&] {
        auto j = nlohmann::json::parse(read_file(records[0]));
        for (auto& l : j["layers"])
            l.erase("unpackedSize");
        write_file(records[0], j.dump());
    };
    forget_sizes();
    EXPECT_EQ(listing(), before);
    const auto j = nlohmann::json::parse(read_file(records[0]));
    ASSERT_EQ(j["layers"].size(), 1u);
    EXPECT_TRUE(j["layers"][0].contains("unpackedSize")) << j.dump();

    forget_sizes();
    const fs::path blob =
        root_ / "blobs" / "sha256" / j["layers"][0]["digest"].get<std::string>().substr(7);
    fs::remove(blob);
    write_file(blob, TarBuilder(true).file("not-busybox", "x").finish());
    auto r = strata(root_, {"images"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("busybox"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("warning: image " + short_id() + ": layer "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("but the image's config says"), std::string::npos) << r.err;
    for (const char* cmd : {"inspect", "history"}) {
        r = strata(root_, {cmd, "busybox"});
        EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
        EXPECT_NE(r.err.find("but the image's config says"), std::string::npos) << cmd << r.err;
    }
    // Exporting its files checks the layer before anything lands in the
    // user's directory.
    const fs::path ctx = dir_.path() / "ctx", out = dir_.path() / "out";
    write_file(ctx / "Dockerfile", "FROM busybox\n");
    r = strata(root_, {"build", "-q", "-o", "type=local,dest=" + out.string(), ctx.string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("but the image's config says"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out / "not-busybox"));
}

// `images -f` as Docker's image filters: dangling, label (every one must
// match), before/since (another image's creation), until, reference
// (path.Match against the name with and without its tag).
TEST_F(CliTest, ImagesFilterAsDocker) {
    const auto build = [&](const std::string& epoch, const std::string& text,
                           std::vector<std::string> tags) {
        std::vector<std::string> args = {"build", "-q", "--source-date-epoch", epoch};
        for (const auto& t : tags)
            args.insert(args.end(), {"-t", t});
        args.push_back("-");
        return run_ok(args, text).out.substr(7, 12);
    };
    const std::string old_id =
        build("1000000000", "FROM busybox\nLABEL tier=db owner=ops\n", {"team/old:1"});
    const std::string none_id = build("1500000000", "FROM busybox\nLABEL tier=none\n", {});
    const std::string new_id =
        build("1600000000", "FROM busybox\nLABEL tier=web\n", {"team/new:2", "other:x"});
    const auto ids = [&](std::vector<std::string> filters) {
        std::vector<std::string> args = {"images", "-q"};
        for (const auto& f : filters)
            args.insert(args.end(), {"-f", f});
        const auto ls = lines(run_ok(args).out);
        return std::set<std::string>(ls.begin(), ls.end());
    };
    using Ids = std::set<std::string>;
    EXPECT_EQ(ids({"dangling=true"}), Ids{none_id});
    EXPECT_EQ(ids({"dangling=false"}), (Ids{old_id, new_id, short_id()}));
    EXPECT_EQ(ids({"label=tier"}), (Ids{old_id, none_id, new_id}));
    EXPECT_EQ(ids({"label=tier=db"}), Ids{old_id});
    EXPECT_EQ(ids({"LABEL = tier", "label=owner=ops"}), Ids{old_id}) << "every label= matches";
    EXPECT_EQ(ids({"label=tier=db", "label=tier=web"}), Ids{});
    EXPECT_EQ(ids({"label=tier", "before=team/new:2"}), (Ids{old_id, none_id}));
    EXPECT_EQ(ids({"label=tier", "since=" + old_id}), (Ids{none_id, new_id}));
    EXPECT_EQ(ids({"label=tier", "until=1550000000"}), (Ids{old_id, none_id}));
    EXPECT_EQ(ids({"label=tier", "until=2001-09-10T00:00:00Z"}), Ids{old_id});
    EXPECT_EQ(ids({"label=tier", "until=1h"}), (Ids{old_id, none_id, new_id}));
    EXPECT_EQ(ids({"reference=team/old"}), Ids{old_id});
    EXPECT_EQ(ids({"reference=team/*:2"}), Ids{new_id});
    EXPECT_EQ(ids({"reference=*:x", "reference=team/old:*"}), (Ids{old_id, new_id}));
    EXPECT_EQ(ids({"reference=*"}), (Ids{new_id, short_id()})) << "* does not match a '/'";
    // Only the names reference= lets through are listed.
    const auto rows = lines(run_ok({"images", "-f", "reference=other"}).out);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].rfind("other        x ", 0), 0u) << rows[1];

    run_fail({"images", "-f", "bogus=1"}, "invalid filter 'bogus'");
    run_fail({"images", "-f", "dangling=maybe"}, "invalid filter 'dangling=maybe'");
    run_fail({"images", "-f", "dangling"}, "bad format of filter (expected name=value)");
    run_fail({"images", "-f", "before=nothere"}, "No such image: nothere");
    run_fail({"images", "-f", "until=soon"}, "failed to parse value as time or duration");
    run_fail({"images", "-f", "until=99999999999999999999999"},
             "failed to parse value as time or duration");
}

// Docker's management-command names (docker_groups.cpp) run strata's own
// commands: `image ls|rm|tag|inspect|history|prune`, `builder prune`,
// `system prune`, with Docker's prompts and output blocks.
TEST_F(CliTest, DockersImageBuilderAndSystemNames) {
    const auto has = [](const std::string& text, const std::string& needle) {
        return text.find(needle) != std::string::npos;
    };
    run_ok({"image", "tag", "busybox", "app:1"});
    EXPECT_EQ(run_ok({"image", "ls", "-q"}).out, run_ok({"images", "-q"}).out);
    // The same rows, but for CreatedSince, which may move on a second
    // between the two calls on a slow machine.
    const auto rows = [&](std::vector<std::string> args) {
        std::vector<nlohmann::json> out;
        for (const auto& l : lines(run_ok(args).out)) {
            auto j = nlohmann::json::parse(l);
            j.erase("CreatedSince");
            out.push_back(j);
        }
        return out;
    };
    EXPECT_EQ(rows({"image", "list", "--format", "json"}), rows({"images", "--format", "json"}));
    EXPECT_EQ(nlohmann::json::parse(run_ok({"image", "inspect", "app:1"}).out)[0]["Id"], id_);
    EXPECT_TRUE(has(run_ok({"image", "history", "app:1"}).out, "CREATED BY"));
    EXPECT_EQ(run_ok({"image", "rm", "app:1"}).out, "Untagged: app:1\n");

    // image prune: the nameless image; asked first unless -f.
    const std::string built =
        lines(run_ok({"build", "-q", "-"}, "FROM busybox\nLABEL x=1\n").out)[0];
    auto r = strata(root_, {"image", "prune"}, "n\n");
    EXPECT_EQ(r.out,
              "WARNING! This will remove all dangling images.\nAre you sure you want to continue? "
              "[y/N] ");
    EXPECT_TRUE(has(run_ok({"images", "-q", "--no-trunc"}).out, built));
    r = run_ok({"image", "prune", "-f"});
    EXPECT_EQ(r.out.rfind("Deleted Images:\ndeleted: " + built + "\n\nTotal reclaimed space: ", 0),
              0u)
        << r.out;
    EXPECT_EQ(run_ok({"images", "-q", "--no-trunc"}).out, id_ + "\n");

    // builder prune: the dangling build cache (a LABEL-only build has none);
    // -a: all of it (the kept parse too); asked first unless -f.
    r = strata(root_, {"builder", "prune"}, "n\n");
    EXPECT_EQ(r.out,
              "WARNING! This will remove all dangling build cache.\nAre you sure you want to "
              "continue? [y/N] ");
    r = run_ok({"builder", "prune", "-f"});
    EXPECT_EQ(r.out, "Total reclaimed space: 0B\n") << "internal records stay without -a";
    r = run_ok({"builder", "prune", "-a", "-f"});
    EXPECT_EQ(r.out.rfind("Deleted build cache objects:\nparsed Dockerfiles\n\n", 0), 0u) << r.out;

    // system prune: stopped containers, then images (-a: all without a
    // container), then the build cache.
    const std::string ctr =
        lines(run_ok({"create", "--network", "none", "--name", "idle", "busybox", "true"}).out)[0];
    r = run_ok({"system", "prune", "-f"});
    EXPECT_EQ(r.out.rfind("Deleted Containers:\n" + ctr + "\n\n", 0), 0u) << r.out;
    EXPECT_EQ(run_ok({"images", "-q", "--no-trunc"}).out, id_ + "\n") << "named: kept without -a";
    r = run_ok({"system", "prune", "-a", "-f"});
    EXPECT_TRUE(has(r.out, "Deleted Images:\nuntagged: busybox:latest\ndeleted: " + id_ + "\n"))
        << r.out;
    EXPECT_EQ(run_ok({"images", "-q"}).out, "");
}

// `system df`: Docker's four rows and its arithmetic (an image a container
// uses frees nothing of its own layers; a stopped container is reclaimable).
TEST_F(CliTest, SystemDfAsDocker) {
    auto ls = lines(run_ok({"system", "df"}).out);
    ASSERT_EQ(ls.size(), 5u);
    EXPECT_EQ(ls[0].rfind("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE", 0), 0u)
        << ls[0];
    EXPECT_EQ(ls[1].rfind("Images          1         0         1.9", 0), 0u) << ls[1];
    EXPECT_NE(ls[1].find("(100%)"), std::string::npos) << ls[1];
    EXPECT_EQ(ls[2], "Containers      0         0         0B        0B");
    EXPECT_EQ(ls[3], "Local Volumes   0         0         0B        0B");
    EXPECT_EQ(ls[4], "Build Cache     0         0         0B        0B");

    run_ok({"volume", "create", "kept"});
    run_ok({"create", "--network", "none", "-v", "kept:/data", "busybox", "true"});
    ls = lines(run_ok({"system", "df"}).out);
    ASSERT_EQ(ls.size(), 5u);
    EXPECT_EQ(ls[1].rfind("Images          1         1         1.9", 0), 0u) << ls[1];
    EXPECT_NE(ls[1].find(" 0B (0%)"), std::string::npos) << ls[1];
    EXPECT_EQ(ls[2].rfind("Containers      1         0         ", 0), 0u) << ls[2];
    EXPECT_EQ(ls[3].rfind("Local Volumes   1         1         ", 0), 0u) << ls[3];
}

TEST_F(CliTest, DanglingImagesShowAsNone) {
    auto r = strata(root_, {"import", tar_.string()});
    ASSERT_EQ(r.code, 0);
    auto out = run_ok({"images"}).out;
    EXPECT_NE(out.find("<none>       <none>"), std::string::npos) << out;
}

TEST_F(CliTest, TagHappyAndErrorPaths) {
    run_ok({"tag", "busybox", "mine"});
    run_ok({"tag", short_id(), "mine:2"});
    run_ok({"tag", id_, "localhost:5000/mine:3"});
    auto q = run_ok({"images", "--format", "json"});
    EXPECT_EQ(lines(q.out).size(), 4u);
    run_fail({"tag", "nothere", "x"}, "No such image: nothere");
    run_fail({"tag", "busybox", "x@sha256:" + std::string(64, 'a')}, "digest");
    run_fail({"tag", "busybox", "UPPER"}, "must be lowercase");
    run_fail({"tag", "busybox"}, "target");
}

TEST_F(CliTest, RmiLikeDocker) {
    run_ok({"tag", "busybox", "other/repo:1"});
    // By ID with names in two repositories: refused without -f.
    auto refused = run_fail({"rmi", short_id()}, "must be forced");
    EXPECT_EQ(refused.code, 1);
    // By name: untag only while other names remain.
    auto untag = run_ok({"rmi", "other/repo:1"});
    EXPECT_EQ(untag.out, "Untagged: other/repo:1\n");
    run_ok({"tag", "busybox", "other/repo:1"});
    auto forced = run_ok({"rmi", "-f", short_id()});
    EXPECT_EQ(forced.out,
              "Untagged: busybox:latest\nUntagged: other/repo:1\nDeleted: " + id_ + "\n");
    EXPECT_EQ(lines(run_ok({"images"}).out).size(), 1u);
    // Missing images: an error each, the others still go; exit 1.
    auto r = strata(root_, {"import", tar_.string(), "again"});
    ASSERT_EQ(r.code, 0);
    auto partial = run_fail({"rmi", "nothere", "again"}, "No such image: nothere");
    EXPECT_EQ(partial.code, 1);
    EXPECT_NE(partial.out.find("Untagged: again:latest"), std::string::npos);
    run_fail({"rmi"}, "images");
    EXPECT_EQ(run_ok({"store", "check"}).code, 0);
}

TEST_F(CliTest, StoreRootFromTheEnvironment) {
    auto r = run({STRATA_BINARY, "images", "-q"}, {}, {{"STRATA_ROOT", root_.string()}});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, short_id() + "\n");
    // --root wins over STRATA_ROOT.
    auto other = dir_.path() / "empty";
    r = run({STRATA_BINARY, "--root", other.string(), "images", "-q"}, {},
            {{"STRATA_ROOT", root_.string()}});
    EXPECT_EQ(r.out, "");
    // Without either, $XDG_DATA_HOME/strata for a non-root user: run as nobody.
    if (::geteuid() == 0 && have_tool("setpriv")) {
        auto xdg = dir_.path() / "xdg";
        fs::create_directories(xdg);
        ::chown(xdg.c_str(), 65534, 65534);
        ::chmod(dir_.path().c_str(), 0755);
        r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 "/usr/bin/env", "-u", "STRATA_ROOT", "XDG_DATA_HOME=" + xdg.string(),
                 STRATA_BINARY, "images"});
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_TRUE(fs::exists(xdg / "strata" / "names.json") ||
                    fs::exists(xdg / "strata" / "images"));
    }
}

TEST_F(CliTest, PermissionErrorsNameThePath) {
    if (::geteuid() != 0 || !have_tool("setpriv")) GTEST_SKIP() << "needs root to switch users";
    ::chmod(dir_.path().c_str(), 0755);
    auto r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  STRATA_BINARY, "--root", root_.string(), "tag", "busybox", "x"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(root_.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::imagetest
