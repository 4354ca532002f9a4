// Pairs of images that differ in exactly one way: `strata diff` must report
// that one difference (and nothing it implies), and exit 1; identical images
// exit 0 with one line.
#include <nlohmann/json.hpp>

#include "diff/diff_fixture.hpp"

namespace strata::difftest {
namespace {

using nlohmann::json;

class OneDifference : public DiffTest {
  protected:
    // Runs the JSON diff and returns the differences, checking the exit code.
    json differences(const ImageSpec& a, const ImageSpec& b, std::vector<std::string> extra = {},
                     int code = 1) {
        extra.insert(extra.begin(), {"--format", "json"});
        auto r = diff_cli(a, b, extra);
        EXPECT_EQ(r.code, code) << r.out << r.err;
        EXPECT_EQ(r.err, "");
        json j = json::parse(r.out);
        return j["differences"];
    }
    void expect_one(const json& diffs, const std::string& scope, const std::string& path,
                    const std::string& field) {
        ASSERT_EQ(diffs.size(), 1u) << diffs.dump(2);
        EXPECT_EQ(diffs[0]["scope"], scope) << diffs.dump(2);
        if (!path.empty()) {
            EXPECT_EQ(diffs[0].value("path", ""), path) << diffs.dump(2);
        }
        EXPECT_EQ(diffs[0]["field"], field) << diffs.dump(2);
    }
};

TEST_F(OneDifference, IdenticalImagesExitZeroWithOneLine) {
    auto r = diff_cli(base_spec(), base_spec());
    EXPECT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    EXPECT_TRUE(r.out.starts_with("identical: sha256:")) << r.out;
}

TEST_F(OneDifference, OneByteOfOneFile) {
    auto b = base_spec();
    entry(b, 1, "app/config.txt").data = "a=1\nb=2\nc=9\nd=4\ne=5\n";
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/app/config.txt", "content");
    EXPECT_EQ(d[0]["layer"], 2);
    EXPECT_EQ(d[0]["unifiedDiff"], "@@ -1,5 +1,5 @@\n a=1\n b=2\n-c=3\n+c=9\n d=4\n e=5\n");
    // The text report names the layer's step and shows the line diff.
    auto r = diff_cli(base_spec(), b);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("COPY app /app"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("    -c=3\n    +c=9\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 difference\n"), std::string::npos) << r.out;
}

TEST_F(OneDifference, OneByteOfABinaryFile) {
    auto b = base_spec();
    entry(b, 1, "app/data.bin").data = std::string("\x01\x02\x00\x04", 4);
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/app/data.bin", "content");
    EXPECT_FALSE(d[0].contains("unifiedDiff"));
}

TEST_F(OneDifference, OneMode) {
    auto b = base_spec();
    entry(b, 0, "bin/tool").mode = 0700;
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/bin/tool", "mode");
    EXPECT_EQ(d[0]["a"], "0755");
    EXPECT_EQ(d[0]["b"], "0700");
}

TEST_F(OneDifference, OneOwner) {
    auto b = base_spec();
    entry(b, 1, "etc/extra").uid = 1000;
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/etc/extra", "owner");
    EXPECT_EQ(d[0]["a"], "0:0");
    EXPECT_EQ(d[0]["b"], "1000:0");
}

TEST_F(OneDifference, OneMtimeAndIgnoreTimestamps) {
    auto b = base_spec();
    entry(b, 0, "etc/hostname").mtime += 1;
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/etc/hostname", "mtime");
    EXPECT_EQ(d[0]["a"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(d[0]["b"], "2023-11-14T22:13:21Z");
    auto r = diff_cli(base_spec(), b, {"--ignore", "timestamps"});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(r.out.starts_with("identical ignoring timestamps: sha256:")) << r.out;
}

TEST_F(OneDifference, OneXattr) {
    auto b = base_spec();
    entry(b, 2, "app/run.sh").xattrs["user.origin"] = "ci";
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/app/run.sh", "xattr user.origin");
    EXPECT_TRUE(d[0]["a"].is_null());
    EXPECT_EQ(d[0]["b"], "ci");
    EXPECT_EQ(differences(base_spec(), b, {"--ignore", "xattrs"}, 0).size(), 0u);
}

TEST_F(OneDifference, OneEnvVariable) {
    auto b = base_spec();
    b.env.push_back("FOO=1");
    auto d = differences(base_spec(), b);
    expect_one(d, "config", "", "config.Env[FOO]");
    EXPECT_TRUE(d[0]["a"].is_null());
    EXPECT_EQ(d[0]["b"], "FOO=1");
}

TEST_F(OneDifference, OneHistoryLine) {
    auto b = base_spec();
    b.created_by[2] = "RUN make run.sh V=1";
    auto d = differences(base_spec(), b);
    expect_one(d, "config", "", "history[2].created_by");
    EXPECT_EQ(differences(base_spec(), b, {"--ignore", "history"}, 0).size(), 0u);
}

TEST_F(OneDifference, AFileMovedBetweenLayers) {
    auto b = base_spec();
    auto& l1 = b.layers[1];
    Ent moved = entry(b, 1, "etc/extra");
    l1.erase(
        std::find_if(l1.begin(), l1.end(), [](const Ent& e) { return e.name == "etc/extra"; }));
    b.layers[0].push_back(moved);
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/etc/extra", "moved");
    EXPECT_EQ(d[0]["a"], "layer 2");
    EXPECT_EQ(d[0]["b"], "layer 1");
}

TEST_F(OneDifference, AWhiteout) {
    auto b = base_spec();
    b.layers[2].push_back({"etc/.wh.hostname", 'f', ""});
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/etc/hostname", "presence");
    EXPECT_EQ(d[0]["layer"], 3);
    EXPECT_TRUE(d[0]["a"].is_null());
    EXPECT_EQ(d[0]["b"], "whiteout");
}

TEST_F(OneDifference, AHardlinkBroken) {
    auto b = base_spec();
    auto& link = entry(b, 1, "app/link");
    link.type = 'f';
    link.data = "a=1\nb=2\nc=3\nd=4\ne=5\n";
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "/app/link", "hardlink");
    EXPECT_EQ(d[0]["a"], "/app/config.txt");
    EXPECT_TRUE(d[0]["b"].is_null());
}

TEST_F(OneDifference, EntryOrderOnly) {
    auto b = base_spec();
    std::swap(b.layers[0][1], b.layers[0][2]);
    auto d = differences(base_spec(), b);
    expect_one(d, "layer", "", "order");
    EXPECT_EQ(differences(base_spec(), b, {"--ignore", "order"}, 0).size(), 0u);
}

TEST_F(OneDifference, ALayerOnlyInOneImageListsItsFiles) {
    auto b = base_spec();
    b.layers.push_back({{"extra.txt", 'f', "x\n"}});
    b.created_by.push_back("COPY extra.txt /");
    auto d = differences(base_spec(), b, {"--ignore", "history"});
    ASSERT_EQ(d.size(), 2u) << d.dump(2);
    EXPECT_EQ(d[0]["field"], "presence");
    EXPECT_EQ(d[0]["layer"], 4);
    EXPECT_EQ(d[1]["path"], "/extra.txt");
}

TEST_F(OneDifference, UnknownIgnoreIsAnErrorWithExitTwo) {
    auto r = diff_cli(base_spec(), base_spec(), {"--ignore", "colours"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("unknown 'colours'"), std::string::npos) << r.err;
    auto missing = imagetest::strata(root(), {"diff", "oci:/nonexistent", "oci:/nonexistent2"});
    EXPECT_EQ(missing.code, 2) << missing.err;
}

}  // namespace
}  // namespace strata::difftest
