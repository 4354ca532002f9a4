// Corrupt, truncated and hostile archives are refused with an error naming
// the entry, and the store is left exactly as it was (and still checks clean).
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

// A complete OCI archive around one layer; `mutate` can change the pieces.
struct OciParts {
    std::string layer;
    std::string config;
    std::string manifest;
    bool include_layer = true;
    std::vector<std::pair<std::string, std::string>> extra_files;  // appended
};

OciParts parts_for(const std::string& layer, std::optional<Digest> diff_id = std::nullopt) {
    OciParts p;
    p.layer = layer;
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.diff_ids = {diff_id.value_or(sha256_of(layer))};
    p.config = c.canonical();
    Manifest m;
    m.config = {std::string(media_type::kOciConfig),
                sha256_of(p.config),
                int64_t(p.config.size()),
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
    p.manifest = m.canonical();
    return p;
}

std::string oci_archive(const OciParts& p) {
    TarBuilder t;
    if (p.include_layer) t.file("blobs/sha256/" + sha256_hex(p.layer), p.layer);
    t.file("blobs/sha256/" + sha256_hex(p.config), p.config);
    t.file("blobs/sha256/" + sha256_hex(p.manifest), p.manifest);
    Index idx;
    idx.manifests.push_back({std::string(media_type::kOciManifest),
                             sha256_of(p.manifest),
                             int64_t(p.manifest.size()),
                             {},
                             {{"io.containerd.image.name", "docker.io/library/evil:latest"}},
                             std::nullopt,
                             {}});
    t.file("index.json", idx.canonical()).file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    for (const auto& [name, data] : p.extra_files)
        t.file(name, data);
    return t.finish();
}

class HostileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<ImageStore>(dir_.path() / "root");
        // Something already in the store, which must survive untouched.
        import_tar(*store_, make_busybox_rootfs(dir_.path()), "busybox:latest");
        before_ = snapshot(dir_.path() / "root");
    }

    // Loads `bytes`, expects Error(kCorrupt) mentioning `needle`, then an unchanged store.
    void expect_refused(const std::string& bytes, const std::string& needle) {
        try {
            load_bytes(*store_, bytes);
            ADD_FAILURE() << "archive accepted (expected an error about '" << needle << "')";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
                << "error does not mention '" << needle << "': " << e.what();
        }
        expect_unchanged();
    }

    void expect_unchanged() {
        EXPECT_EQ(snapshot(dir_.path() / "root"), before_);
        EXPECT_TRUE(tmp_is_empty(dir_.path() / "root"));
        auto report = check_store(*store_);
        EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0]);
        EXPECT_TRUE(report.notes.empty()) << report.notes[0];
    }

    TempDir dir_ = scratch();
    std::unique_ptr<ImageStore> store_;
    std::map<std::string, std::string> before_;
};

std::string good_layer() {
    return TarBuilder().dir("etc").file("etc/hello", "hi\n").finish();
}

TEST_F(HostileTest, ValidControlArchiveLoads) {
    // The builders below make valid archives unless mutated: prove it once.
    auto report = load_bytes(*store_, oci_archive(parts_for(good_layer())));
    EXPECT_EQ(report.images.size(), 1u);
    EXPECT_TRUE(check_store(*store_).ok());
}

TEST_F(HostileTest, PathTraversalInTheArchive) {
    auto p = parts_for(good_layer());
    p.extra_files = {{"../../evil", "x"}};
    expect_refused(oci_archive(p), "'../../evil'");
    p.extra_files = {{"blobs/../../evil", "x"}};
    expect_refused(oci_archive(p), "escapes the archive");
}

TEST_F(HostileTest, AbsolutePathInTheArchive) {
    auto p = parts_for(good_layer());
    p.extra_files = {{"/etc/evil", "x"}};
    expect_refused(oci_archive(p), "absolute path");
}

TEST_F(HostileTest, SymlinkThenWriteThroughInTheArchive) {
    expect_refused(TarBuilder().symlink("blobs", "/tmp").file("blobs/sha256/x", "x").finish(),
                   "symlink to absolute path");
    expect_refused(TarBuilder().symlink("up", "../..").file("up/evil", "x").finish(),
                   "points outside the archive");
    // Even a link that stays inside may not be written through.
    expect_refused(TarBuilder().dir("d").symlink("l", "d").file("l/evil", "x").finish(),
                   "goes through link 'l'");
}

TEST_F(HostileTest, HardlinkToOutsideInTheArchive) {
    expect_refused(TarBuilder().hardlink("index.json", "../../etc/passwd").finish(), "escapes");
    expect_refused(TarBuilder().hardlink("index.json", "/etc/passwd").finish(), "absolute path");
    expect_refused(TarBuilder().hardlink("index.json", "nothing-before").finish(),
                   "not an earlier entry");
}

TEST_F(HostileTest, SpecialFilesInTheArchive) {
    expect_refused(TarBuilder().chardev("dev").finish(), "special files");
}

TEST_F(HostileTest, BlobDigestMismatch) {
    auto p = parts_for(good_layer());
    std::string bytes =
        TarBuilder().file("blobs/sha256/" + sha256_hex(p.layer), p.layer + "tampered").finish();
    expect_refused(bytes, "blobs/sha256/" + sha256_hex(p.layer));
}

TEST_F(HostileTest, TruncatedBlob) {
    // A real saved archive, cut in the middle of its biggest blob.
    std::string whole = save_bytes(*store_, {"busybox"});
    auto img = as_saved(*store_, store_->lookup("busybox").image);
    prune_store(*store_, {});  // (drops the save's compressed copy again)
    before_ = snapshot(dir_.path() / "root");
    std::string layer_name = "blobs/sha256/" + img.layers[0].digest.hex;
    size_t at = whole.find(layer_name);
    ASSERT_NE(at, std::string::npos);
    expect_refused(whole.substr(0, at + 512 + 100000), layer_name);
    expect_refused(whole.substr(0, whole.size() / 2), "archive test.tar");
}

TEST_F(HostileTest, ManifestPointsAtAMissingBlob) {
    auto p = parts_for(good_layer());
    p.include_layer = false;
    expect_refused(oci_archive(p), "layer " + sha256_of(p.layer).str() + " is missing");
}

TEST_F(HostileTest, DiffIdMismatch) {
    auto p = parts_for(good_layer(), sha256_of("something else"));
    expect_refused(oci_archive(p), "has diffID");
}

TEST_F(HostileTest, DescriptorSizeMismatch) {
    auto p = parts_for(good_layer());
    auto m = Manifest::parse(p.manifest);
    m.layers[0].size += 1;
    p.manifest = m.canonical();
    expect_refused(oci_archive(p), "its descriptor says");
}

TEST_F(HostileTest, HostileLayerContents) {
    struct Case {
        std::string layer;
        std::string needle;
    };
    std::vector<Case> cases = {
        {TarBuilder().file("../../etc/evil", "x").finish(), "'..' component"},
        {TarBuilder().file("/etc/evil", "x").finish(), "absolute path"},
        {TarBuilder().symlink("l", "/etc").file("l/passwd", "x").finish(), "through symlink 'l'"},
        {TarBuilder().symlink("l", "../../..").file("l/x", "x").finish(), "through symlink 'l'"},
        {TarBuilder().hardlink("h", "../../etc/shadow").finish(), "escapes the layer"},
        {TarBuilder().hardlink("h", "/etc/shadow").finish(), "escapes the layer"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.needle);
        expect_refused(oci_archive(parts_for(c.layer)), c.needle);
    }
}

TEST_F(HostileTest, OldFormatReferencesAreChecked) {
    std::string layer = good_layer();
    std::string diff = sha256_hex(layer);
    std::string config =
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:)" +
        diff + R"("]}})";
    std::string chex = sha256_hex(config);
    auto manifest = [&](const std::string& cfg, const std::string& layer_path) {
        return R"([{"Config":")" + cfg + R"(","RepoTags":["evil:1"],"Layers":[")" + layer_path +
               R"("]}])";
    };
    // Config missing.
    expect_refused(TarBuilder()
                       .file("l.tar", layer)
                       .file("manifest.json", manifest("nope.json", "l.tar"))
                       .finish(),
                   "config 'nope.json' is missing");
    // Layer missing.
    expect_refused(TarBuilder()
                       .file(chex + ".json", config)
                       .file("manifest.json", manifest(chex + ".json", "x/layer.tar"))
                       .finish(),
                   "layer 'x/layer.tar' is missing");
    // Config whose name is not its digest.
    expect_refused(TarBuilder()
                       .file(std::string(64, 'a') + ".json", config)
                       .file("l.tar", layer)
                       .file("manifest.json", manifest(std::string(64, 'a') + ".json", "l.tar"))
                       .finish(),
                   "does not match its digest");
    // Layer path escaping via the manifest.
    expect_refused(TarBuilder()
                       .file(chex + ".json", config)
                       .file("manifest.json", manifest(chex + ".json", "../../etc/passwd"))
                       .finish(),
                   "is missing");
    // A layer that is not the one the config names.
    expect_refused(TarBuilder()
                       .file(chex + ".json", config)
                       .file("l.tar", TarBuilder().file("other", "x").finish())
                       .file("manifest.json", manifest(chex + ".json", "l.tar"))
                       .finish(),
                   "has diffID");
    // manifest.json that is not JSON.
    expect_refused(TarBuilder().file("manifest.json", "[{").finish(), "manifest.json");
}

TEST_F(HostileTest, ImportRefusesHostileRootfs) {
    auto refuse_import = [&](const std::string& tar, const std::string& needle) {
        auto fd = open_bytes(dir_, tar, "rootfs-evil.tar");
        ImportOptions opts;
        opts.name = Reference::parse("evil:1");
        try {
            import_rootfs(*store_, fd.get(), opts);
            ADD_FAILURE() << "imported";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
        expect_unchanged();
    };
    refuse_import(TarBuilder().file("../evil", "x").finish(), "'..' component");
    refuse_import(TarBuilder().symlink("l", "/").file("l/etc/passwd", "x").finish(),
                  "through symlink");
    std::string truncated = read_file(make_busybox_rootfs(dir_.path() / "t"));
    refuse_import(truncated.substr(0, truncated.size() / 3), "");
}

}  // namespace
}  // namespace strata::store
