// `strata login` / `strata logout` through the real binary: Docker's
// messages, what lands in config.json (and what never does: the password in
// an error), and logins checked against a real docker-registry on 127.0.0.1.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "store/image_fixture.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

using Json = nlohmann::json;

std::string b64(const std::string& s) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        unsigned v =
            (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (s.size() - i == 1) {
        unsigned v = (unsigned char)s[i] << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (s.size() - i == 2) {
        unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

class LoginCli : public ::testing::Test {
  protected:
    RunResult strata_cmd(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), STRATA_BINARY);
        return run(args, input,
                   {{"DOCKER_CONFIG", config_.string()}, {"HOME", dir_.path().string()}});
    }
    fs::path file() const { return config_ / "config.json"; }
    Json config() { return Json::parse(read_file(file())); }

    TempDir dir_ = scratch("strata-login-test-");
    fs::path config_ = dir_.path() / "docker";
};

TEST_F(LoginCli, LogoutMessagesAndStorage) {
    auto r = strata_cmd({"logout"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Not logged in to https://index.docker.io/v1/\n");
    r = strata_cmd({"logout", "localhost:5000"});
    EXPECT_EQ(r.out, "Not logged in to localhost:5000\n");
    EXPECT_FALSE(fs::exists(file()));

    fs::create_directories(config_);
    write_file(file(), R"({"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"},
                                     "localhost:5000": {"auth": "dTpw"},
                                     "http://localhost:5000/v1/": {"auth": "dTpw"}},
                           "psFormat": "x", "unknown": {"k": [1]}})");
    r = strata_cmd({"logout", "https://localhost:5000/"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Removing login credentials for localhost:5000\n");
    EXPECT_EQ(r.err, "");
    auto doc = config();
    EXPECT_EQ(doc["auths"], Json::parse(R"({"https://index.docker.io/v1/": {"auth": "dTpw"}})"));
    EXPECT_EQ(doc["unknown"], Json::parse(R"({"k": [1]})"));
    EXPECT_EQ(doc["psFormat"], "x");

    r = strata_cmd({"logout"});
    EXPECT_EQ(r.out, "Removing login credentials for https://index.docker.io/v1/\n");
    EXPECT_EQ(config()["auths"], Json::object());
    r = strata_cmd({"logout", "docker.io"});
    EXPECT_EQ(r.out, "Not logged in to https://index.docker.io/v1/\n");
}

TEST_F(LoginCli, UsageErrors) {
    auto r = strata_cmd({"login", "--password-stdin", "127.0.0.1:1"}, "pw\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("must provide --username with --password-stdin"), std::string::npos)
        << r.err;

    r = strata_cmd({"login", "-u", "a", "-p", "hunter2", "--password-stdin", "127.0.0.1:1"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("WARNING! Using --password via the CLI is insecure. Use "
                         "--password-stdin.\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("--password and --password-stdin are mutually exclusive"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;

    // No password and no terminal: Docker refuses to prompt.
    r = strata_cmd({"login", "-u", "a", "127.0.0.1:1"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("cannot perform an interactive login from a non TTY device"),
              std::string::npos)
        << r.err;

    r = strata_cmd({"--insecure-registry", "bad host", "login", "-u", "a", "-p", "b", "x.example"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--insecure-registry: insecure registry \"bad host\" is not valid"),
              std::string::npos)
        << r.err;

    // Nothing reachable there: refused before anything is stored.
    r = strata_cmd({"login", "-u", "a", "--password-stdin", "127.0.0.1:1"}, "hunter2\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(file()));
}

// kTlsBasicAuth: HTTPS with htpasswd on 127.0.0.1 (insecure by Docker's
// loopback rule: TLS without verification); kTokenAuth: plain HTTP (reached by
// the fall back from HTTPS) with a bearer-token realm that checks the password.
class LoginRegistry : public LoginCli,
                      public ::testing::WithParamInterface<test::RegistryServer::Mode> {};

TEST_P(LoginRegistry, VerifiesThenStores) {
    std::string skip;
    auto reg = test::RegistryServer::start(GetParam(), skip);
    if (!reg) GTEST_SKIP() << skip;
    const std::string host = reg->host();

    const std::string wrong = "wrong-" + reg->password();
    auto r = strata_cmd({"login", "-u", reg->username(), "--password-stdin", host}, wrong + "\n");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(wrong), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("Login Succeeded"), std::string::npos);
    EXPECT_FALSE(fs::exists(file()));

    r = strata_cmd({"login", "-u", reg->username(), "--password-stdin", host},
                   reg->password() + "\n");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Login Succeeded\n");
    EXPECT_NE(r.err.find("WARNING! Your password will be stored unencrypted in " + file().string()),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find(reg->password()), std::string::npos) << r.err;
    EXPECT_EQ(config()["auths"][host]["auth"], b64(reg->username() + ":" + reg->password()));
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    // Stored credentials are tried first when none are given.
    r = strata_cmd({"login", host});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Authenticating with existing credentials...\nLogin Succeeded\n");

    r = strata_cmd({"login", "-u", reg->username(), "-p", reg->password(), "http://" + host + "/"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("Using --password via the CLI is insecure"), std::string::npos);

    r = strata_cmd({"logout", host});
    EXPECT_EQ(r.out, "Removing login credentials for " + host + "\n");
    EXPECT_FALSE(config()["auths"].contains(host));
}

INSTANTIATE_TEST_SUITE_P(Modes, LoginRegistry,
                         ::testing::Values(test::RegistryServer::Mode::kTlsBasicAuth,
                                           test::RegistryServer::Mode::kTokenAuth),
                         [](const auto& info) {
                             return info.param == test::RegistryServer::Mode::kTlsBasicAuth
                                        ? std::string("TlsBasicAuth")
                                        : std::string("TokenAuth");
                         });

}  // namespace
}  // namespace strata::imagetest
