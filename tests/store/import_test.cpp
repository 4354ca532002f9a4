// import: a one-layer image from a rootfs tarball, and its --change rules.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

TEST(Import, MakesAOneLayerImageLikeDockerImport) {
    auto dir = scratch();
    auto tar = make_busybox_rootfs(dir.path());
    ImageStore store(dir.path() / "root");
    auto fd = open_bytes(dir, read_file(tar), "r.tar");
    ImportOptions opts;
    opts.name = Reference::parse("bb:1");
    opts.source = "r.tar";
    opts.changes = {"ENV PATH=/bin", "WORKDIR /root", "CMD sh -c 'echo hi'", "EXPOSE 80 53/udp",
                    "LABEL a=1 \"b c\"=\"d e\""};
    auto result = import_rootfs(store, fd.get(), opts);
    const auto& img = result.image;
    ASSERT_EQ(img.layers.size(), 1u);
    EXPECT_EQ(img.layers[0].diff_id.hex, sha256_hex(read_file(tar)));  // the tar's bytes are kept
    // Stored as a plain tar, as Docker's store keeps layers: its digest is the diffID.
    EXPECT_EQ(img.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
    EXPECT_EQ(img.layers[0].digest, img.layers[0].diff_id);
    EXPECT_EQ(img.layers[0].size, read_file(tar).size());
    auto cfg = store.config(img);
    EXPECT_EQ(cfg.os, "linux");
    EXPECT_EQ(cfg.architecture, host_platform().architecture);
    ASSERT_EQ(cfg.history.size(), 1u);
    EXPECT_EQ(cfg.history[0].comment, "Imported from r.tar");
    EXPECT_EQ(cfg.config.env, std::vector<std::string>{"PATH=/bin"});
    EXPECT_EQ(cfg.config.working_dir, "/root");
    EXPECT_EQ(*cfg.config.cmd, (std::vector<std::string>{"/bin/sh", "-c", "sh -c 'echo hi'"}));
    EXPECT_EQ(cfg.config.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp"}));
    EXPECT_EQ(cfg.config.labels.at("b c"), "d e");
    EXPECT_EQ(store.lookup("bb:1").image.manifest, img.manifest);
    EXPECT_TRUE(check_store(store).ok());
    EXPECT_TRUE(tmp_is_empty(dir.path() / "root"));
}

TEST(Import, SourceDateEpochMakesItReproducible) {
    auto dir = scratch();
    auto tar = make_busybox_rootfs(dir.path());
    ImageStore a(dir.path() / "a"), b(dir.path() / "b");
    auto ia = import_tar(a, tar, "x:1", 1234567890);
    auto ib = import_tar(b, tar, "y:2", 1234567890);
    EXPECT_EQ(ia.manifest, ib.manifest);
    EXPECT_EQ(ia.config, ib.config);
    EXPECT_EQ(a.config(ia).created, "2009-02-13T23:31:30Z");
}

TEST(Import, CompressedInputAndOtherLayerCompressions) {
    auto dir = scratch();
    auto tar = make_busybox_rootfs(dir.path());
    ASSERT_EQ(shell("gzip -k '" + tar.string() + "'"), 0);
    ImageStore store(dir.path() / "root");
    auto from_gz = import_tar(store, tar.string() + ".gz", "gz:1");
    auto from_tar = import_tar(store, tar, "tar:1");
    EXPECT_EQ(from_gz.layers[0].diff_id, from_tar.layers[0].diff_id);
    for (auto [c, mt] :
         {std::pair{Compression::kZstd, "application/vnd.oci.image.layer.v1.tar+zstd"},
          std::pair{Compression::kNone, "application/vnd.oci.image.layer.v1.tar"}}) {
        auto fd = open_bytes(dir, read_file(tar), "again.tar");
        ImportOptions opts;
        opts.compression = c;
        auto img = import_rootfs(store, fd.get(), opts).image;
        EXPECT_EQ(img.layers[0].media_type, mt);
        EXPECT_EQ(img.layers[0].diff_id, from_tar.layers[0].diff_id);
    }
    EXPECT_TRUE(check_store(store).ok());
}

TEST(ConfigChange, Table) {
    struct Case {
        const char* change;
        const char* field;  // expected JSON of the changed field in "config"
        const char* value;
    };
    const Case cases[] = {
        {R"(CMD ["sh", "-c", "x"])", "Cmd", R"(["sh","-c","x"])"},
        {"CMD echo hi", "Cmd", R"(["/bin/sh","-c","echo hi"])"},
        {R"(ENTRYPOINT ["/init"])", "Entrypoint", R"(["/init"])"},
        {"ENV A=1 B=\"two words\"", "Env", R"(["A=1","B=two words"])"},
        {"ENV A one two", "Env", R"(["A=one two"])"},
        {"env lower=case", "Env", R"(["lower=case"])"},
        {"LABEL k=v", "Labels", R"({"k":"v"})"},
        {"EXPOSE 8080/TCP", "ExposedPorts", R"({"8080/tcp":{}})"},
        {R"(VOLUME ["/a", "/b"])", "Volumes", R"({"/a":{},"/b":{}})"},
        {"VOLUME /c /d", "Volumes", R"({"/c":{},"/d":{}})"},
        {"WORKDIR /srv", "WorkingDir", R"("/srv")"},
        {"USER 1000:1000", "User", R"("1000:1000")"},
        {"STOPSIGNAL SIGKILL", "StopSignal", R"("SIGKILL")"},
        {"ONBUILD RUN make", "OnBuild", R"(["RUN make"])"},
        {R"(SHELL ["/bin/bash", "-c"])", "Shell", R"(["/bin/bash","-c"])"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.change);
        ImageConfig cfg;
        apply_config_change(cfg.config, c.change);
        EXPECT_EQ(cfg.to_json()["config"][c.field].dump(), c.value);
    }
    ContainerConfig w;
    apply_config_change(w, "WORKDIR /a");
    apply_config_change(w, "WORKDIR b");
    EXPECT_EQ(w.working_dir, "/a/b");
    for (const char* bad :
         {"RUN echo", "CMD", "EXPOSE http", "ENV =x", "SHELL sh", "LABEL \"unterminated"}) {
        SCOPED_TRACE(bad);
        ContainerConfig c;
        EXPECT_THROW(apply_config_change(c, bad), Error);
    }
}

}  // namespace
}  // namespace strata::store
