// strata diff / commit / export / cp on a container that `strata run` made
// from busybox: the files it wrote and deleted, seen as docker shows them.
#include <unistd.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class ContainerFsCliTest : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "strata run needs root here (or a rootless setup)";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no /bin/busybox for the image";
        CliTest::SetUp();
        if (HasFatalFailure()) return;
        auto r = strata(root_, {"run", "--name", "fs", "busybox", "sh", "-c",
                                "echo hi > /new.txt && rm /etc/motd && echo x >> /etc/passwd "
                                "&& mkdir -p /data/sub"});
        ASSERT_EQ(r.code, 0) << r.err;
    }
};

TEST_F(ContainerFsCliTest, DiffListsTheChangesAsDockerDoes) {
    auto r = run_ok({"diff", "fs"});
    // Mount points the sandbox made (/dev, /proc, /sys, /etc/hosts, ...)
    // are no changes.
    EXPECT_EQ(r.out,
              "A /data\n"
              "A /data/sub\n"
              "C /etc\n"
              "D /etc/motd\n"
              "C /etc/passwd\n"
              "A /new.txt\n");
    auto j = nlohmann::json::parse(run_ok({"diff", "--format", "json", "fs"}).out);
    ASSERT_EQ(j.size(), 6u);
    EXPECT_EQ(j[3]["Kind"], 2);
    EXPECT_EQ(j[3]["Path"], "/etc/motd");
    // Two arguments still compare images.
    auto same = strata(root_, {"diff", "busybox", "busybox"});
    EXPECT_EQ(same.code, 0) << same.err;
}

TEST_F(ContainerFsCliTest, CommitMakesAnImageThatRunsWithTheChange) {
    auto r = run_ok({"commit", "-m", "added new.txt", "-a", "Jane <jane@example.com>", "-c",
                     "CMD [\"cat\", \"/new.txt\"]", "fs", "committed:v1"});
    ASSERT_EQ(r.out.size(), 72u) << r.out;  // "sha256:<64 hex>\n"
    EXPECT_EQ(r.out.substr(0, 7), "sha256:");
    auto inspect = nlohmann::json::parse(run_ok({"inspect", "committed:v1"}).out);
    ASSERT_TRUE(inspect.is_array());
    const auto& img = inspect[0];
    EXPECT_EQ(img["Id"], r.out.substr(0, 71));
    EXPECT_EQ(img["Config"]["Cmd"], nlohmann::json::array({"cat", "/new.txt"}));
    EXPECT_EQ(img["Author"], "Jane <jane@example.com>");
    EXPECT_EQ(img["Comment"], "added new.txt");
    // The committed image runs with the container's files.
    auto out = strata(root_, {"run", "--rm", "committed:v1"});
    EXPECT_EQ(out.code, 0) << out.err;
    EXPECT_EQ(out.out, "hi\n");
    auto motd = strata(root_, {"run", "--rm", "committed:v1", "cat", "/etc/motd"});
    EXPECT_NE(motd.code, 0) << "the deleted file is gone in the committed image";
    // Instructions docker commit does not take are refused in its words.
    run_fail({"commit", "-c", "RUN true", "fs"}, "RUN is not a valid change command");
}

// The committed image read back by independent readers: skopeo sees the
// config and history, umoci unpacks the files (the deleted one absent).
TEST_F(ContainerFsCliTest, CommittedImageReadsBackWithSkopeoAndUmoci) {
    if (!have_tool("skopeo") || !have_tool("umoci"))
        GTEST_SKIP() << "skopeo and umoci are needed (apt-get install skopeo umoci)";
    run_ok({"commit", "-m", "added new.txt", "-a", "Jane <jane@example.com>", "-c",
            "CMD [\"cat\", \"/new.txt\"]", "fs", "committed:v2"});
    const fs::path archive = dir_.path() / "committed.tar";
    run_ok({"save", "-o", archive.string(), "committed:v2"});
    auto cfg = run({"/bin/sh", "-c", "skopeo inspect --config docker-archive:" + archive.string()});
    ASSERT_EQ(cfg.code, 0) << cfg.err;
    const auto config = nlohmann::json::parse(cfg.out);
    EXPECT_EQ(config["config"]["Cmd"], nlohmann::json::array({"cat", "/new.txt"}));
    EXPECT_EQ(config["author"], "Jane <jane@example.com>");
    const auto& history = config["history"];
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back()["comment"], "added new.txt");
    EXPECT_EQ(history.back()["author"], "Jane <jane@example.com>");
    EXPECT_EQ(config["rootfs"]["diff_ids"].size(), 2u);  // busybox's layer + the container's
    const fs::path oci = dir_.path() / "oci", bundle = dir_.path() / "bundle";
    auto unpack =
        run({"/bin/sh", "-c",
             "skopeo copy docker-archive:" + archive.string() + " oci:" + oci.string() +
                 ":v2 && umoci unpack --image " + oci.string() + ":v2 " + bundle.string()});
    ASSERT_EQ(unpack.code, 0) << unpack.err;
    EXPECT_EQ(read_file(bundle / "rootfs" / "new.txt"), "hi\n");
    EXPECT_FALSE(fs::exists(bundle / "rootfs" / "etc" / "motd"));
    EXPECT_TRUE(fs::exists(bundle / "rootfs" / "bin" / "busybox"));
}

TEST_F(ContainerFsCliTest, ExportIsTheMergedFilesystem) {
    auto r = strata(root_, {"export", "fs"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto entries = tar_entries(r.out);
    EXPECT_EQ(entries["new.txt"], "hi\n");
    EXPECT_EQ(entries["etc/passwd"], "root:x:0:0:root:/root:/bin/sh\nx\n");
    EXPECT_FALSE(entries.count("etc/motd"));
    EXPECT_TRUE(entries.count("bin/busybox"));
    for (const auto& [name, _] : entries)
        EXPECT_EQ(name.find(".wh."), std::string::npos) << name;
    const fs::path file = dir_.path() / "fs.tar";
    run_ok({"export", "-o", file.string(), "fs"});
    EXPECT_EQ(read_file(file), r.out);
}

TEST_F(ContainerFsCliTest, CpBothWays) {
    const fs::path host = dir_.path() / "host";
    fs::create_directories(host);
    run_ok({"cp", "fs:/new.txt", host.string()});
    EXPECT_EQ(read_file(host / "new.txt"), "hi\n");
    auto tar = strata(root_, {"cp", "fs:/etc/passwd", "-"});
    ASSERT_EQ(tar.code, 0) << tar.err;
    EXPECT_EQ(tar_entries(tar.out).count("passwd"), 1u);
    write_file(host / "added.conf", "k=v\n");
    run_ok({"cp", (host / "added.conf").string(), "fs:/etc/"});
    EXPECT_NE(run_ok({"diff", "fs"}).out.find("A /etc/added.conf\n"), std::string::npos);
    auto back = strata(root_, {"cp", "fs:/etc/added.conf", "-"});
    EXPECT_EQ(tar_entries(back.out)["added.conf"], "k=v\n");
    run_fail({"cp", "fs:/nope", host.string()}, "Could not find the file /nope in container fs");
    run_fail({"cp", "fs:/a", "fs:/b"}, "copying between containers is not supported");
    // Nothing stays mounted after a copy.
    EXPECT_EQ(run({"/bin/sh", "-c", "grep -c " + root_.string() + " /proc/self/mountinfo"}).out,
              "0\n");
}

TEST_F(ContainerFsCliTest, RunningContainerCopyDiffAndPausedCommit) {
    auto d = strata(root_, {"run", "-d", "--name", "bg", "busybox", "sh", "-c",
                            "echo start > /started; exec sleep 60"});
    ASSERT_EQ(d.code, 0) << d.err;
    struct Remove {
        fs::path root;
        ~Remove() { strata(root, {"rm", "-f", "bg"}); }
    } remove{root_};
    // Its mount points (/etc/hosts, /etc/resolv.conf, /dev, ...) are in the
    // upper dir while it runs: still no changes.
    std::string diff;
    for (int i = 0; i < 100 && diff.empty(); ++i) {
        diff = run_ok({"diff", "bg"}).out;
        if (diff.empty()) ::usleep(20000);
    }
    EXPECT_EQ(diff, "A /started\n");
    // Copied in through its own mount namespace, seen by its processes.
    const fs::path host = dir_.path() / "host";
    write_file(host / "hello", "hello\n");
    run_ok({"cp", (host / "hello").string(), "bg:/tmp/"});
    EXPECT_EQ(run_ok({"diff", "bg"}).out, "A /started\nC /tmp\nA /tmp/hello\n");
    auto out = strata(root_, {"cp", "bg:/tmp/hello", "-"});
    EXPECT_EQ(tar_entries(out.out)["hello"], "hello\n");
    // Committed while frozen, and thawed after: it still runs.
    auto c = run_ok({"commit", "bg", "bgimg"});
    EXPECT_EQ(c.out.substr(0, 7), "sha256:");
    auto r = strata(root_, {"run", "--rm", "bgimg", "cat", "/tmp/hello", "/started"});
    EXPECT_EQ(r.out, "hello\nstart\n") << r.err;
    EXPECT_NE(run_ok({"ps"}).out.find(" bg\n"), std::string::npos);
    run_ok({"commit", "--pause=false", "bg"});
}

TEST_F(ContainerFsCliTest, VolumesAreNeitherChangesNorCommittedButCpReachesThem) {
    auto r = strata(root_, {"run", "--name", "withvol", "-v", "keep:/vol", "busybox", "sh", "-c",
                            "echo data > /vol/inside && echo layer > /outside"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(run_ok({"diff", "withvol"}).out, "A /outside\n");
    run_ok({"commit", "withvol", "withvol:img"});
    auto ls = strata(root_, {"run", "--rm", "withvol:img", "cat", "/outside", "/vol/inside"});
    EXPECT_EQ(ls.out, "layer\n");
    EXPECT_NE(ls.code, 0) << "the volume's file is not in the image";
    // Copied into the stopped container's volume, not into its layer.
    const fs::path host = dir_.path() / "host";
    write_file(host / "more", "more\n");
    run_ok({"cp", (host / "more").string(), "withvol:/vol/"});
    EXPECT_EQ(read_file(root_ / "volumes/keep/_data/more"), "more\n");
    EXPECT_EQ(run_ok({"diff", "withvol"}).out, "A /outside\n");
    auto back = strata(root_, {"cp", "withvol:/vol/inside", "-"});
    EXPECT_EQ(tar_entries(back.out)["inside"], "data\n");
}

}  // namespace
}  // namespace strata::imagetest
