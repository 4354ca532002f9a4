// `strata build --output/-o` as buildx spells it, `--annotation`, and the
// layer format recorded in --metadata-file, through the real binary.
#include <archive.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cli/image_cli_fixture.hpp"
#include "cli/tar_read_util.hpp"
#include "planner/build_plan.hpp"

namespace strata::imagetest {
namespace {

constexpr int64_t kEpoch = 1700000000;

class BuildOutputCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "a.txt", "alpha\n");
        write_file(ctx_ / "Dockerfile",
                   "FROM busybox\nCOPY a.txt /app/a.txt\n"
                   "RUN echo built > /app/b.txt && rm /etc/motd\n");
    }
    RunResult build(std::vector<std::string> args, bool epoch = true) {
        args.insert(args.begin(), "build");
        args.push_back(ctx_.string());
        std::map<std::string, std::string> env;
        if (epoch) env["SOURCE_DATE_EPOCH"] = std::to_string(kEpoch);
        return strata(root_, std::move(args), "", env);
    }
    fs::path ctx_;
};

TEST_F(BuildOutputCli, TarToStdoutIsTheMergedFilesystemClamped) {
    const auto r = build({"-o", "-"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::map<std::string, TarEntry> byname;
    for (auto& e : read_tar(r.out))
        byname[e.name] = e;
    ASSERT_TRUE(byname.count("app/a.txt")) << "the COPY";
    EXPECT_EQ(byname["app/a.txt"].data, "alpha\n");
    EXPECT_EQ(byname["app/b.txt"].data, "built\n");
    EXPECT_TRUE(byname.count("bin/busybox")) << "the base image's files too";
    EXPECT_FALSE(byname.count("etc/motd")) << "deleted by RUN";
    for (const auto& [name, e] : byname) {
        EXPECT_LE(e.mtime, kEpoch) << name;
        EXPECT_EQ(name.find(".wh."), std::string::npos) << "no whiteouts in a merged tree";
    }
    // The same bytes again: deterministic, as a layer tar is.
    const auto again = build({"-o", "type=tar,dest=-"});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_TRUE(again.out == r.out);
    const fs::path file = dir_.path() / "fs.tar";
    ASSERT_EQ(build({"-o", "type=tar,dest=" + file.string()}).code, 0);
    EXPECT_TRUE(read_file(file) == r.out);
}

TEST_F(BuildOutputCli, LocalWritesTheFilesIntoADirectory) {
    const fs::path out = dir_.path() / "out";
    for (const std::string& spec : {out.string(), "type=local,dest=" + out.string() + "2"}) {
        const auto r = build({"-o", spec});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    for (const fs::path& d : {out, fs::path(out.string() + "2")}) {
        EXPECT_EQ(read_file(d / "app/a.txt"), "alpha\n");
        EXPECT_EQ(read_file(d / "app/b.txt"), "built\n");
        EXPECT_FALSE(fs::exists(d / "etc/motd"));
        for (auto it = fs::recursive_directory_iterator(d);
             it != fs::recursive_directory_iterator(); ++it) {
            struct stat st {};
            ASSERT_EQ(::lstat(it->path().c_str(), &st), 0);
            EXPECT_LE(st.st_mtim.tv_sec, kEpoch) << it->path();
        }
    }
}

TEST_F(BuildOutputCli, DockerAndOciArchivesLoadIntoAnotherStore) {
    const fs::path docker = dir_.path() / "d.tar", oci = dir_.path() / "o.tar";
    const auto r = build({"-q", "-t", "app:1", "-o",
                          "type=docker,dest=" + docker.string() + ",name=other/app:2", "-o",
                          "type=oci,dest=" + oci.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string id = r.out.substr(0, r.out.size() - 1);
    EXPECT_EQ(
        nlohmann::json::parse(tar_members(read_file(docker)).at("manifest.json"))[0]["RepoTags"][0],
        "other/app:2")
        << "name= names the image in the archive";
    for (const fs::path& archive : {docker, oci}) {
        const fs::path other = dir_.path() / ("root-" + archive.stem().string());
        const auto load = strata(other, {"load", "-i", archive.string()});
        ASSERT_EQ(load.code, 0) << load.err;
        const auto images = strata(other, {"images", "-q", "--no-trunc"});
        EXPECT_NE(images.out.find(id), std::string::npos) << archive << ": " << images.out;
    }
    // type=image,name=… and type=docker without dest name the image in the store.
    ASSERT_EQ(build({"-o", "type=image,name=named:x", "-o", "type=docker,name=loaded:y"}).code, 0);
    for (const char* name : {"named:x", "loaded:y"}) {
        const auto r2 = strata(root_, {"inspect", name});
        EXPECT_EQ(r2.code, 0) << name << ": " << r2.err;
    }
}

TEST_F(BuildOutputCli, ArchiveLayersInTheAskedCompression) {
    // The layer media types in the archive's manifest, by compression= value.
    const std::map<std::string, std::string> want{
        {"", "application/vnd.oci.image.layer.v1.tar+gzip"},
        {",compression=gzip", "application/vnd.oci.image.layer.v1.tar+gzip"},
        {",compression=zstd", "application/vnd.oci.image.layer.v1.tar+zstd"},
        {",compression=uncompressed", "application/vnd.oci.image.layer.v1.tar"}};
    std::string id;
    for (const auto& [option, media_type] : want) {
        SCOPED_TRACE(option);
        const fs::path archive = dir_.path() / "c.tar";
        const auto r = build({"-q", "-o", "type=oci,dest=" + archive.string() + option});
        ASSERT_EQ(r.code, 0) << r.err;
        if (id.empty()) id = r.out;
        EXPECT_EQ(r.out, id) << "the image ID does not depend on the compression";
        const auto members = tar_members(read_file(archive));
        const auto index = nlohmann::json::parse(members.at("index.json"));
        const std::string digest = index["manifests"][0]["digest"];
        const auto manifest = nlohmann::json::parse(members.at("blobs/sha256/" + digest.substr(7)));
        for (const auto& layer : manifest["layers"])
            EXPECT_EQ(layer["mediaType"], media_type);
        const fs::path other = dir_.path() / "root-c";
        fs::remove_all(other);
        const auto load = strata(other, {"load", "-i", archive.string()});
        EXPECT_EQ(load.code, 0) << load.err;
    }
    const auto bad = build({"-o", "type=oci,dest=x.tar,compression=lz4"});
    EXPECT_NE(bad.code, 0);
    EXPECT_NE(bad.err.find("compression=gzip|zstd|uncompressed"), std::string::npos) << bad.err;
}

TEST_F(BuildOutputCli, RegistryAndBadSpecsAreRefusedBeforeBuilding) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--push"}, "tag is needed when pushing to registry"},
        {{"-o", "type=registry"}, "tag is needed when pushing to registry"},
        {{"-o", "type=image,push=true"}, "tag is needed when pushing to registry"},
        {{"-o", "type=local,dest=x,push=true"}, "push=true applies to type=image"},
        {{"-o", "type=local"}, "dest directory is required for local exporter"},
        {{"-o", "type=local,dest=-"}, "dest directory is required for local exporter"},
        {{"-o", "dest=x"}, "type is required for output"},
        {{"-o", "type=s3"}, "unknown type \"s3\""},
        {{"-o", "type=tar,dest=x,platform-split=false"}, "does not support the option"},
        {{"-o", "type=docker,dest=x,rewrite-timestamp=maybe"}, "invalid value \"maybe\""},
        {{"-o", "-", "-o", "type=oci,dest=-"}, "only one output can go to standard output"},
        {{"-q", "-o", "-"}, "cannot be used with an --output to standard output"},
        {{"--annotation", "index:a=b"}, "the index level is not supported"},
        {{"--annotation", "manifest-descriptor:a=b"}, "manifest-descriptor level is not supported"},
        {{"--annotation", "foo:a=b"}, "unknown annotation type \"foo\""},
        {{"--annotation", "manifest[windows/arm64]:a=b"}, "strata builds for the host platform"},
        {{"--annotation", "novalue"}, "expected key=value"},
    };
    for (const auto& [args, needle] : cases) {
        const auto r = build(args);
        EXPECT_NE(r.code, 0) << args.back();
        EXPECT_NE(r.err.find(needle), std::string::npos) << args.back() << ": " << r.err;
        EXPECT_EQ(r.err.find("#1 "), std::string::npos) << "refused before building: " << r.err;
    }
}

TEST_F(BuildOutputCli, AnnotationsAndLabelsInAStableOrder) {
    const fs::path m1 = dir_.path() / "m1.json", m2 = dir_.path() / "m2.json";
    ASSERT_EQ(build({"--metadata-file", m1.string(), "--label", "b=2", "--label", "a=1",
                     "--annotation", "manifest:org.z=1", "--annotation", "org.a=2"})
                  .code,
              0);
    ASSERT_EQ(build({"--metadata-file", m2.string(), "--label", "a=1", "--label", "b=2",
                     "--annotation", "org.a=2", "--annotation",
                     "manifest[" + planner::host_platform().str() + "]:org.z=1"})
                  .code,
              0);
    const auto j1 = nlohmann::json::parse(read_file(m1)), j2 = nlohmann::json::parse(read_file(m2));
    EXPECT_EQ(j1["containerimage.digest"], j2["containerimage.digest"]);
    const std::string digest = j1["containerimage.digest"];
    const auto manifest =
        nlohmann::json::parse(read_file(root_ / "blobs/sha256" / digest.substr(7)));
    EXPECT_EQ(manifest["annotations"].dump(), R"({"org.a":"2","org.z":"1"})");

    // What determines the layer blobs' bytes.
    EXPECT_EQ(j1["strata.layer.compression"], "none");  // stored as plain tars
    EXPECT_EQ(j1["strata.export.compression"],
              std::string("gzip, zlib ") + zlibVersion() +
                  ", level 6, 256 KiB blocks with a 32 KiB dictionary, no name, mtime 0");
    EXPECT_EQ(j1["strata.layer.tar"].get<std::string>().rfind(
                  std::string("pax_restricted, ") + archive_version_string() + ",", 0),
              0u)
        << j1["strata.layer.tar"];
}

}  // namespace
}  // namespace strata::imagetest
