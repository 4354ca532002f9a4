// save/load: byte-identical round trips, the archive layout, every input form.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/layer_writer.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

class ArchiveTest : public ::testing::Test {
  protected:
    void SetUp() override {
        rootfs_tar_ = make_busybox_rootfs(dir_.path());
        a_ = std::make_unique<ImageStore>(dir_.path() / "a");
        b_ = std::make_unique<ImageStore>(dir_.path() / "b");
    }
    TempDir dir_ = scratch();
    fs::path rootfs_tar_;
    std::unique_ptr<ImageStore> a_, b_;
};

TEST_F(ArchiveTest, ImportSaveLoadSaveIsByteIdentical) {
    auto img = import_tar(*a_, rootfs_tar_, "busybox:latest");
    {
        auto txn = a_->begin();
        txn.tag(Reference::parse("example.com/team/bb:v1"), img.manifest);
        txn.commit();
    }
    std::string first = save_bytes(*a_, {"busybox", "example.com/team/bb:v1"});
    EXPECT_EQ(save_bytes(*a_, {"busybox", "example.com/team/bb:v1"}), first);  // deterministic

    // Loaded back: the image as saved (gzip layers), with the same ID.
    const ImageRecord saved = as_saved(*a_, img);
    auto report = load_bytes(*b_, first);
    EXPECT_EQ(report.format, "oci-layout");
    ASSERT_EQ(report.images.size(), 1u);
    EXPECT_EQ(report.images[0].image.manifest, saved.manifest);
    EXPECT_EQ(report.images[0].image.config, img.config);
    EXPECT_EQ(report.images[0].names.size(), 2u);
    EXPECT_EQ(report.images[0].image.layers, saved.layers);

    std::string second = save_bytes(*b_, {"busybox", "example.com/team/bb:v1"});
    EXPECT_EQ(second.size(), first.size());
    EXPECT_TRUE(second == first) << "round trip changed the archive";
    EXPECT_TRUE(check_store(*b_).ok());
    EXPECT_TRUE(tmp_is_empty(dir_.path() / "b"));
}

TEST_F(ArchiveTest, SavedArchiveIsDockerSaveAndOciLayout) {
    auto img = as_saved(*a_, import_tar(*a_, rootfs_tar_, "busybox:latest"));
    std::string bytes = save_bytes(*a_, {"busybox:latest"});
    auto entries = tar_entries(bytes);
    std::vector<std::string> names;
    for (const auto& [n, c] : entries)
        names.push_back(n);
    std::vector<std::string> expected{"blobs/", "blobs/sha256/"};
    std::vector<std::string> blobs;
    for (const auto& d : img.blobs())
        blobs.push_back("blobs/sha256/" + d.hex);
    std::sort(blobs.begin(), blobs.end());
    expected.insert(expected.end(), blobs.begin(), blobs.end());
    for (const char* f : {"index.json", "manifest.json", "oci-layout", "repositories"})
        expected.push_back(f);
    EXPECT_EQ(names, expected);
    for (const auto& b : blobs)
        EXPECT_EQ(sha256_hex(entries[b]), b.substr(13)) << b;

    auto index = Index::parse(entries["index.json"]);
    ASSERT_EQ(index.manifests.size(), 1u);
    EXPECT_EQ(index.manifests[0].digest, img.manifest);
    EXPECT_EQ(index.manifests[0].annotations.at("org.opencontainers.image.ref.name"), "latest");
    EXPECT_EQ(index.manifests[0].annotations.at("io.containerd.image.name"),
              "docker.io/library/busybox:latest");
    auto manifest = nlohmann::json::parse(entries["manifest.json"]);
    ASSERT_EQ(manifest.size(), 1u);
    EXPECT_EQ(manifest[0]["Config"], "blobs/sha256/" + img.config.hex);
    EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json::array({"busybox:latest"}));
    EXPECT_EQ(manifest[0]["Layers"][0], "blobs/sha256/" + img.layers[0].digest.hex);
    EXPECT_EQ(nlohmann::json::parse(entries["oci-layout"])["imageLayoutVersion"], "1.0.0");
    EXPECT_EQ(nlohmann::json::parse(entries["repositories"])["busybox"]["latest"],
              img.layers[0].digest.hex);

    // Fixed headers: mtime 0, owner 0:0, no names.
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_open_memory(a, bytes.data(), bytes.size());
    struct archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        EXPECT_EQ(archive_entry_mtime(e), 0);
        EXPECT_EQ(archive_entry_uid(e), 0);
        EXPECT_EQ(archive_entry_gid(e), 0);
        const char* uname = archive_entry_uname(e);
        EXPECT_STREQ(uname ? uname : "", "");
    }
    archive_read_free(a);
}

TEST_F(ArchiveTest, SaveByBareNameTakesEveryTagAndByIdNone) {
    auto img = import_tar(*a_, rootfs_tar_, "busybox:latest");
    auto other = import_tar(*a_, rootfs_tar_, "busybox:old", 1600000000);
    auto sel = select_for_save(*a_, {"busybox"});
    ASSERT_EQ(sel.size(), 2u);
    auto by_id = select_for_save(*a_, {img.config.hex.substr(0, 12)});
    ASSERT_EQ(by_id.size(), 1u);
    EXPECT_TRUE(by_id[0].names.empty());
    EXPECT_THROW(select_for_save(*a_, {"nothere:1"}), Error);
    // An unnamed image loads as such ("Loaded image ID").
    auto report = load_bytes(*b_, save_bytes(*a_, {other.config.str()}));
    ASSERT_EQ(report.images.size(), 1u);
    EXPECT_TRUE(report.images[0].names.empty());
    EXPECT_EQ(b_->names().size(), 0u);
    EXPECT_EQ(b_->images().size(), 1u);
}

TEST_F(ArchiveTest, LoadingMovesAnExistingNameAndKeepsTheOldImage) {
    auto old_img = import_tar(*b_, rootfs_tar_, "busybox:latest", 1500000000);
    import_tar(*a_, rootfs_tar_, "busybox:latest");
    auto report = load_bytes(*b_, save_bytes(*a_, {"busybox"}));
    ASSERT_EQ(report.replaced.size(), 1u);
    EXPECT_EQ(report.replaced[0].second, old_img.manifest);
    EXPECT_TRUE(b_->image(old_img.manifest));  // dangling now, like Docker's <none>
    EXPECT_NE(b_->lookup("busybox").image.manifest, old_img.manifest);
}

// The old docker-save form: <id>/layer.tar (here a symlink, as skopeo
// writes it), <id>/json, <config hex>.json, manifest.json, repositories.
std::string old_docker_save(const std::string& layer_tar, std::string* config_hex_out) {
    std::string diff = sha256_hex(layer_tar);
    std::string config =
        R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:)" +
        diff + R"("]},"history":[{"created_by":"test"}]})";
    std::string config_hex = sha256_hex(config);
    if (config_hex_out) *config_hex_out = config_hex;
    std::string v1 = std::string(64, '5');
    return TarBuilder()
        .file(diff + ".tar", layer_tar)
        .file(config_hex + ".json", config)
        .dir(v1)
        .symlink(v1 + "/layer.tar", "../" + diff + ".tar")
        .file(v1 + "/VERSION", "1.0")
        .file(v1 + "/json", "{}")
        .file("manifest.json", R"([{"Config":")" + config_hex +
                                   R"(.json","RepoTags":["old/form:1"],"Layers":[")" + v1 +
                                   R"(/layer.tar"]}])")
        .file("repositories", R"({"old/form":{"1":")" + v1 + R"("}})")
        .finish();
}

TEST_F(ArchiveTest, LoadsTheOldDockerSaveForm) {
    std::string layer = read_file(rootfs_tar_);
    std::string config_hex;
    auto report = load_bytes(*b_, old_docker_save(layer, &config_hex));
    EXPECT_EQ(report.format, "docker-save");
    ASSERT_EQ(report.images.size(), 1u);
    const auto& img = report.images[0].image;
    EXPECT_EQ(img.config.hex, config_hex);  // the image ID is kept
    ASSERT_EQ(report.images[0].names.size(), 1u);
    EXPECT_EQ(report.images[0].names[0].str(), "docker.io/old/form:1");
    ASSERT_EQ(img.layers.size(), 1u);
    EXPECT_EQ(img.layers[0].diff_id.hex, sha256_hex(layer));
    // Stored as it came, a plain tar (compressed when it leaves again).
    EXPECT_EQ(img.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
    EXPECT_EQ(img.layers[0].digest, img.layers[0].diff_id);
    EXPECT_GT(img.layers[0].unpacked_size, 1000000u);  // busybox itself
    EXPECT_TRUE(check_store(*b_).ok());
    // Loading it again is a no-op for the store's content.
    auto before = snapshot(dir_.path() / "b");
    load_bytes(*b_, old_docker_save(layer, nullptr));
    auto after = snapshot(dir_.path() / "b");
    after.erase(after.find("names.json"));  // tag times change
    before.erase(before.find("names.json"));
    EXPECT_EQ(before.size(), after.size());
}

TEST_F(ArchiveTest, LoadsCompressedArchives) {
    import_tar(*a_, rootfs_tar_, "busybox:latest");
    std::string plain = save_bytes(*a_, {"busybox"});
    write_file(dir_.path() / "s.tar", plain);
    for (const char* tool : {"gzip", "zstd"}) {
        if (!have_tool(tool)) continue;
        SCOPED_TRACE(tool);
        ASSERT_EQ(shell(std::string(tool) + " -c '" + (dir_.path() / "s.tar").string() + "' > '" +
                        (dir_.path() / "s.tar.z").string() + "'"),
                  0);
        ImageStore c(dir_.path() / (std::string("c-") + tool));
        auto report = load_bytes(c, read_file(dir_.path() / "s.tar.z"));
        ASSERT_EQ(report.images.size(), 1u);
        EXPECT_EQ(save_bytes(c, {"busybox"}), plain);
    }
    // An old-form archive, gzip-compressed as a whole.
    std::string old = old_docker_save(read_file(rootfs_tar_), nullptr);
    write_file(dir_.path() / "old.tar", old);
    ASSERT_EQ(shell("gzip -c '" + (dir_.path() / "old.tar").string() + "' > '" +
                    (dir_.path() / "old.tgz").string() + "'"),
              0);
    EXPECT_EQ(load_bytes(*b_, read_file(dir_.path() / "old.tgz")).images.size(), 1u);
}

// An OCI layout whose index.json points at a multi-platform index.
TEST_F(ArchiveTest, LoadsTheHostPlatformFromAMultiPlatformIndex) {
    auto host = host_platform();
    std::string other_arch = host.architecture == "arm64" ? "amd64" : "arm64";
    auto make = [&](const std::string& arch, const std::string& content, TarBuilder& tar,
                    std::string& manifest_text) {
        std::string layer = TarBuilder().file("arch", content).finish();
        std::string config = ImageConfig{std::nullopt,
                                         "",
                                         arch,
                                         "linux",
                                         "",
                                         "",
                                         {},
                                         {},
                                         {sha256_of(layer)},
                                         {},
                                         nlohmann::json::object()}
                                 .canonical();
        Manifest m;
        m.config = {std::string(media_type::kOciConfig),
                    sha256_of(config),
                    int64_t(config.size()),
                    {},
                    {},
                    std::nullopt,
                    {}};
        m.layers.push_back({"application/vnd.oci.image.layer.v1.tar",
                            sha256_of(layer),
                            int64_t(layer.size()),
                            {},
                            {},
                            std::nullopt,
                            {}});
        manifest_text = m.canonical();
        tar.file("blobs/sha256/" + sha256_hex(layer), layer)
            .file("blobs/sha256/" + sha256_hex(config), config)
            .file("blobs/sha256/" + sha256_hex(manifest_text), manifest_text);
    };
    TarBuilder tar;
    std::string m_host, m_other;
    make(host.architecture, "host", tar, m_host);
    make(other_arch, "other", tar, m_other);
    Index nested;
    nested.manifests.push_back({std::string(media_type::kOciManifest),
                                sha256_of(m_other),
                                int64_t(m_other.size()),
                                {},
                                {},
                                Platform{other_arch, "linux", "", "", {}},
                                {}});
    nested.manifests.push_back({std::string(media_type::kOciManifest),
                                sha256_of(m_host),
                                int64_t(m_host.size()),
                                {},
                                {},
                                Platform{host.architecture, "linux", host.variant, "", {}},
                                {}});
    std::string nested_text = nested.canonical();
    Index top;
    top.manifests.push_back({std::string(media_type::kOciIndex),
                             sha256_of(nested_text),
                             int64_t(nested_text.size()),
                             {},
                             {{"org.opencontainers.image.ref.name", "multi/arch:1"}},
                             std::nullopt,
                             {}});
    tar.file("blobs/sha256/" + sha256_hex(nested_text), nested_text)
        .file("index.json", top.canonical())
        .file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    std::string bytes = tar.finish();

    auto report = load_bytes(*b_, bytes);
    ASSERT_EQ(report.images.size(), 1u);
    EXPECT_EQ(report.images[0].image.manifest, sha256_of(m_host));
    ASSERT_EQ(report.images[0].names.size(), 1u);
    EXPECT_EQ(report.images[0].names[0].familiar(), "multi/arch:1");

    ImageStore c(dir_.path() / "c");
    LoadOptions opts;
    opts.os = "linux";
    opts.architecture = other_arch;
    auto other = load_bytes(c, bytes, opts);
    EXPECT_EQ(other.images[0].image.manifest, sha256_of(m_other));
    opts.architecture = "s390x";
    ImageStore d(dir_.path() / "d");
    EXPECT_THROW(load_bytes(d, bytes, opts), Error);
}

TEST_F(ArchiveTest, NotAnImageArchive) {
    try {
        load_bytes(*b_, TarBuilder().file("hello.txt", "hi").finish());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("neither manifest.json"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(load_bytes(*b_, "this is not a tar file at all, not even close................"),
                 Error);
    EXPECT_THROW(load_bytes(*b_, ""), Error);
    EXPECT_EQ(b_->images().size(), 0u);
    EXPECT_TRUE(tmp_is_empty(dir_.path() / "b"));
}

}  // namespace
}  // namespace strata::store
