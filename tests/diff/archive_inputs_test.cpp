// The other inputs: images in the store (by name and ID), `strata save`
// tarballs read as docker-archive: and oci-archive:, compressed layers.
#include <nlohmann/json.hpp>

#include "diff/diff_fixture.hpp"
#include "store/gzip_decoder.hpp"

namespace strata::difftest {
namespace {

using nlohmann::json;

class ArchiveInputs : public DiffTest {
  protected:
    // Imports `tar` as `name` into the test store, with a fixed created time.
    void import(const std::string& name, const std::string& tar) {
        // One path for both: the config's comment names the file.
        const fs::path p = dir_.path() / "rootfs.tar";
        imagetest::write_file(p, tar);
        auto r = imagetest::strata(root(), {"import", p.string(), name}, {},
                                   {{"SOURCE_DATE_EPOCH", "1700000000"}});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    void SetUp() override {
        Layer one = base_spec().layers[0];
        import("one", make_tar(one));
        for (auto& e : one)
            if (e.name == "etc/hostname") e.data = "other\n";
        import("two", make_tar(one));
        auto r =
            imagetest::strata(root(), {"save", "-o", (dir_.path() / "one.save").string(), "one"});
        ASSERT_EQ(r.code, 0) << r.err;
        r = imagetest::strata(root(), {"save", "-o", (dir_.path() / "two.save").string(), "two"});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    json diff_json(const std::string& a, const std::string& b, int code) {
        auto r = imagetest::strata(root(), {"diff", "--format", "json", a, b});
        EXPECT_EQ(r.code, code) << r.out << r.err;
        return json::parse(r.out);
    }
};

TEST_F(ArchiveInputs, StoreImagesByName) {
    auto j = diff_json("one", "two", 1);
    ASSERT_EQ(j["differences"].size(), 1u) << j.dump(2);
    EXPECT_EQ(j["differences"][0]["path"], "/etc/hostname");
    EXPECT_EQ(j["differences"][0]["unifiedDiff"], "@@ -1 +1 @@\n-box\n+other\n");
    auto same = imagetest::strata(root(), {"diff", "one", "one:latest"});
    EXPECT_EQ(same.code, 0) << same.out << same.err;
}

TEST_F(ArchiveInputs, DockerAndOciArchives) {
    const std::string one = (dir_.path() / "one.save").string();
    const std::string two = (dir_.path() / "two.save").string();
    for (const std::string prefix : {"docker-archive:", "oci-archive:"}) {
        auto j = diff_json(prefix + one, prefix + two, 1);
        ASSERT_EQ(j["differences"].size(), 1u) << prefix << j.dump(2);
        EXPECT_EQ(j["differences"][0]["path"], "/etc/hostname");
        EXPECT_FALSE(j["a"]["manifest"].is_null()) << prefix;
    }
    // The same image from the store and from its archive: the same files
    // and config; only the manifest differs (the store keeps plain tars,
    // the archive has them gzip-compressed).
    auto r = imagetest::strata(root(), {"diff", "one", "docker-archive:" + one});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("application/vnd.oci.image.layer.v1.tar+gzip"), std::string::npos)
        << r.out;
    r = imagetest::strata(root(), {"diff", "--ignore", "manifest", "one", "docker-archive:" + one});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    // A gzip-compressed archive reads the same.
    ASSERT_EQ(imagetest::shell("gzip -c '" + one + "' > '" + one + ".gz'"), 0);
    r = imagetest::strata(root(), {"diff", "docker-archive:" + one + ".gz", "oci-archive:" + one});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    // Cut short, it is refused in the same words by either gzip engine.
    ASSERT_EQ(imagetest::shell("head -c $(( $(stat -c %s '" + one + ".gz') / 2 )) '" + one +
                               ".gz' > '" + one + ".cut.gz'"),
              0);
    std::string first_err;
    for (const char* engine : {"zlib", "isa-l"}) {
        if (std::string(engine) == "isa-l" && !store::GzipDecoder::isal_available()) continue;
        r = imagetest::strata(root(), {"diff", "docker-archive:" + one + ".cut.gz", "one"}, {},
                              {{"STRATA_GZIP", engine}});
        EXPECT_NE(r.code, 0) << engine << r.out;
        EXPECT_NE(r.err.find("cannot decompress: the gzip stream is truncated"), std::string::npos)
            << engine << ": " << r.err;
        if (first_err.empty()) first_err = r.err;
        EXPECT_EQ(r.err, first_err) << engine;
    }
}

}  // namespace
}  // namespace strata::difftest
