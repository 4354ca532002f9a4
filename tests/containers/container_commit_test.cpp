#include "containers/container_commit.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "base/error.hpp"
#include "containers/container_diff.hpp"
#include "containers/container_export.hpp"
#include "containers/container_fs_fixture.hpp"
#include "containers/container_record.hpp"
#include "containers/image_layers.hpp"
#include "sandbox/cgroup_name.hpp"
#include "store/image_import.hpp"
#include "store/layer_reader.hpp"

namespace strata::containers {
namespace {

using namespace fstest;

// A store holding a small image (imported from a tar), and a container of it
// whose upper directory the tests write by hand.
class ContainerCommitTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!is_root()) GTEST_SKIP() << "whiteouts (mknod) and layer owners need root";
        const fs::path rootfs = tmp.path() / "rootfs";
        put(rootfs / "etc/passwd", "root:x:0:0\n");
        put(rootfs / "etc/motd", "image\n");
        put(rootfs / "bin/tool", "#!/bin/sh\n", 0755);
        fs::create_symlink("tool", rootfs / "bin/link");
        const fs::path tar = tmp.path() / "rootfs.tar";
        ASSERT_EQ(std::system(
                      ("tar --numeric-owner -C " + rootfs.string() + " -cf " + tar.string() + " .")
                          .c_str()),
                  0);
        store.emplace(tmp.path() / "store");
        store::ImportOptions io;
        io.changes = {"CMD [\"sh\"]", "ENV A=1"};
        io.name = store::Reference::parse("base:1");
        const int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
        image = store::import_rootfs(*store, fd, io).image;
        ::close(fd);

        ContainerSpec spec;
        spec.image_name = "base:1";
        spec.image_manifest = image.manifest.str();
        spec.image_id = image.config.str();
        spec.config = store->config(image).config;
        spec.config.cmd = std::vector<std::string>{"sh", "-c", "echo hi > /new"};
        spec.argv = *spec.config.cmd;
        MountSpec volume;
        volume.type = MountSpec::Type::kVolume;
        volume.source = "data";
        volume.target = "/data";
        spec.mounts.push_back(volume);
        ContainerStore containers(store->root());
        ctr = containers.create(spec, "work");
        lower = image_layer_dirs(*store, image);
    }

    // The container's changes: /new added, /etc/motd changed, /bin/tool
    // deleted, and the sandbox's mount points (/data, /etc/hosts).
    void change_upper() {
        const fs::path u = ctr.upper();
        put(u / "new", "hi\n");
        put(u / "etc/motd", "changed\n");
        whiteout(u / "bin/tool");
        mkdirs(u / "data");
        put(u / "etc/hosts", "");
    }

    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctr-commit-");
    std::optional<store::ImageStore> store;
    store::ImageRecord image;
    Container ctr;
    std::vector<fs::path> lower;
};

TEST_F(ContainerCommitTest, OnlyDockersChangeInstructionsAreAccepted) {
    store::ContainerConfig config;
    apply_commit_changes(config, {"CMD [\"/bin/app\"]", "env X=1", "EXPOSE 80", "WORKDIR /w"});
    EXPECT_EQ(config.cmd, (std::vector<std::string>{"/bin/app"}));
    EXPECT_EQ(config.env_value("X"), "1");
    EXPECT_TRUE(config.exposed_ports.count("80/tcp"));
    EXPECT_EQ(config.working_dir, "/w");
    try {
        apply_commit_changes(config, {"CMD [\"x\"]", "STOPSIGNAL SIGKILL"});
        FAIL() << "STOPSIGNAL accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "STOPSIGNAL is not a valid change command");
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    }
    EXPECT_EQ(config.cmd, (std::vector<std::string>{"/bin/app"}));  // nothing applied
    EXPECT_THROW(apply_commit_changes(config, {"RUN true"}), Error);
    EXPECT_THROW(apply_commit_changes(config, {"SHELL [\"/bin/bash\"]"}), Error);
}

TEST_F(ContainerCommitTest, CommitRoundTrip) {
    change_upper();
    CommitOptions opts;
    opts.comment = "my change";
    opts.author = "Jane <jane@example.com>";
    opts.changes = {"CMD [\"cat\", \"/new\"]", "LABEL stage=committed"};
    opts.name = store::Reference::parse("committed");
    const CommitResult r = commit_container(*store, ctr, opts);

    // Named, and read back from the store like any image.
    const auto match = store->lookup("committed:latest");
    EXPECT_EQ(match.image.manifest, r.image.manifest);
    const store::ImageConfig cfg = store->config(r.image);
    EXPECT_EQ(cfg.config.cmd, (std::vector<std::string>{"cat", "/new"}));
    EXPECT_EQ(cfg.config.labels.at("stage"), "committed");
    EXPECT_EQ(cfg.config.env_value("A"), "1");  // the container's config carried over
    EXPECT_EQ(cfg.author, "Jane <jane@example.com>");
    EXPECT_EQ(cfg.extra.value("container", ""), ctr.id);
    EXPECT_EQ(cfg.extra.value("comment", ""), "my change");
    ASSERT_EQ(cfg.history.size(), 2u);
    EXPECT_EQ(cfg.history[1].comment, "my change");
    EXPECT_EQ(cfg.history[1].author, "Jane <jane@example.com>");
    EXPECT_EQ(cfg.history[1].created_by, "sh -c echo hi > /new");
    EXPECT_FALSE(cfg.history[1].empty_layer);
    ASSERT_EQ(r.image.layers.size(), 2u);
    EXPECT_EQ(r.image.layers[0], image.layers[0]);
    EXPECT_EQ(cfg.diff_ids.back(), r.image.layers[1].diff_id);

    // The new layer: the change and a whiteout for the deleted file, no
    // mount point stubs.
    const fs::path out = tmp.path() / "layer";
    mkdirs(out);
    const int fd = store->content().open(r.image.layers[1].digest).release();
    store::ApplyOptions ao;
    ao.whiteouts = store::WhiteoutMode::kOverlay;
    store::apply_layer(fd, out, ao);
    ::close(fd);
    EXPECT_EQ(get(out / "new"), "hi\n");
    EXPECT_EQ(get(out / "etc/motd"), "changed\n");
    struct stat st {};
    ASSERT_EQ(::lstat((out / "bin/tool").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == 0) << "a whiteout for the deleted file";
    EXPECT_FALSE(fs::exists(out / "data"));
    EXPECT_FALSE(fs::exists(out / "etc/hosts"));
    EXPECT_TRUE(fs::exists(out / "etc"));  // the parent of a change

    // And the committed image's merged view has the change applied.
    const auto dirs = image_layer_dirs(*store, r.image);
    EXPECT_FALSE(lower_entry(dirs, "bin/tool"));
    EXPECT_TRUE(lower_entry(dirs, "bin/link"));
    EXPECT_TRUE(lower_entry(dirs, "new"));
}

TEST_F(ContainerCommitTest, NothingChangedGivesAnEmptyLayerEntry) {
    mkdirs(ctr.upper() / "data");  // only a mount point
    const CommitResult r = commit_container(*store, ctr, {});
    EXPECT_EQ(r.image.layers.size(), 1u);
    const store::ImageConfig cfg = store->config(r.image);
    ASSERT_EQ(cfg.history.size(), 2u);
    EXPECT_TRUE(cfg.history[1].empty_layer);
    EXPECT_FALSE(cfg.extra.contains("comment"));
    EXPECT_EQ(cfg.config.cmd, ctr.spec.config.cmd);
}

TEST_F(ContainerCommitTest, ExportIsTheMergedTreeWithoutWhiteoutsOrStubs) {
    change_upper();
    const fs::path tar = tmp.path() / "export.tar";
    {
        const int fd = ::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        export_container(*store, ctr, [fd](const void* d, size_t n) {
            ASSERT_EQ(::write(fd, d, n), static_cast<ssize_t>(n));
        });
        ::close(fd);
    }
    const std::string list = sh("tar -tf " + tar.string() + " | sed 's,/$,,' | LC_ALL=C sort");
    EXPECT_EQ(list, "bin\nbin/link\netc\netc/motd\netc/passwd\nnew\n") << list;
    const fs::path out = tmp.path() / "x";
    mkdirs(out);
    ASSERT_EQ(std::system(("tar -C " + out.string() + " -xf " + tar.string()).c_str()), 0);
    EXPECT_EQ(get(out / "etc/motd"), "changed\n");
    EXPECT_EQ(get(out / "new"), "hi\n");
    EXPECT_TRUE(fs::is_symlink(out / "bin/link"));
    // Nothing left behind in the store's tmp/.
    EXPECT_TRUE(fs::is_empty(store->tmp_dir()));
}

TEST(CgroupFreezeTest, FreezesTheProcessCgroupAndThawsIt) {
    if (!is_root() || !fs::exists("/sys/fs/cgroup/freezer/cgroup.procs"))
        GTEST_SKIP() << "needs root and the cgroup v1 freezer";
    const fs::path cg =
        fs::path("/sys/fs/cgroup/freezer") /
        ("strata-" + std::to_string(::getpid()) + "-" +
         std::to_string(sandbox::process_start_time(::getpid()).value_or(1)) + "-freeze-test");
    ASSERT_TRUE(fs::create_directory(cg));
    const pid_t child = ::fork();
    if (child == 0) {
        for (;;)
            ::pause();
    }
    put(cg / "cgroup.procs", std::to_string(child));
    {
        CgroupFreeze f(child);
        EXPECT_TRUE(f.active());
        EXPECT_EQ(f.state_file(), cg / "freezer.state");
        EXPECT_EQ(get(cg / "freezer.state"), "FROZEN\n");
    }
    EXPECT_EQ(get(cg / "freezer.state"), "THAWED\n");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::rmdir(cg.c_str());
}

TEST(CgroupFreezeTest, AProcessInTheRootCgroupIsNeverFrozen) {
    // PID 1 sits in the root freezer cgroup: freezing "/" would stop the host.
    CgroupFreeze f(1);
    EXPECT_FALSE(f.active());
}

}  // namespace
}  // namespace strata::containers
