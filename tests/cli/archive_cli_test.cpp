// `strata save`, `load`, `import`, `prune`, `store check` through the real binary.
#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

TEST_F(CliTest, SaveToFileAndStdoutGiveTheSameBytes) {
    auto file = dir_.path() / "out.tar";
    run_ok({"save", "-o", file.string(), "busybox"});
    auto stdout_bytes = run_ok({"save", "busybox:latest"}).out;
    EXPECT_TRUE(read_file(file) == stdout_bytes);
    auto entries = tar_entries(stdout_bytes);
    EXPECT_TRUE(entries.count("manifest.json"));
    EXPECT_TRUE(entries.count("index.json"));
    EXPECT_TRUE(entries.count("oci-layout"));
    EXPECT_TRUE(entries.count("repositories"));
}

TEST_F(CliTest, RoundTripThroughAnotherRootIsByteIdentical) {
    auto a = dir_.path() / "a.tar";
    auto b = dir_.path() / "b.tar";
    run_ok({"save", "-o", a.string(), "busybox"});
    auto other = dir_.path() / "other";
    auto load = strata(other, {"load", "-i", a.string()});
    EXPECT_EQ(load.code, 0) << load.err;
    EXPECT_EQ(load.out, "Loaded image: busybox:latest\n");
    auto save = strata(other, {"save", "-o", b.string(), "busybox"});
    EXPECT_EQ(save.code, 0) << save.err;
    EXPECT_TRUE(read_file(a) == read_file(b)) << "save → load → save changed the tarball";
}

TEST_F(CliTest, SaveErrors) {
    run_fail({"save", "-o", (dir_.path() / "x.tar").string(), "nothere"}, "No such image: nothere");
    EXPECT_FALSE(fs::exists(dir_.path() / "x.tar"));  // no partial file
    run_fail({"save", "-o", "/nonexistent-dir/x/y.tar", "busybox"}, "/nonexistent-dir/x");
    run_fail({"save"}, "images");
}

TEST_F(CliTest, LoadFromStdinGzipAndUnnamed) {
    auto saved = run_ok({"save", "busybox"}).out;
    auto other = dir_.path() / "other";
    auto r = strata(other, {"load"}, saved);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Loaded image: busybox:latest\n");
    // gzip-compressed, into a store where the name points elsewhere.
    write_file(dir_.path() / "s.tar", saved);
    ASSERT_EQ(shell("gzip -k '" + (dir_.path() / "s.tar").string() + "'"), 0);
    auto imported = strata(other, {"import", tar_.string(), "busybox"});
    ASSERT_EQ(imported.code, 0);
    r = strata(other, {"load", "-q", "-i", (dir_.path() / "s.tar.gz").string()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("The image busybox:latest already exists, renaming the old one with ID " +
                         imported.out.substr(0, 71) + " to empty string"),
              std::string::npos)
        << r.out;
    // Saved by ID: no names.
    auto by_id = run_ok({"save", short_id()}).out;
    auto third = dir_.path() / "third";
    r = strata(third, {"load"}, by_id);
    EXPECT_EQ(r.out, "Loaded image ID: " + id_ + "\n");
}

TEST_F(CliTest, LoadErrorsLeaveTheStoreAlone) {
    // (save first: it adds the compressed copy of the layer and its memo)
    auto saved = run_ok({"save", "busybox"}).out;
    auto before = snapshot(root_);
    run_fail({"load", "-i", (dir_.path() / "missing.tar").string()}, "missing.tar");
    run_fail({"load", "-i", tar_.string()}, "not an image archive");
    run_fail({"load", "-i", dir_.path().string()}, "is a directory: give a tar archive");
    run_fail({"load"}, "cannot open the tar stream",
             "garbage that is not a tar archive at all, clearly");
    std::string evil = TarBuilder().file("../../escape", "x").finish();
    run_fail({"load"}, "'../../escape'", evil);
    run_fail({"load"}, "Truncated", saved.substr(0, saved.size() / 2));
    EXPECT_EQ(snapshot(root_), before);
    EXPECT_EQ(run_ok({"store", "check"}).code, 0);
}

TEST_F(CliTest, ImportVariants) {
    // From stdin, with changes and a message; printing the image ID like docker import.
    auto r = strata(
        root_,
        {"import", "-c", "ENV A=1", "-c", "WORKDIR /root", "-m", "from a pipe", "-", "piped:1"},
        read_file(tar_));
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(r.out.rfind("sha256:", 0), 0u);
    auto j = nlohmann::json::parse(run_ok({"inspect", "piped:1"}).out)[0];
    EXPECT_EQ(j["Config"]["Env"], nlohmann::json::array({"A=1"}));
    EXPECT_EQ(j["Config"]["WorkingDir"], "/root");
    auto hist =
        nlohmann::json::parse(lines(run_ok({"history", "--format", "json", "piped:1"}).out)[0]);
    EXPECT_EQ(hist["Comment"], "from a pipe");
    // SOURCE_DATE_EPOCH pins the ID.
    auto a =
        strata(root_, {"import", tar_.string(), "pinned:a"}, {}, {{"SOURCE_DATE_EPOCH", "1000"}});
    auto b =
        strata(root_, {"import", tar_.string(), "pinned:b"}, {}, {{"SOURCE_DATE_EPOCH", "1000"}});
    EXPECT_EQ(a.out, b.out);
    // Errors.
    run_fail({"import", (dir_.path() / "none.tar").string(), "x"}, "none.tar");
    run_fail({"import", "-c", "RUN make", tar_.string(), "x"}, "unsupported instruction");
    run_fail({"import", tar_.string(), "Not/Valid"}, "invalid reference format");
    run_fail({"import", "--compression", "lz4", tar_.string()}, "lz4");
    run_fail({"import", "-"}, "layer tar", "not a tar");
    run_fail({"import", dir_.path().string(), "x"}, "is a directory: give a tar archive");
    EXPECT_EQ(run_ok({"store", "check"}).code, 0);
}

TEST_F(CliTest, PruneAndStoreCheck) {
    auto r = run_ok({"store", "check"});
    EXPECT_NE(r.out.find("3 blob(s), 1 image(s), 1 name(s)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no problems"), std::string::npos);
    auto nothing = run_ok({"prune"});
    EXPECT_EQ(nothing.out, "Total reclaimed space: 0B\n");
    // Remove the image's last name: its blobs go with rmi, an unnamed import stays until
    // --dangling.
    ASSERT_EQ(strata(root_, {"import", tar_.string()}).code, 0);
    run_ok({"rmi", "busybox"});
    auto dangling = run_ok({"prune", "--dangling"});
    EXPECT_NE(dangling.out.find("Deleted image: sha256:"), std::string::npos) << dangling.out;
    EXPECT_NE(dangling.out.find("Deleted blob: sha256:"), std::string::npos);
    EXPECT_NE(dangling.out.find("Total reclaimed space: "), std::string::npos);
    EXPECT_EQ(run_ok({"images", "-q"}).out, "");
    // Damage a blob: check names it and exits 1.
    ASSERT_EQ(strata(root_, {"import", tar_.string(), "again"}).code, 0);
    auto json = nlohmann::json::parse(run_ok({"inspect", "again"}).out)[0];
    std::string config_hex = json["Id"].get<std::string>().substr(7);
    write_file(root_ / "blobs" / "sha256" / config_hex, "{}");
    auto bad = strata(root_, {"store", "check"});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.out.find("problem: blob sha256:" + config_hex), std::string::npos) << bad.out;
    auto fast = strata(root_, {"store", "check", "--fast", "-q"});
    EXPECT_EQ(fast.code, 1);
}

// A full disk while importing: the error names the path, the store is as before.
TEST_F(CliTest, DiskFullNamesThePathAndLeavesTheStoreReadable) {
    if (::geteuid() != 0 || !have_tool("unshare"))
        GTEST_SKIP() << "needs root to mount a small tmpfs";
    auto big = dir_.path() / "big";
    fs::create_directories(big);
    ASSERT_EQ(shell("head -c 8000000 /dev/urandom > '" + (big / "blob").string() + "' && cd '" +
                    big.string() + "' && tar -cf big.tar blob"),
              0);
    auto mnt = dir_.path() / "mnt";
    fs::create_directories(mnt);
    std::string s = STRATA_BINARY, m = mnt.string();
    std::string script =
        "set -u; mount -t tmpfs -o size=6m tmpfs '" + m + "' || exit 77; '" + s + "' --root '" + m +
        "/root' import '" + tar_.string() + "' small >/dev/null || exit 3; '" + s + "' --root '" +
        m + "/root' import '" + (big / "big.tar").string() + "' big; echo \"import-rc=$?\"; '" + s +
        "' --root '" + m + "/root' store check; echo \"check-rc=$?\"; '" + s + "' --root '" + m +
        "/root' images -q";
    auto r = run({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script});
    if (r.code == 77) GTEST_SKIP() << "cannot mount tmpfs here";
    EXPECT_NE(r.out.find("import-rc=1"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(m + "/root"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("check-rc=0"), std::string::npos) << r.out;
}

TEST_F(CliTest, HelpListsTheImageCommands) {
    auto r = run({STRATA_BINARY, "--help"});
    for (const char* c :
         {"images", "tag", "rmi", "inspect", "history", "save", "load", "import", "prune", "store"})
        EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

}  // namespace
}  // namespace strata::imagetest
