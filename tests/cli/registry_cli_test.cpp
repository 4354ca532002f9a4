// strata pull / push / login and the build's registry use, through the real
// binary against a real docker-registry on 127.0.0.1 (tests/support/
// registry_fixture.hpp) in its three setups; skopeo and umoci read what
// strata pushed and write what strata pulls.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/image_cli_fixture.hpp"
#include "cli/tar_read_util.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

using Json = nlohmann::json;
using Mode = test::RegistryServer::Mode;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines)
        s += "  " + l + "\n";
    return s;
}

size_t count_with(const std::vector<std::string>& lines, const std::string& needle) {
    return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
        return l.find(needle) != std::string::npos;
    }));
}

// The sha256:… after `prefix` in `text`, "" when absent.
std::string digest_after(const std::string& text, const std::string& prefix) {
    const size_t at = text.find(prefix);
    if (at == std::string::npos) return "";
    return text.substr(at + prefix.size(), 71);
}

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
    switch (info.param) {
        case Mode::kPlainHttp:
            return "PlainHttp";
        case Mode::kTlsBasicAuth:
            return "TlsBasicAuth";
        case Mode::kTokenAuth:
            return "TokenAuth";
    }
    return "Unknown";
}

// The fixture's three setups: plain HTTP (reached through the client's
// HTTPS → HTTP fallback for an insecure host), TLS + basic auth, and a
// bearer-token realm.
std::vector<Mode> setups() {
    return {Mode::kPlainHttp, Mode::kTlsBasicAuth, Mode::kTokenAuth};
}

// A registry of the test's setup, a docker config dir, and commands run
// with both (DOCKER_CONFIG, STRATA_CERTS_D) against any store root.
class RegistryCli : public CliTest, public ::testing::WithParamInterface<Mode> {
  protected:
    void SetUp() override {
        std::string skip;
        reg_ = test::RegistryServer::start(GetParam(), skip);
        if (!reg_) GTEST_SKIP() << skip;
        CliTest::SetUp();
        host_ = reg_->host();
    }

    std::map<std::string, std::string> env() const {
        std::map<std::string, std::string> e{{"DOCKER_CONFIG", (dir_.path() / "docker").string()},
                                             {"HOME", dir_.path().string()}};
        if (GetParam() == Mode::kTlsBasicAuth) e["STRATA_CERTS_D"] = reg_->certs_d();
        return e;
    }
    RunResult at(const fs::path& root, std::vector<std::string> args,
                 const std::string& input = {}) {
        return strata(root, std::move(args), input, env());
    }
    RunResult ok_at(const fs::path& root, std::vector<std::string> args) {
        auto r = at(root, args);
        std::string cmd;
        for (const auto& a : args)
            cmd += a + " ";
        EXPECT_EQ(r.code, 0) << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
        return r;
    }
    bool needs_login() const { return GetParam() != Mode::kPlainHttp; }
    void login() {
        if (!needs_login()) return;
        auto r = at(root_, {"login", "-u", reg_->username(), "--password-stdin", host_},
                    reg_->password() + "\n");
        ASSERT_EQ(r.code, 0) << r.err;
    }

    // skopeo's flags for this setup.
    std::string skopeo_tls(const std::string& side) const {
        const std::string p = side.empty() ? "--" : "--" + side + "-";
        if (GetParam() == Mode::kTlsBasicAuth)
            return p + "tls-verify=true " + p + "cert-dir " +
                   (fs::path(reg_->certs_d()) / host_).string();
        return p + "tls-verify=false";
    }
    std::string skopeo_creds(const std::string& side) const {
        const std::string p = side.empty() ? "--" : "--" + side + "-";
        if (GetParam() == Mode::kPlainHttp) return p + "no-creds";
        return p + "creds " + reg_->username() + ":" + reg_->password();
    }
    // Runs a shell command, stdout+stderr in `out`; its exit code.
    int sh(const std::string& cmd, std::string& out) {
        const fs::path log = dir_.path() / "sh.log";
        const int rc = shell("(" + cmd + ") >" + log.string() + " 2>&1");
        out = read_file(log);
        return rc;
    }

    // Builds `FROM busybox` + a RUN into root_ as host/NAME.
    std::string build_app(const std::string& name, const std::string& word = "hi") {
        const fs::path ctx = dir_.path() / ("ctx-" + name);
        write_file(ctx / "Dockerfile", "FROM busybox\nRUN echo " + word + " > /hi\n");
        auto r = ok_at(root_, {"build", "-q", "-t", host_ + "/" + name, ctx.string()});
        return r.out.substr(0, 71);
    }
    // `history`'s SIZE column, newest first, in bytes.
    std::vector<std::string> history_sizes(const fs::path& root, const std::string& ref) {
        std::vector<std::string> out;
        std::istringstream lines(
            ok_at(root, {"history", "--human=false", "--format", "json", ref}).out);
        for (std::string line; std::getline(lines, line);)
            out.push_back(Json::parse(line).at("Size").get<std::string>());
        return out;
    }
    std::string image_id(const fs::path& root, const std::string& ref) {
        auto r = ok_at(root, {"inspect", "--format", "{{.Id}}", ref});
        return r.out.substr(0, r.out.find('\n'));
    }

    std::optional<test::RegistryServer> reg_;
    std::string host_;
};

// Round trip: push what strata built, read it with skopeo and umoci, pull it
// into a fresh store; pushing and pulling again move nothing; a second
// repository of the registry mounts the blobs.
TEST_P(RegistryCli, PushPullRoundTrip) {
    if (!have_tool("skopeo") || !have_tool("umoci"))
        GTEST_SKIP() << "skopeo and umoci are needed (apt-get install skopeo umoci)";
    login();
    const std::string ref = host_ + "/team/app:v1";
    const std::string id = build_app("team/app:v1");

    auto r = ok_at(root_, {"push", ref});
    EXPECT_TRUE(has(r.out, "The push refers to repository [" + host_ + "/team/app]\n")) << r.out;
    EXPECT_TRUE(has(r.out, ": Pushed\n")) << r.out;
    const std::string pushed = digest_after(r.out, "v1: digest: ");
    ASSERT_EQ(pushed.size(), 71u) << r.out;

    // The manifest the registry holds is the one `strata save` writes.
    const fs::path archive = dir_.path() / "app.tar";
    ok_at(root_, {"save", "-o", archive.string(), ref});
    std::map<std::string, std::string> members;
    for (auto& e : read_tar(read_file(archive)))
        members[e.name] = std::move(e.data);
    const Json index = Json::parse(members.at("index.json"));
    const std::string saved = index["manifests"][0]["digest"];
    EXPECT_EQ(saved, pushed);
    std::string raw;
    ASSERT_EQ(sh("skopeo inspect --raw --retry-times 0 " + skopeo_tls("") + " " + skopeo_creds("") +
                     " docker://" + ref,
                 raw),
              0)
        << raw;
    EXPECT_EQ(raw, members.at("blobs/sha256/" + pushed.substr(7)));
    std::string inspect;
    ASSERT_EQ(sh("skopeo inspect --retry-times 0 " + skopeo_tls("") + " " + skopeo_creds("") +
                     " docker://" + ref,
                 inspect),
              0)
        << inspect;
    EXPECT_EQ(Json::parse(inspect)["Digest"], pushed);
    std::string unpack;
    const fs::path oci = dir_.path() / "oci", bundle = dir_.path() / "bundle";
    ASSERT_EQ(sh("skopeo copy --retry-times 0 " + skopeo_tls("src") + " " + skopeo_creds("src") +
                     " docker://" + ref + " oci:" + oci.string() + ":v1 && umoci unpack --image " +
                     oci.string() + ":v1 " + bundle.string(),
                 unpack),
              0)
        << unpack;
    EXPECT_EQ(read_file(bundle / "rootfs" / "hi"), "hi\n");
    EXPECT_TRUE(fs::exists(bundle / "rootfs" / "bin" / "busybox"));

    // Pushed again: every blob is there, none is uploaded.
    reg_->clear_log();
    r = ok_at(root_, {"push", ref});
    EXPECT_TRUE(has(r.out, ": Layer already exists\n")) << r.out;
    EXPECT_FALSE(has(r.out, ": Pushed\n")) << r.out;
    EXPECT_EQ(digest_after(r.out, "v1: digest: "), pushed);
    auto reqs = reg_->requests();
    EXPECT_EQ(count_with(reqs, "/blobs/uploads/"), 0u) << joined(reqs);

    // Another repository of the same registry: the blobs are mounted.
    reg_->clear_log();
    r = ok_at(root_, {"push", ref, host_ + "/other/app:v2"});
    EXPECT_TRUE(has(r.out, ": Mounted from team/app\n")) << r.out;
    EXPECT_EQ(digest_after(r.out, "v2: digest: "), pushed);
    reqs = reg_->requests();
    EXPECT_GE(count_with(reqs, "?mount="), 2u) << joined(reqs);
    EXPECT_EQ(count_with(reqs, "PATCH "), 0u) << joined(reqs);

    // A fresh store pulls it back: the same image and digest.
    const fs::path fresh = dir_.path() / "fresh";
    const int tokens_before_pull = reg_->tokens_issued();
    reg_->clear_log();
    r = ok_at(fresh, {"pull", ref});
    const int pull_tokens = reg_->tokens_issued() - tokens_before_pull;
    const size_t pull_requests = reg_->requests().size();
    EXPECT_TRUE(has(r.out, "v1: Pulling from team/app\n")) << r.out;
    EXPECT_TRUE(has(r.out, "Digest: " + pushed + "\n")) << r.out;
    EXPECT_TRUE(has(r.out, "Status: Downloaded newer image for " + ref + "\n")) << r.out;
    EXPECT_EQ(image_id(fresh, ref), id);
    // Sizes as the building store counts them (a pulled layer is measured,
    // and its diffID checked, when first shown), and kept in the record.
    for (int twice = 0; twice < 2; ++twice) {
        EXPECT_EQ(ok_at(fresh, {"inspect", "--format", "{{.Size}}", ref}).out,
                  ok_at(root_, {"inspect", "--format", "{{.Size}}", ref}).out);
        EXPECT_EQ(history_sizes(fresh, ref), history_sizes(root_, ref));
    }
    EXPECT_NE(ok_at(fresh, {"inspect", "--format", "{{.Size}}", ref}).out, "0\n");
    ok_at(fresh, {"store", "check"});

    // Pulled again: nothing is downloaded.
    reg_->clear_log();
    r = ok_at(fresh, {"pull", ref});
    EXPECT_TRUE(has(r.out, "Status: Image is up to date for " + ref + "\n")) << r.out;
    EXPECT_FALSE(has(r.out, "Pull complete")) << r.out;
    reqs = reg_->requests();
    EXPECT_EQ(count_with(reqs, "GET /v2/team/app/blobs/"), 0u) << joined(reqs);

    // The same layers under another name: "Already exists", none fetched.
    reg_->clear_log();
    r = ok_at(fresh, {"pull", host_ + "/other/app:v2"});
    EXPECT_TRUE(has(r.out, ": Already exists\n")) << r.out;
    reqs = reg_->requests();
    EXPECT_EQ(count_with(reqs, "/blobs/"), 0u) << joined(reqs);

    if (GetParam() == Mode::kTokenAuth) {
        // The pull's token is reused for all its requests (the 401 that
        // asks for it, manifest, config, layers), not fetched per request.
        EXPECT_EQ(pull_tokens, 1) << pull_requests << " requests";
        EXPECT_GE(pull_requests, 4u);
    }
}

// A tag that is not there, a port nothing listens on.
TEST_P(RegistryCli, PullErrors) {
    login();
    auto r = at(root_, {"pull", host_ + "/nothing/here:v9"});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.err, "manifest unknown")) << r.err;
    EXPECT_TRUE(has(r.err, host_)) << r.err;
    EXPECT_TRUE(has(r.err, "nothing/here")) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Setups, RegistryCli, ::testing::ValuesIn(setups()), mode_name);

// The tests that need only one setup. (The store roots share the docker
// config dir, so one login serves them all.)
class OneSetupRegistryCli : public RegistryCli {};

TEST_P(OneSetupRegistryCli, NothingListening) {
    login();
    auto r = at(root_, {"pull", "127.0.0.1:1/a/b:c"});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.err, "127.0.0.1:1")) << r.err;
    EXPECT_TRUE(tmp_is_empty(root_));
}

// skopeo pushes a two-platform index (an OCI layout written here: one
// gzip layer per platform); strata takes the host's platform, and the other
// one with --platform. (Not umoci: Debian's umoci 0.4.7 `insert` writes
// layers without the tar padding and trailer, which no tar reader accepts.)
TEST_P(OneSetupRegistryCli, MultiPlatformIndex) {
    if (!have_tool("skopeo")) GTEST_SKIP() << "skopeo is needed (apt-get install skopeo)";
    login();
    const fs::path oci = dir_.path() / "multi";
    const std::string o = oci.string();
    std::string out;
    auto blob = [&oci](const std::string& bytes) {
        const std::string hex = sha256_hex(bytes);
        write_file(oci / "blobs" / "sha256" / hex, bytes);
        return Json{{"digest", "sha256:" + hex}, {"size", bytes.size()}};
    };
    Json list = Json::array();
    for (const std::string arch : {"amd64", "arm64"}) {
        const std::string plain = TarBuilder().file("arch", arch + "\n").finish();
        const std::string gz = TarBuilder(true).file("arch", arch + "\n").finish();
        Json layer = blob(gz);
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
        Json config = blob(
            Json{{"architecture", arch},
                 {"os", "linux"},
                 {"config", Json::object()},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + sha256_hex(plain)}}}}}
                .dump());
        config["mediaType"] = "application/vnd.oci.image.config.v1+json";
        Json manifest = blob(Json{
            {"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config", config},
            {"layers", {layer}}}.dump());
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
        manifest["platform"] = {{"architecture", arch}, {"os", "linux"}};
        list.push_back(manifest);
    }
    const std::string idx = Json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.index.v1+json"},
        {"manifests", list}}.dump();
    const std::string idx_hex = blob(idx)["digest"].get<std::string>().substr(7);
    write_file(oci / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write_file(oci / "index.json",
               Json{{"schemaVersion", 2},
                    {"manifests",
                     {{{"mediaType", "application/vnd.oci.image.index.v1+json"},
                       {"digest", "sha256:" + idx_hex},
                       {"size", idx.size()},
                       {"annotations", {{"org.opencontainers.image.ref.name", "multi"}}}}}}}
                   .dump());
    const std::string ref = host_ + "/multi/arch:v1";
    ASSERT_EQ(sh("skopeo copy --all --retry-times 0 " + skopeo_tls("dest") + " " +
                     skopeo_creds("dest") + " oci:" + o + ":multi docker://" + ref,
                 out),
              0)
        << out;

    const std::string host_arch = [] {
        std::string m;
#if defined(__x86_64__)
        m = "amd64";
#elif defined(__aarch64__)
        m = "arm64";
#endif
        return m;
    }();
    if (host_arch.empty()) GTEST_SKIP() << "the test knows amd64 and arm64 hosts only";
    const std::string other = host_arch == "amd64" ? "arm64" : "amd64";

    auto r = ok_at(root_, {"pull", ref});
    EXPECT_TRUE(has(r.out, "Digest: sha256:" + idx_hex + "\n")) << r.out;
    r = ok_at(root_, {"inspect", "--format", "{{.Architecture}}", ref});
    EXPECT_EQ(r.out, host_arch + "\n");

    const fs::path second = dir_.path() / "second";
    r = ok_at(second, {"pull", "--platform", "linux/" + other, ref});
    EXPECT_TRUE(has(r.out, "Digest: sha256:" + idx_hex + "\n")) << r.out;
    r = ok_at(second, {"inspect", "--format", "{{.Architecture}}", ref});
    EXPECT_EQ(r.out, other + "\n");
}

// FROM an image only the registry has: pulled, built on, cached; --pull
// after the tag moved builds on the new base; --metadata-file names it.
TEST_P(OneSetupRegistryCli, BuildFromRegistryImage) {
    login();
    const std::string base = host_ + "/base/busybox:1";
    ok_at(root_, {"push", "busybox", base});
    const fs::path builder = dir_.path() / "builder";
    const fs::path ctx = dir_.path() / "ctx";
    write_file(ctx / "Dockerfile", "FROM " + base + "\nRUN cat /etc/motd > /copy\n");
    const fs::path meta = dir_.path() / "meta.json";

    auto r = ok_at(builder, {"build", "--progress", "plain", "--metadata-file", meta.string(), "-t",
                             "out", ctx.string()});
    EXPECT_TRUE(has(r.err, "(1 steps run, 0 cached)")) << r.err;
    Json m = Json::parse(read_file(meta));
    ASSERT_EQ(m["strata.base-images"].size(), 1u) << m.dump(2);
    const std::string first_base = m["strata.base-images"][0]["digest"];
    EXPECT_EQ(first_base.size(), 71u);
    EXPECT_TRUE(has(m["strata.base-images"][0]["ref"].get<std::string>(), "base/busybox"))
        << m.dump(2);

    r = ok_at(builder, {"build", "--progress", "plain", "-t", "out", ctx.string()});
    EXPECT_TRUE(has(r.err, "(0 steps run, 1 cached)")) << r.err;

    // The tag moves to another image in the registry.
    const fs::path tar2 = make_busybox_rootfs(dir_.path() / "v2", "version two");
    ok_at(root_, {"import", tar2.string(), "busybox:two"});
    ok_at(root_, {"push", "busybox:two", base});

    r = ok_at(builder, {"build", "--progress", "plain", "-t", "out", ctx.string()});
    EXPECT_TRUE(has(r.err, "(0 steps run, 1 cached)")) << "no --pull: the stored tag" << r.err;
    const fs::path files = dir_.path() / "files";
    r = ok_at(builder, {"build", "--pull", "--progress", "plain", "--metadata-file", meta.string(),
                        "-o", files.string(), "-t", "out", ctx.string()});
    EXPECT_TRUE(has(r.err, "(1 steps run, 0 cached)")) << r.err;
    m = Json::parse(read_file(meta));
    ASSERT_EQ(m["strata.base-images"].size(), 1u) << m.dump(2);
    EXPECT_NE(m["strata.base-images"][0]["digest"], first_base);
    EXPECT_EQ(read_file(files / "copy"), "version two\n");
}

// --push and the pushing outputs; the image is pulled back elsewhere.
TEST_P(OneSetupRegistryCli, BuildPushes) {
    login();
    const fs::path ctx = dir_.path() / "ctx";
    write_file(ctx / "Dockerfile", "FROM busybox\nRUN echo pushed > /p\n");
    const std::string a = host_ + "/built/a:v1", b = host_ + "/built/b:v1",
                      c = host_ + "/built/c:v1";
    auto r = ok_at(root_, {"build", "--progress", "plain", "--push", "-t", a, ctx.string()});
    EXPECT_TRUE(has(r.err, "The push refers to repository [" + host_ + "/built/a]")) << r.err;
    const std::string digest = digest_after(r.err, "v1: digest: ");
    ASSERT_EQ(digest.size(), 71u) << r.err;

    reg_->clear_log();
    r = ok_at(root_, {"build", "--progress", "plain", "--output", "type=registry,name=" + b,
                      ctx.string()});
    EXPECT_TRUE(has(r.err, "Mounted from built/a")) << r.err;
    EXPECT_EQ(digest_after(r.err, "v1: digest: "), digest);
    EXPECT_EQ(count_with(reg_->requests(), "PATCH "), 0u);

    r = ok_at(root_,
              {"build", "-q", "--output", "type=image,name=" + c + ",push=true", ctx.string()});
    EXPECT_EQ(r.err, "");

    const fs::path other = dir_.path() / "other";
    for (const auto& ref : {a, b, c}) {
        r = ok_at(other, {"pull", ref});
        EXPECT_TRUE(has(r.out, "Digest: " + digest + "\n")) << r.out;
    }

    r = at(root_, {"build", "--push", ctx.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "tag is needed when pushing to registry")) << r.err;
    r = at(root_, {"build", "--output", "type=local,dest=x,push=true", ctx.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "push=true applies to type=image")) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Setups, OneSetupRegistryCli, ::testing::Values(Mode::kPlainHttp),
                         mode_name);

// TLS + basic auth: refused without login (the message says how), works
// after it, refused again after logout.
class TlsRegistryCli : public RegistryCli {};

TEST_P(TlsRegistryCli, LoginPushPullLogout) {
    const std::string ref = host_ + "/auth/app:v1";
    ok_at(root_, {"tag", "busybox", ref});
    auto r = at(root_, {"push", ref});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.err, "strata login " + host_)) << r.err;

    login();
    r = ok_at(root_, {"push", ref});
    const std::string digest = digest_after(r.out, "v1: digest: ");
    const fs::path fresh = dir_.path() / "fresh";
    r = ok_at(fresh, {"pull", ref});
    EXPECT_TRUE(has(r.out, "Digest: " + digest)) << r.out;

    ok_at(root_, {"logout", host_});
    const fs::path third = dir_.path() / "third";
    r = at(third, {"pull", ref});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.err, "strata login " + host_)) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Setups, TlsRegistryCli, ::testing::Values(Mode::kTlsBasicAuth), mode_name);

}  // namespace
}  // namespace strata::imagetest
