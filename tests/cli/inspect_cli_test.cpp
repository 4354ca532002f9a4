// `strata inspect` and `strata history` through the real binary.
#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

TEST_F(CliTest, InspectIsShapedLikeDockerImageInspect) {
    auto r = run_ok({"inspect", "busybox"});
    auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 1u);
    const auto& i = j[0];
    EXPECT_EQ(i["Id"], id_);
    EXPECT_EQ(i["RepoTags"], nlohmann::json::array({"busybox:latest"}));
    EXPECT_EQ(i["RepoDigests"][0].get<std::string>().rfind("busybox@sha256:", 0), 0u);
    EXPECT_EQ(i["Config"]["Cmd"], nlohmann::json::array({"sh"}));
    EXPECT_TRUE(i["Config"]["Entrypoint"].is_null());
    EXPECT_EQ(i["Os"], "linux");
    EXPECT_EQ(i["RootFS"]["Type"], "layers");
    EXPECT_EQ(i["RootFS"]["Layers"].size(), 1u);
    EXPECT_GT(i["Size"].get<uint64_t>(), 1000000u);
    for (const char* k : {"Parent", "Comment", "Created", "Author", "Architecture", "GraphDriver",
                          "Metadata", "VirtualSize", "DockerVersion"})
        EXPECT_TRUE(i.contains(k)) << k;
    EXPECT_EQ(r.out.substr(0, 6), "[\n    ");  // Docker's 4-space indentation
    // Same document by ID, ID prefix and digest.
    EXPECT_EQ(run_ok({"inspect", short_id()}).out, r.out);
    EXPECT_EQ(run_ok({"inspect", id_}).out, r.out);
    std::string manifest = i["Descriptor"]["digest"];
    EXPECT_EQ(run_ok({"inspect", "busybox@" + manifest}).out, r.out);
}

TEST_F(CliTest, InspectFormatAndErrors) {
    EXPECT_EQ(
        run_ok({"inspect", "-f", "{{.Id}} {{json .Config.Cmd}} {{.Config.Cmd}}", "busybox"}).out,
        id_ + " [\"sh\"] [sh]\n");
    auto two = run_ok({"inspect", "--format", "{{.Os}}", "busybox", short_id()});
    EXPECT_EQ(two.out, "linux\nlinux\n");
    // Neither a container nor an image: Docker's "object".
    auto missing = run_fail({"inspect", "busybox", "nothere"}, "No such object: nothere");
    EXPECT_EQ(missing.code, 1);
    EXPECT_EQ(nlohmann::json::parse(missing.out).size(), 1u);  // the found one is printed
    run_fail({"inspect", "--type", "image", "nothere"}, "No such image: nothere");
    run_fail({"inspect", "-f", "{{range .RepoTags}}{{end}}", "busybox"}, "template");
    run_fail({"inspect"}, "images");
}

TEST_F(CliTest, HistoryLooksLikeDockerHistory) {
    auto r = run_ok({"history", "busybox"});
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 2u) << r.out;
    EXPECT_EQ(ls[0].rfind("IMAGE          CREATED", 0), 0u) << ls[0];
    EXPECT_NE(ls[0].find("CREATED BY"), std::string::npos);
    EXPECT_NE(ls[0].find("COMMENT"), std::string::npos);
    EXPECT_EQ(ls[1].rfind(short_id(), 0), 0u);
    EXPECT_NE(ls[1].find("Imported from " + tar_.string()), std::string::npos);
    EXPECT_EQ(run_ok({"history", "-q", "busybox"}).out, short_id() + "\n");
    EXPECT_EQ(run_ok({"history", "-q", "--no-trunc", "busybox"}).out, id_ + "\n");
    auto raw = run_ok({"history", "--human=false", "busybox"});
    EXPECT_NE(raw.out.find("Z "), std::string::npos) << raw.out;  // RFC 3339 times
    auto json =
        nlohmann::json::parse(lines(run_ok({"history", "--format", "json", "busybox"}).out)[0]);
    EXPECT_EQ(json["ID"], short_id());
    EXPECT_EQ(json["Comment"], "Imported from " + tar_.string());
    run_fail({"history", "nothere"}, "No such image");
}

TEST_F(CliTest, HistoryShowsEmptyLayersAndTruncatesLikeDocker) {
    // An image with Docker-built history: a layer, then metadata-only steps.
    std::string layer = TarBuilder().file("f", "x").finish();
    std::string long_cmd =
        "/bin/sh -c #(nop)  CMD [\"sh\" \"-c\" \"echo a very long command line here\"]";
    nlohmann::json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + sha256_hex(layer)}}}},
        {"history",
         {{{"created", "2020-01-01T00:00:00Z"},
           {"created_by", "/bin/sh -c #(nop) ADD file:abc in / "}},
          {{"created", "2020-01-01T00:00:01Z"}, {"created_by", long_cmd}, {"empty_layer", true}}}}};
    std::string cfg = config.dump();
    std::string chex = sha256_hex(cfg);
    std::string archive =
        TarBuilder()
            .file("l.tar", layer)
            .file(chex + ".json", cfg)
            .file("manifest.json",
                  R"([{"Config":")" + chex + R"(.json","RepoTags":["hist:1"],"Layers":["l.tar"]}])")
            .finish();
    auto load = run_ok({"load"}, archive);
    EXPECT_EQ(load.out, "Loaded image: hist:1\n");
    auto ls = lines(run_ok({"history", "hist:1"}).out);
    ASSERT_EQ(ls.size(), 3u);
    EXPECT_EQ(ls[1].rfind(chex.substr(0, 12), 0), 0u);
    EXPECT_NE(ls[1].find("0B"), std::string::npos);  // the empty layer
    EXPECT_NE(ls[1].find("   " + long_cmd.substr(0, 44) + "…   "), std::string::npos) << ls[1];
    EXPECT_EQ(ls[2].rfind("<missing>", 0), 0u);
    EXPECT_NE(ls[2].find("1B"), std::string::npos);
    auto full = run_ok({"history", "--no-trunc", "hist:1"}).out;
    EXPECT_NE(full.find(long_cmd), std::string::npos);
}

}  // namespace
}  // namespace strata::imagetest
