// `strata build --build-arg SOURCE_DATE_EPOCH=…` through the real binary: the
// same image as --source-date-epoch, the flag wins over the build arg, the
// build arg over the environment, and a bad value fails in BuildKit's words;
// RUN steps that create, touch and delete files give the same archive from two
// stores, every new layer entry clamped; --rewrite-timestamp spellings.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cli/image_cli_fixture.hpp"
#include "cli/tar_read_util.hpp"

namespace strata::imagetest {
namespace {

class SourceDateEpochCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "a.txt", "alpha\n");
        write_file(ctx_ / "Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nLABEL l=1\n");
    }
    RunResult build(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), "build");
        args.push_back(ctx_.string());
        return strata(root_, std::move(args), "", env);
    }
    fs::path ctx_;
};

TEST_F(SourceDateEpochCli, BuildArgFlagAndEnvironment) {
    const auto flag = build({"-q", "--source-date-epoch", "1700000000"});
    ASSERT_EQ(flag.code, 0) << flag.err;
    const auto arg = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"});
    ASSERT_EQ(arg.code, 0) << arg.err;
    EXPECT_EQ(arg.out, flag.out) << "the build arg works like the flag";

    // The build arg wins over the environment; the flag over the build arg.
    const auto over_env = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"},
                                {{"SOURCE_DATE_EPOCH", "1600000000"}});
    ASSERT_EQ(over_env.code, 0) << over_env.err;
    EXPECT_EQ(over_env.out, flag.out);
    const auto over_arg = build({"-q", "--no-cache", "--source-date-epoch", "1700000000",
                                 "--build-arg", "SOURCE_DATE_EPOCH=1600000000"});
    ASSERT_EQ(over_arg.code, 0) << over_arg.err;
    EXPECT_EQ(over_arg.out, flag.out);
    const auto other = build({"-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1600000000"});
    ASSERT_EQ(other.code, 0) << other.err;
    EXPECT_NE(other.out, flag.out) << "another epoch, another image";
}

TEST_F(SourceDateEpochCli, BadValuesAreRejected) {
    for (const char* v : {"yesterday", "1.5", "-1"}) {
        const auto r = build({"--build-arg", std::string("SOURCE_DATE_EPOCH=") + v});
        EXPECT_EQ(r.code, 1) << v;
        EXPECT_NE(r.err.find(std::string("invalid SOURCE_DATE_EPOCH: ") + v), std::string::npos)
            << r.err;
    }
    const auto env = build({}, {{"SOURCE_DATE_EPOCH", "soon"}});
    EXPECT_EQ(env.code, 1);
    EXPECT_NE(env.err.find("invalid SOURCE_DATE_EPOCH: soon"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace strata::imagetest

// Reproducibility with RUN steps that create, touch and delete files: the
// same image, byte for byte, from two stores built seconds apart, and every
// entry of every new layer — whiteouts, opaque markers, the parents WORKDIR
// and COPY create — has an mtime no later than the epoch.
namespace strata::imagetest {
namespace {

constexpr int64_t kEpoch = 1700000000;  // 2023-11-14T22:13:20Z

class ReproducibleRunCli : public SourceDateEpochCli {
  protected:
    void SetUp() override {
        SourceDateEpochCli::SetUp();
        write_file(ctx_ / "Dockerfile",
                   "FROM busybox\n"
                   "WORKDIR /work/deep/dir\n"
                   "COPY a.txt /opt/app/nested/a.txt\n"
                   "RUN mkdir -p /data/keep /data/gone /var/x && echo hi > /data/keep/f && "
                   "echo bye > /data/gone/g && touch /data/keep/t && echo old > /var/x/o\n"
                   "RUN rm -rf /data/gone /data/keep/t /var/x && mkdir /var/x && "
                   "echo new > /var/x/n && touch /data/keep/f /opt/app && rm /etc/motd\n"
                   "LABEL b=2 a=1\n");
    }
    // Builds in the store at `root` and writes the image as an archive.
    std::string build_archive(const fs::path& root, const std::string& name,
                              std::vector<std::string> extra = {}) {
        const fs::path out = dir_.path() / name;
        std::vector<std::string> args = {"build", "-q", "-t",
                                         "app:1", "-o", "type=docker,dest=" + out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(ctx_.string());
        const auto r = strata(root, args, "", {{"SOURCE_DATE_EPOCH", std::to_string(kEpoch)}});
        EXPECT_EQ(r.code, 0) << r.err;
        return read_file(out);
    }
};

TEST_F(ReproducibleRunCli, SameArchiveFromTwoStoresAndEveryEntryClamped) {
    const std::string first = build_archive(root_, "first.tar");
    ASSERT_FALSE(first.empty());
    // Another store, another second (RUN's files get new times), the same
    // base image (as a pull by digest would give it).
    ::sleep(2);
    const fs::path base = dir_.path() / "busybox.tar", other = dir_.path() / "root2";
    ASSERT_EQ(strata(root_, {"save", "-o", base.string(), "busybox"}).code, 0);
    const auto load = strata(other, {"load", "-i", base.string()});
    ASSERT_EQ(load.code, 0) << load.err;
    const std::string second = build_archive(other, "second.tar");
    EXPECT_TRUE(first == second) << "the two archives differ";

    const auto members = tar_members(first);
    const auto manifest = nlohmann::json::parse(members.at("manifest.json"));
    const auto config = nlohmann::json::parse(members.at(manifest[0]["Config"].get<std::string>()));
    EXPECT_EQ(config["created"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(config["config"]["Labels"].dump(), R"({"a":"1","b":"2"})");
    const auto& layers = manifest[0]["Layers"];
    ASSERT_EQ(layers.size(), 5u);  // busybox, WORKDIR, COPY, RUN, RUN
    int whiteouts = 0, opaque = 0;
    for (size_t i = 1; i < layers.size(); ++i) {  // the base keeps its own times
        const auto entries = read_tar(members.at(layers[i].get<std::string>()));
        EXPECT_FALSE(entries.empty()) << i;
        for (const auto& e : entries) {
            EXPECT_LE(e.mtime, kEpoch) << "layer " << i << ": " << e.name;
            const std::string base = e.name.substr(e.name.rfind('/') + 1);
            opaque += base == ".wh..wh..opq";
            whiteouts += base != ".wh..wh..opq" && base.rfind(".wh.", 0) == 0;
        }
    }
    EXPECT_EQ(whiteouts, 3) << "/data/gone, /data/keep/t, /etc/motd";
    EXPECT_EQ(opaque, 1) << "/var/x, removed and made again";
}

TEST_F(ReproducibleRunCli, RewriteTimestampIsTheExplicitSpelling) {
    const std::string plain = build_archive(root_, "plain.tar");
    const std::string flag = build_archive(root_, "flag.tar", {"--rewrite-timestamp"});
    EXPECT_TRUE(plain == flag);
    const fs::path out = dir_.path() / "attr.tar";
    const auto r =
        strata(root_,
               {"build", "-q", "-t", "app:1", "-o",
                "type=docker,dest=" + out.string() + ",rewrite-timestamp=true", ctx_.string()},
               "", {{"SOURCE_DATE_EPOCH", std::to_string(kEpoch)}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(read_file(out) == plain);

    // Without an epoch: BuildKit's warning, and a build as usual.
    const auto none = build({"--rewrite-timestamp"});
    EXPECT_EQ(none.code, 0) << none.err;
    EXPECT_NE(none.err.find("WARNING: rewrite-timestamp is specified, but no source-date-epoch "
                            "was found"),
              std::string::npos)
        << none.err;
    // rewrite-timestamp=false does not turn clamping off, and says so.
    const auto off = strata(
        root_,
        {"build", "-q", "-o",
         "type=docker,dest=" + (dir_.path() / "off.tar").string() + ",rewrite-timestamp=false",
         ctx_.string()},
        "", {{"SOURCE_DATE_EPOCH", std::to_string(kEpoch)}});
    EXPECT_EQ(off.code, 0) << off.err;
    EXPECT_NE(off.err.find("rewrite-timestamp=false: strata clamps"), std::string::npos) << off.err;
}

}  // namespace
}  // namespace strata::imagetest
