// RUN on the default (private, pasta) network reaches Debian's mirror:
// `apt-get update` and an install work in a Debian base made with
// mmdebstrap, while `--network=none` cannot (so the test can fail). Skips,
// saying why, where there is no root, no mmdebstrap or no reachable mirror.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>

#include "base/temp_dir.hpp"

namespace strata::buildtest {
namespace {

namespace fs = std::filesystem;

struct Ran {
    int code;
    std::string out;
};

Ran sh(const std::string& cmd) {
    Ran r{-1, {}};
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen((cmd + " 2>&1").c_str(), "r"), ::pclose);
    if (!p) return r;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p.get())) > 0)
        r.out.append(buf.data(), n);
    const int st = ::pclose(p.release());
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// The first http(s) mirror apt is configured with on this machine.
std::string apt_mirror() {
    std::regex uri(R"((?:URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(https?://\S+))");
    for (const char* f : {"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}) {
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);) {
            std::smatch m;
            if (std::regex_search(line, m, uri)) return m[1];
        }
    }
    return {};
}

TEST(NetworkMirror, AptGetUpdateWorksOnTheDefaultNetworkAndNotOnNone) {
    if (::geteuid() != 0) GTEST_SKIP() << "RUN steps need root";
    if (sh("command -v mmdebstrap").code != 0)
        GTEST_SKIP() << "mmdebstrap is not installed (scripts/install-deps.sh installs it)";
    const std::string mirror = apt_mirror();
    if (mirror.empty()) GTEST_SKIP() << "no Debian mirror in /etc/apt/sources*";
    if (sh("curl -sfI --max-time 15 " + mirror + "/dists/bookworm/Release").code != 0)
        GTEST_SKIP() << "the mirror " << mirror << " is not reachable from this machine";

    // The Debian base is kept between runs on the same machine.
    const fs::path cache = "/var/cache/strata-tests";
    const fs::path rootfs = cache / "debian-apt.tar";
    fs::create_directories(cache);
    if (!fs::is_regular_file(rootfs)) {
        // --format=tar: mmdebstrap tells the format from the target's name
        // otherwise, and "….tmp" made a directory.
        fs::remove_all(rootfs);
        const auto made =
            sh("mmdebstrap --quiet --variant=apt --mode=root --format=tar bookworm " +
               rootfs.string() + ".tmp && mv " + rootfs.string() + ".tmp " + rootfs.string());
        ASSERT_EQ(made.code, 0) << made.out;
    }
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-mirror-");
    const std::string strata =
        std::string(STRATA_BINARY) + " --root " + (dir.path() / "root").string();
    const auto imported = sh(strata + " import " + rootfs.string() + " debian:apt");
    ASSERT_EQ(imported.code, 0) << imported.out;
    const fs::path ctx = dir.path() / "ctx";
    fs::create_directories(ctx);
    std::ofstream(ctx / "Dockerfile")
        << "FROM debian:apt\n"
           "RUN apt-get update && apt-get install -y --no-install-recommends hello && hello\n";

    const auto ok = sh(strata + " build --progress plain " + ctx.string());
    EXPECT_EQ(ok.code, 0) << ok.out;
    EXPECT_NE(ok.out.find("Hello, world!"), std::string::npos) << ok.out;

    const auto none =
        sh(strata + " build --progress plain --no-cache --network none " + ctx.string());
    EXPECT_NE(none.code, 0) << "apt-get reached the mirror without a network:\n" << none.out;
}

}  // namespace
}  // namespace strata::buildtest
