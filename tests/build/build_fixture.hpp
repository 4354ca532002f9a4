// End-to-end build tests: a fresh store with a small base image imported
// (base:latest — /etc/passwd and /etc/group with named users, a few
// directories, a symlinked directory), a context directory to fill, builds
// run in-process through executor::build, and the resulting image's root
// filesystem unpacked for inspection.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "executor/builder.hpp"
#include "executor/run/container_runner.hpp"
#include "store/image_fixture.hpp"
#include "store/image_import.hpp"
#include "store/image_store.hpp"
#include "store/layer_reader.hpp"

namespace strata::buildtest {

namespace fs = std::filesystem;
using imagetest::TarBuilder;

// One entry of an unpacked root filesystem.
struct FsNode {
    char type = '?';  // 'f' file, 'd' dir, 'l' symlink, 'o' other
    uint32_t mode = 0;
    uint32_t uid = 0, gid = 0;
    std::string data;  // file content or link target
};
using Tree = std::map<std::string, FsNode>;

inline std::string base_rootfs_tar() {
    TarBuilder t;
    t.dir("bin").dir("etc").dir("home").dir("home/app").dir("srv").dir("usr").dir("usr/local");
    t.dir("tmp").dir("opt");
    t.file("etc/passwd",
           "root:x:0:0:root:/root:/bin/sh\n"
           "app:x:1000:1001:app:/home/app:/bin/sh\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    t.file("etc/group", "root:x:0:\nstaff:x:50:\napp:x:1001:\nnogroup:x:65534:\n");
    t.file("bin/tool", "#!/bin/sh\n", 0755);
    t.file("srv/existing.txt", "was here\n");
    t.symlink("opt/data", "/srv");
    return t.finish();
}

class BuildTest : public ::testing::Test {
  public:
    void SetUp() override {
        fs::create_directories(ctx());
        store_ = std::make_unique<store::ImageStore>(root());
        import("base:latest", base_rootfs_tar());
    }

    fs::path root() const { return dir_.path() / "root"; }
    fs::path ctx() const { return dir_.path() / "ctx"; }
    store::ImageStore& store() { return *store_; }

    // Imports a rootfs tar as an image named `name`.
    store::ImageRecord import(const std::string& name, const std::string& tar,
                              std::vector<std::string> changes = {}) {
        const fs::path p = dir_.path() / "import.tar";
        imagetest::write_file(p, tar);
        UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
        store::ImportOptions o;
        o.name = store::Reference::parse(name);
        o.source_date_epoch = 1700000000;
        o.changes = std::move(changes);
        return store::import_rootfs(*store_, fd.get(), o).image;
    }

    // A file in the context (parents made), with a mode.
    void file(const std::string& rel, const std::string& content, mode_t mode = 0644) {
        const fs::path p = ctx() / rel;
        imagetest::write_file(p, content);
        ::chmod(p.c_str(), mode);
    }
    void dockerfile(const std::string& text) { file("Dockerfile", text); }

    executor::BuildRequest request(const std::string& text = {}) {
        if (!text.empty()) dockerfile(text);
        executor::BuildRequest r;
        r.dockerfile_text = imagetest::read_file(ctx() / "Dockerfile");
        r.dockerfile_path = ctx() / "Dockerfile";
        r.context_dir = ctx();
        r.plan.build_platform = planner::host_platform();
        r.plan.target_platform = planner::host_platform();
        return r;
    }

    executor::BuildResult build(const executor::BuildRequest& r) {
        executor::NullProgress progress;
        return executor::build(r, *store_, progress, run_);
    }
    executor::BuildResult build(const std::string& text = {}) { return build(request(text)); }

    // "B" built, "C" cached, "M" metadata, one letter per step with a name
    // (as progress shows them), in build order.
    static std::string outcomes(const executor::BuildResult& r) {
        std::string s;
        for (const auto& st : r.steps) {
            if (st.name.empty()) continue;
            s += st.outcome == executor::StepReport::Outcome::kCached  ? 'C'
                 : st.outcome == executor::StepReport::Outcome::kBuilt ? 'B'
                                                                       : 'M';
        }
        return s;
    }

    store::ImageConfig config(const executor::BuildResult& r) { return store_->config(r.image); }

    // The image's root filesystem: its layers applied in order.
    Tree rootfs(const store::ImageRecord& image) {
        TempDir out = TempDir::create(dir_.path(), "rootfs-");
        for (const auto& l : image.layers) {
            UniqueFd fd = store_->content().open(l.digest);
            store::apply_layer(fd.get(), out.path());
        }
        return tree_of(out.path());
    }
    Tree rootfs(const executor::BuildResult& r) { return rootfs(r.image); }
    // What one layer (index into the image's layers) holds.
    Tree layer(const executor::BuildResult& r, size_t index) {
        TempDir out = TempDir::create(dir_.path(), "layer-");
        UniqueFd fd = store_->content().open(r.image.layers.at(index).digest);
        store::apply_layer(fd.get(), out.path());
        return tree_of(out.path());
    }

    static Tree tree_of(const fs::path& dir) {
        Tree t;
        for (auto it = fs::recursive_directory_iterator(dir);
             it != fs::recursive_directory_iterator(); ++it) {
            struct stat st {};
            ::lstat(it->path().c_str(), &st);
            FsNode n;
            n.mode = st.st_mode & 07777;
            n.uid = st.st_uid;
            n.gid = st.st_gid;
            if (S_ISREG(st.st_mode)) {
                n.type = 'f';
                n.data = imagetest::read_file(it->path());
            } else if (S_ISDIR(st.st_mode)) {
                n.type = 'd';
            } else if (S_ISLNK(st.st_mode)) {
                n.type = 'l';
                n.data = fs::read_symlink(it->path()).string();
            } else {
                n.type = 'o';
            }
            t[(fs::path("/") / it->path().lexically_relative(dir)).string()] = n;
        }
        return t;
    }

    // Expects a regular file with this content (and mode/owner when given).
    static void expect_file(const Tree& t, const std::string& path, const std::string& content,
                            int mode = -1, int uid = -1, int gid = -1) {
        auto it = t.find(path);
        ASSERT_NE(it, t.end()) << path << " is missing";
        EXPECT_EQ(it->second.type, 'f') << path;
        EXPECT_EQ(it->second.data, content) << path;
        if (mode >= 0) {
            EXPECT_EQ(it->second.mode, static_cast<uint32_t>(mode)) << path;
        }
        if (uid >= 0) {
            EXPECT_EQ(it->second.uid, static_cast<uint32_t>(uid)) << path;
        }
        if (gid >= 0) {
            EXPECT_EQ(it->second.gid, static_cast<uint32_t>(gid)) << path;
        }
    }

    TempDir dir_ = imagetest::scratch("strata-build-test-");
    std::unique_ptr<store::ImageStore> store_;
    executor::RunExecutor* run_ = nullptr;
};

// A BuildTest whose RUN steps run in real containers: root and
// busybox-static are needed (skipped, saying so, without them), and the
// store holds busybox:latest. `use_container_runner()` makes run_ a
// ContainerRunner with this build's strata-init.
class RunBuildTest : public BuildTest {
  public:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "RUN containers need root (namespaces, overlayfs)";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "needs busybox-static (/bin/busybox)";
        BuildTest::SetUp();
        const fs::path tar = imagetest::make_busybox_rootfs(dir_.path() / "bb");
        import("busybox:latest", imagetest::read_file(tar));
    }
    void use_container_runner(executor::RunnerOptions options = {}) {
        runner_.reset();
        runner_ = std::make_unique<executor::ContainerRunner>(STRATA_INIT, std::move(options));
        run_ = runner_.get();
    }

  protected:
    std::unique_ptr<executor::RunExecutor> runner_;
};

// A second, independent store and context inside one test.
struct BuildEnv : BuildTest {
    void TestBody() override {}
};

}  // namespace strata::buildtest
