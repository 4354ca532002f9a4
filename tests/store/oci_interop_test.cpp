// Independent readers and writers: skopeo, umoci (and docker, when a daemon
// is reachable) accept what strata saves, and strata loads what they write.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/canonical_json.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

// type, mode, owner, size, content hash, link target of every entry.
std::map<std::string, std::string> describe(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        std::string d = fmt::format("mode={:o} uid={} gid={}", st.st_mode, st.st_uid, st.st_gid);
        if (S_ISREG(st.st_mode)) d += " sha=" + sha256_hex(read_file(it->path()));
        if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(it->path()).string();
        out[fs::relative(it->path(), root).string()] = d;
    }
    return out;
}

class InteropTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!have_tool("skopeo") || !have_tool("umoci"))
            GTEST_SKIP() << "skopeo and umoci are not installed";
        tar_ = make_busybox_rootfs(dir_.path());
        store_ = std::make_unique<ImageStore>(dir_.path() / "root");
        // The image as the archive holds it (gzip layers).
        stored_ = import_tar(*store_, tar_, "busybox:latest");
        img_ = as_saved(*store_, stored_);
        saved_ = (dir_.path() / "saved.tar").string();
        write_file(saved_, save_bytes(*store_, {"busybox"}));
    }
    std::string sh(const std::string& cmd) {
        std::string out_file = (dir_.path() / "sh.out").string();
        int rc = shell(cmd + " > '" + out_file + "' 2>&1");
        std::string out = read_file(out_file);
        EXPECT_EQ(rc, 0) << cmd << "\n" << out;
        return out;
    }
    TempDir dir_ = scratch();
    fs::path tar_;
    std::unique_ptr<ImageStore> store_;
    ImageRecord stored_;  // as the store keeps it (plain tar layers)
    ImageRecord img_;     // as the archive holds it
    std::string saved_;
};

TEST_F(InteropTest, SkopeoInspectsBothArchiveForms) {
    auto docker = nlohmann::json::parse(sh("skopeo inspect docker-archive:" + saved_));
    ASSERT_EQ(docker["Layers"].size(), 1u);
    EXPECT_EQ(docker["Layers"][0], img_.layers[0].diff_id.str());
    EXPECT_EQ(docker["Os"], "linux");
    auto oci = nlohmann::json::parse(sh("skopeo inspect oci-archive:" + saved_));
    EXPECT_EQ(oci["Digest"], img_.manifest.str());
    EXPECT_EQ(oci["Layers"][0], img_.layers[0].digest.str());
    auto config = nlohmann::json::parse(sh("skopeo inspect --config oci-archive:" + saved_));
    EXPECT_EQ(config["config"]["Cmd"][0], "sh");
}

TEST_F(InteropTest, SkopeoCopyThenUmociUnpackGivesTheRootfs) {
    std::string layout = (dir_.path() / "layout").string();
    sh("skopeo copy -q docker-archive:" + saved_ + " oci:" + layout + ":bb");
    sh("skopeo copy -q oci-archive:" + saved_ + " oci:" + layout + ":direct");
    for (const char* tag : {"bb", "direct"}) {
        SCOPED_TRACE(tag);
        std::string bundle = (dir_.path() / (std::string("bundle-") + tag)).string();
        sh("umoci unpack --image " + layout + ":" + tag + " " + bundle);
        auto got = describe(fs::path(bundle) / "rootfs");
        auto want = describe(dir_.path() / "rootfs");
        EXPECT_EQ(got.size(), want.size());
        EXPECT_TRUE(got == want) << "umoci's rootfs differs from the imported tree";
    }
    // The OCI copy of our archive keeps our manifest as is.
    auto index = nlohmann::json::parse(read_file(fs::path(layout) / "index.json"));
    bool found = false;
    for (const auto& m : index["manifests"])
        found |= m["digest"] == img_.manifest.str();
    EXPECT_TRUE(found);
}

TEST_F(InteropTest, LoadsWhatSkopeoWrites) {
    std::string layout = (dir_.path() / "layout").string();
    sh("skopeo copy -q oci-archive:" + saved_ + " oci:" + layout + ":bb");
    std::string docker_archive = (dir_.path() / "skopeo-docker.tar").string();
    std::string oci_archive = (dir_.path() / "skopeo-oci.tar").string();
    // The same way bench/setup-peers.sh makes its busybox image.
    sh("skopeo copy -q oci:" + layout + ":bb docker-archive:" + docker_archive + ":busybox:latest");
    sh("skopeo copy -q oci:" + layout + ":bb oci-archive:" + oci_archive + ":example.com/bb:2");
    ImageStore other(dir_.path() / "other");
    auto from_docker = load_bytes(other, read_file(docker_archive));
    ASSERT_EQ(from_docker.images.size(), 1u);
    EXPECT_EQ(from_docker.images[0].image.config, img_.config);  // same image ID
    ASSERT_EQ(from_docker.images[0].names.size(), 1u);
    EXPECT_EQ(from_docker.images[0].names[0].familiar(), "busybox:latest");
    auto from_oci = load_bytes(other, read_file(oci_archive));
    ASSERT_EQ(from_oci.images.size(), 1u);
    EXPECT_EQ(from_oci.images[0].image.config, img_.config);
    ASSERT_EQ(from_oci.images[0].names.size(), 1u);
    EXPECT_EQ(from_oci.images[0].names[0].familiar(), "example.com/bb:2");
    EXPECT_TRUE(check_store(other).ok());
    // And the CLI path compare.sh uses.
    fs::path root = dir_.path() / "cli";
    auto load = strata(root, {"load", "-i", docker_archive});
    EXPECT_EQ(load.code, 0) << load.err;
    EXPECT_EQ(load.out, "Loaded image: busybox:latest\n");
    auto inspect = strata(root, {"inspect", "busybox:latest"});
    EXPECT_EQ(inspect.code, 0) << inspect.err;
    EXPECT_EQ(nlohmann::json::parse(inspect.out)[0]["Id"], img_.config.str());
}

TEST_F(InteropTest, DockerLoadsOurArchiveWhenADaemonIsReachable) {
    std::string host = std::getenv("DOCKER_HOST") ? std::getenv("DOCKER_HOST") : "";
    if (host.empty() && fs::exists("/tmp/strata-peers/docker.sock"))
        host = "unix:///tmp/strata-peers/docker.sock";
    if (!have_tool("docker") || host.empty() ||
        shell("DOCKER_HOST=" + host + " docker info >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "no Docker daemon reachable";
    std::string name = "strata-interop-test:" + img_.config.hex.substr(0, 8);
    {
        auto txn = store_->begin();
        txn.tag(Reference::parse(name), stored_.manifest);
        txn.commit();
    }
    std::string file = (dir_.path() / "for-docker.tar").string();
    write_file(file, save_bytes(*store_, {name}));
    std::string env = "DOCKER_HOST=" + host + " ";
    auto out = sh(env + "docker load -i " + file);
    EXPECT_NE(out.find("Loaded image: " + name), std::string::npos) << out;
    auto id = sh(env + "docker image inspect --format '{{.Id}}' " + name);
    sh(env + "docker rmi " + name);
    EXPECT_EQ(id, img_.config.str() + "\n");
}

}  // namespace
}  // namespace strata::store
