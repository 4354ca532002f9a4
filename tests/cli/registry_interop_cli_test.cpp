// Images other tools put into a registry — Docker schema2, OCI, OCI with a
// zstd layer, all pushed by skopeo — are pulled by strata and used in FROM;
// and Docker itself pulls what strata pushed (where a Docker daemon is
// reachable). A real docker-registry on 127.0.0.1, plain HTTP.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/image_cli_fixture.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

class RegistryInterop : public CliTest {
  protected:
    void SetUp() override {
        std::string skip;
        reg_ = test::RegistryServer::start(test::RegistryServer::Mode::kPlainHttp, skip);
        if (!reg_) GTEST_SKIP() << skip;
        if (!have_tool("skopeo"))
            GTEST_SKIP() << "skopeo is not installed (apt-get install skopeo)";
        CliTest::SetUp();
        host_ = reg_->host();
    }
    RunResult ok(const fs::path& root, std::vector<std::string> args) {
        auto r = strata(root, args);
        std::string cmd;
        for (const auto& a : args)
            cmd += a + " ";
        EXPECT_EQ(r.code, 0) << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
        return r;
    }
    int sh(const std::string& cmd, std::string& out) {
        const fs::path log = dir_.path() / "sh.log";
        const int rc = shell("(" + cmd + ") >" + log.string() + " 2>&1");
        out = read_file(log);
        return rc;
    }
    std::optional<test::RegistryServer> reg_;
    std::string host_;
};

TEST_F(RegistryInterop, ImagesSkopeoPushedArePulledAndBuiltOn) {
    const fs::path archive = dir_.path() / "busybox.tar";
    ok(root_, {"save", "-o", archive.string(), "busybox"});
    // A zstd layer: Debian's skopeo 1.9 cannot recompress a gzip layer, so
    // strata writes the OCI archive and skopeo pushes it as it is.
    const fs::path zstd_archive = dir_.path() / "busybox-zstd.tar";
    write_file(dir_.path() / "ctx-z" / "Dockerfile", "FROM busybox\n");
    ok(root_, {"build", "-q", "-o", "type=oci,compression=zstd,dest=" + zstd_archive.string(),
               (dir_.path() / "ctx-z").string()});
    const struct {
        const char* tag;
        std::string source;
        const char* layer_media_type;
    } rows[] = {
        {"schema2", "--format v2s2 docker-archive:" + archive.string(),
         "application/vnd.docker.image.rootfs.diff.tar.gzip"},
        {"oci", "--format oci docker-archive:" + archive.string(),
         "application/vnd.oci.image.layer.v1.tar+gzip"},
        {"zstd", "oci-archive:" + zstd_archive.string(),
         "application/vnd.oci.image.layer.v1.tar+zstd"},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.tag);
        const std::string ref = host_ + "/foreign/busybox:" + row.tag;
        std::string out;
        ASSERT_EQ(
            sh("skopeo copy -q --dest-tls-verify=false " + row.source + " docker://" + ref, out), 0)
            << out;
        ASSERT_EQ(sh("skopeo inspect --raw --tls-verify=false docker://" + ref, out), 0) << out;
        ASSERT_NE(out.find(row.layer_media_type), std::string::npos) << out;
        // skopeo's conversion to OCI rewrites the config: the image ID is
        // the config digest the registry's manifest names.
        const std::string config = nlohmann::json::parse(out)["config"]["digest"];
        // Into an empty store, then a build on it that runs a command.
        const fs::path fresh = dir_.path() / (std::string("fresh-") + row.tag);
        ok(fresh, {"pull", "-q", ref});
        const fs::path ctx = dir_.path() / (std::string("ctx-") + row.tag);
        write_file(ctx / "Dockerfile", "FROM " + ref + "\nRUN echo built > /proof && cat /proof\n");
        auto b = ok(fresh, {"build", "--progress", "plain", "-t", "on-" + std::string(row.tag),
                            ctx.string()});
        EXPECT_NE(b.err.find("built"), std::string::npos) << b.err;
        auto inspect = ok(fresh, {"inspect", "--format", "{{.Id}}", ref});
        EXPECT_EQ(inspect.out.substr(0, 71), config);
        // Kept as the registry served it (zstd stays zstd): pushed back
        // elsewhere, the manifest is byte for byte the same.
        const std::string back = host_ + "/again/busybox:" + row.tag;
        ok(fresh, {"push", "-q", ref, back});
        std::string served, again;
        sh("skopeo inspect --raw --tls-verify=false docker://" + ref, served);
        sh("skopeo inspect --raw --tls-verify=false docker://" + back, again);
        EXPECT_EQ(served, again);
    }
}

// The Docker daemon the benchmarks start (../shared/bench/setup-peers.sh),
// or the system's: whichever answers.
std::string docker_command() {
    for (const char* host :
         {"unix:///tmp/strata-peers/docker.sock", "unix:///var/run/docker.sock"}) {
        const std::string cmd = std::string("/usr/bin/docker -H ") + host;
        if (std::system((cmd + " info >/dev/null 2>&1").c_str()) == 0) return cmd;
    }
    return "";
}

TEST_F(RegistryInterop, DockerPullsWhatStrataPushed) {
    const std::string docker = docker_command();
    if (docker.empty())
        GTEST_SKIP() << "no Docker daemon answers (/tmp/strata-peers/docker.sock, "
                        "/var/run/docker.sock): ../shared/bench/setup-peers.sh starts one";
    const fs::path ctx = dir_.path() / "ctx";
    write_file(ctx / "Dockerfile", "FROM busybox\nRUN echo from-strata > /hello\n");
    const std::string ref = host_ + "/strata-made/app:1";
    ok(root_, {"build", "-q", "-t", ref, ctx.string()});
    ok(root_, {"push", "-q", ref});
    const std::string id = ok(root_, {"inspect", "--format", "{{.Id}}", ref}).out.substr(0, 71);
    std::string out;
    ASSERT_EQ(sh(docker + " pull -q " + ref, out), 0) << out;
    ASSERT_EQ(sh(docker + " image inspect --format '{{.Id}}' " + ref, out), 0) << out;
    EXPECT_EQ(out.substr(0, 71), id);
    ASSERT_EQ(sh(docker + " run --rm --network none " + ref + " cat /hello", out), 0) << out;
    EXPECT_EQ(out, "from-strata\n");
    sh(docker + " rmi -f " + ref, out);
}

}  // namespace
}  // namespace strata::imagetest
