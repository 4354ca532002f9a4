// The JSON report's shape is an interface: compared with a golden file
// (testdata/diff/report.json; STRATA_UPDATE_GOLDEN=1 rewrites it).
#include <cstdlib>

#include "diff/diff_fixture.hpp"

namespace strata::difftest {
namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
        s.replace(i, from.size(), to);
    return s;
}

TEST_F(DiffTest, JsonReportMatchesGolden) {
    auto b = base_spec();
    entry(b, 1, "app/config.txt").data = "a=1\nb=2\nc=9\nd=4\ne=5\n";
    entry(b, 0, "bin/tool").mode = 0700;
    entry(b, 0, "etc/hostname").mtime += 60;
    b.env.push_back("FOO=1");
    b.created_by[1] = "COPY --chmod=644 app /app";
    auto r = diff_cli(base_spec(), b, {"--format", "json"});
    ASSERT_EQ(r.code, 1) << r.err;
    std::string out = replace_all(r.out, dir_.path().string(), "$DIR");
    const fs::path golden = fs::path(STRATA_SOURCE_DIR) / "testdata/diff/report.json";
    if (std::getenv("STRATA_UPDATE_GOLDEN")) imagetest::write_file(golden, out);
    EXPECT_EQ(out, imagetest::read_file(golden));
}

TEST_F(DiffTest, SingleImageListsAddedChangedDeletedPerLayer) {
    auto s = base_spec();
    s.layers[2].push_back({"etc/.wh.hostname", 'f', ""});
    write_oci(a_dir(), s);
    auto r = imagetest::strata(root(), {"diff", "oci:" + a_dir().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("layer 1 ("), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("): ADD rootfs.tar /\nA /bin\nA /bin/sh\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("): COPY app /app\nA /app\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("C /etc\nA /etc/extra\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("): RUN make run.sh\nC /app\nA /app/run.sh\nD /etc/hostname\n"),
              std::string::npos)
        << r.out;
}

}  // namespace
}  // namespace strata::difftest
