// Which manifest of a multi-platform image is pulled (containerd's rules).
#include "registry/platform_select.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace strata::registry {
namespace {

store::Platform p(const std::string& os, const std::string& arch, const std::string& variant = "") {
    store::Platform out;
    out.os = os;
    out.architecture = arch;
    out.variant = variant;
    return out;
}

std::string strs(const std::vector<store::Platform>& v) {
    std::string out;
    for (const auto& x : v)
        out += (out.empty() ? "" : " ") + x.str();
    return out;
}

store::Descriptor entry(char digit, const store::Platform& platform) {
    store::Descriptor d;
    d.media_type = std::string(store::media_type::kOciManifest);
    d.digest = store::Digest::parse("sha256:" + std::string(64, digit));
    d.size = 100;
    d.platform = platform;
    return d;
}

TEST(PlatformSelect, NormalizesAsContainerd) {
    EXPECT_EQ(normalize_platform(p("", "x86_64")).str(), "linux/amd64");
    EXPECT_EQ(normalize_platform(p("linux", "aarch64", "v8")).str(), "linux/arm64");
    EXPECT_EQ(normalize_platform(p("linux", "arm")).str(), "linux/arm/v7");
    EXPECT_EQ(normalize_platform(p("linux", "armhf")).str(), "linux/arm/v7");
    EXPECT_EQ(normalize_platform(p("linux", "armel")).str(), "linux/arm/v6");
    EXPECT_EQ(normalize_platform(p("linux", "amd64", "v1")).str(), "linux/amd64");
    EXPECT_EQ(normalize_platform(p("Linux", "AMD64")).str(), "linux/amd64");
    EXPECT_EQ(normalize_platform(p("linux", "i686")).str(), "linux/386");
}

TEST(PlatformSelect, CompatiblePlatformsBestFirst) {
    const struct {
        store::Platform want;
        const char* expected;
    } rows[] = {
        {p("linux", "amd64"), "linux/amd64 linux/386"},
        {p("linux", "amd64", "v3"), "linux/amd64/v3 linux/amd64/v2 linux/amd64 linux/386"},
        {p("linux", "arm64"), "linux/arm64 linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5"},
        {p("linux", "arm", "v7"), "linux/arm/v7 linux/arm/v6 linux/arm/v5"},
        {p("linux", "arm", "v5"), "linux/arm/v5"},
        {p("linux", "s390x"), "linux/s390x"},
    };
    for (const auto& r : rows)
        EXPECT_EQ(strs(compatible_platforms(r.want)), r.expected) << r.want.str();
}

TEST(PlatformSelect, PicksTheBestEntry) {
    store::Index index;
    index.manifests = {entry('1', p("linux", "arm", "v6")), entry('2', p("linux", "arm64", "v8")),
                       entry('3', p("linux", "amd64")),     entry('4', p("linux", "arm", "v7")),
                       entry('5', p("unknown", "unknown")), entry('6', p("linux", "amd64"))};
    EXPECT_EQ(select_manifest(index, p("linux", "amd64")).digest.hex, std::string(64, '3'));
    EXPECT_EQ(select_manifest(index, p("linux", "arm64")).digest.hex, std::string(64, '2'));
    EXPECT_EQ(select_manifest(index, p("linux", "arm", "v7")).digest.hex, std::string(64, '4'));
    // An older variant when the exact one is missing.
    index.manifests.erase(index.manifests.begin() + 3);
    EXPECT_EQ(select_manifest(index, p("linux", "arm", "v7")).digest.hex, std::string(64, '1'));
}

TEST(PlatformSelect, NoMatchSaysWhatWasWanted) {
    store::Index index;
    index.manifests = {entry('1', p("linux", "s390x")), entry('5', p("unknown", "unknown"))};
    try {
        select_manifest(index, p("linux", "x86_64"));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_STREQ(e.what(), "no matching manifest for linux/amd64 in the manifest list entries");
    }
    // A 32-bit image runs on amd64.
    index.manifests.push_back(entry('7', p("linux", "386")));
    EXPECT_EQ(select_manifest(index, p("linux", "amd64")).digest.hex, std::string(64, '7'));
}

}  // namespace
}  // namespace strata::registry
