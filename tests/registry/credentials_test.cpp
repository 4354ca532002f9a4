// CredentialStore: Docker's config.json read and written (key normalization,
// unknown keys kept, mode 0600), credential helpers run through a fake
// docker-credential-test on PATH, and no secret in any error.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "registry/credentials.hpp"

namespace strata::registry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

void write(const fs::path& p, const std::string& text, fs::perms perms = fs::perms(0644)) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    fs::permissions(p, perms);
}
std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

// A docker-credential-helpers program in Python: a JSON file as its
// keychain, a log of what it was asked, and switches (files) to fail.
constexpr const char* kHelper = R"PY(#!/usr/bin/env python3
import json, os, sys, time
d = os.environ["STRATA_TEST_HELPER_DIR"]
db = os.path.join(d, "db.json")
data = json.load(open(db)) if os.path.exists(db) else {}
action = sys.argv[1]
inp = sys.stdin.read()
if os.path.exists(os.path.join(d, "sleep")):
    time.sleep(30)
with open(os.path.join(d, "log"), "a") as f:
    f.write(action + " " + (json.loads(inp)["ServerURL"] if action == "store" else inp) + "\n")
if os.path.exists(os.path.join(d, "fail")):
    # A careless helper that echoes its input: strata must not pass the secret on.
    print("keychain locked: " + inp)
    print("see the system log", file=sys.stderr)
    sys.exit(3)
if action == "get":
    if inp not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({"ServerURL": inp, "Username": data[inp]["Username"], "Secret": data[inp]["Secret"]}))
elif action == "store":
    c = json.loads(inp)
    data[c["ServerURL"]] = c
    json.dump(data, open(db, "w"))
elif action == "erase":
    if inp not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    del data[inp]
    json.dump(data, open(db, "w"))
)PY";

class Creds : public ::testing::Test {
  protected:
    void SetUp() override {
        config_ = dir_.path() / "docker";
        helper_dir_ = dir_.path() / "helper";
        fs::create_directories(helper_dir_);
        write(dir_.path() / "bin" / "docker-credential-test", kHelper, fs::perms(0755));
        old_path_ = std::getenv("PATH") ? std::getenv("PATH") : "";
        ::setenv("PATH", ((dir_.path() / "bin").string() + ":" + old_path_).c_str(), 1);
        ::setenv("STRATA_TEST_HELPER_DIR", helper_dir_.c_str(), 1);
    }
    void TearDown() override {
        ::setenv("PATH", old_path_.c_str(), 1);
        ::unsetenv("STRATA_TEST_HELPER_DIR");
    }
    fs::path file() const { return config_ / "config.json"; }
    Json helper_db() { return Json::parse(read(helper_dir_ / "db.json")); }

    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "strata-creds-test-");
    fs::path config_, helper_dir_;
    std::string old_path_;
};

TEST(CredentialKeys, Normalization) {
    struct Row {
        const char* server;
        const char* domain;
        const char* key;
    } rows[] = {
        {"", "docker.io", "https://index.docker.io/v1/"},
        {"docker.io", "docker.io", "https://index.docker.io/v1/"},
        {"index.docker.io", "docker.io", "https://index.docker.io/v1/"},
        {"registry-1.docker.io", "docker.io", "https://index.docker.io/v1/"},
        {"https://index.docker.io/v1/", "docker.io", "https://index.docker.io/v1/"},
        {"quay.io", "quay.io", "quay.io"},
        {"https://quay.io", "quay.io", "quay.io"},
        {"http://localhost:5000/v1/", "localhost:5000", "localhost:5000"},
        {"https://reg.example:5000/v2/", "reg.example:5000", "reg.example:5000"},
        {"127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1:5000"},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(domain_of_server(r.server), r.domain) << r.server;
        EXPECT_EQ(server_address_of(domain_of_server(r.server)), r.key) << r.server;
    }
    EXPECT_EQ(convert_to_hostname("https://index.docker.io/v1/"), "index.docker.io");
    EXPECT_EQ(convert_to_hostname("http://h:1/x/y"), "h:1");
    EXPECT_EQ(convert_to_hostname("h:1"), "h:1");
}

TEST_F(Creds, ReadsAuthsUnderEveryKeyForm) {
    const auto b64 = [](const char* s) {
        // "user:pass" → base64, by the shell-free way: a tiny table.
        static const std::map<std::string, std::string> t = {
            {"hub:p1", "aHViOnAx"},        {"quay:p2", "cXVheTpwMg=="},
            {"old:p3", "b2xkOnAz"},        {"exact:p4", "ZXhhY3Q6cDQ="},
            {"legacy:p5", "bGVnYWN5OnA1"}, {"ghcr:p6", "Z2hjcjpwNg=="},
            {"alias:p7", "YWxpYXM6cDc="},  {"tok:", "dG9rOg=="}};
        return t.at(s);
    };
    Json doc = {{"auths",
                 {{"https://index.docker.io/v1/", {{"auth", b64("hub:p1")}}},
                  {"quay.io", {{"auth", b64("quay:p2")}}},
                  {"http://old.example:5000/v1/", {{"auth", b64("old:p3")}}},
                  {"reg.example", {{"auth", b64("exact:p4")}}},
                  {"https://reg.example", {{"auth", b64("legacy:p5")}}},
                  {"https://ghcr.io", {{"auth", b64("ghcr:p6")}}},
                  {"tok.example", {{"auth", b64("tok:")}, {"identitytoken", "refresh-1"}}},
                  {"plain.example", {{"username", "pu"}, {"password", "pp"}}},
                  {"empty.example", Json::object()}}}};
    write(file(), doc.dump());
    CredentialStore store(config_);
    struct Row {
        const char* domain;
        const char* user;
        const char* pass;
    } rows[] = {
        {"docker.io", "hub", "p1"},     {"index.docker.io", "hub", "p1"},
        {"quay.io", "quay", "p2"},      {"old.example:5000", "old", "p3"},
        {"reg.example", "exact", "p4"},  // the exact key wins over the legacy one
        {"ghcr.io", "ghcr", "p6"},      {"plain.example", "pu", "pp"},
    };
    for (const auto& r : rows) {
        auto c = store.get(r.domain);
        ASSERT_TRUE(c) << r.domain;
        EXPECT_EQ(c->username, r.user) << r.domain;
        EXPECT_EQ(c->password, r.pass) << r.domain;
        EXPECT_EQ(c->identity_token, "") << r.domain;
    }
    auto t = store.get("tok.example");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->username, "tok");
    EXPECT_EQ(t->password, "");
    EXPECT_EQ(t->identity_token, "refresh-1");
    EXPECT_FALSE(store.get("empty.example"));
    EXPECT_FALSE(store.get("old.example"));  // another port is another registry
    EXPECT_FALSE(store.get("nowhere.example"));
    EXPECT_FALSE(store.helper_for("quay.io"));

    // Docker Hub under a hand-written "docker.io" key is also found.
    write(file(), Json({{"auths", {{"docker.io", {{"auth", b64("alias:p7")}}}}}}).dump());
    EXPECT_EQ(store.get("docker.io")->username, "alias");
}

TEST_F(Creds, MissingOrEmptyFileIsAnonymous) {
    CredentialStore store(config_);
    EXPECT_FALSE(store.get("docker.io"));
    EXPECT_FALSE(store.has_entry("docker.io"));
    write(file(), "");
    EXPECT_FALSE(store.get("docker.io"));
}

TEST_F(Creds, StoreKeepsEveryOtherKeyAndWritesMode0600) {
    const std::string original = R"({
	"auths": {
		"quay.io": {"auth": "cXVheTpwMg==", "email": "q@example.com"}
	},
	"psFormat": "table {{.ID}}",
	"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
	"someFutureKey": [1, 2, {"x": null}]
})";
    write(file(), original, fs::perms(0644));
    fs::permissions(config_, fs::perms(0755));
    CredentialStore store(config_);
    store.store("docker.io", {"alice", "s3cret-pass", ""});
    store.store("quay.io", {"bob", "other-pass", ""});

    EXPECT_EQ(mode_of(file()), 0600u);
    const Json doc = Json::parse(read(file()));
    EXPECT_EQ(doc["psFormat"], "table {{.ID}}");
    EXPECT_EQ(doc["proxies"]["default"]["httpProxy"], "http://proxy:3128");
    EXPECT_EQ(doc["someFutureKey"], Json::parse(R"([1, 2, {"x": null}])"));
    // The order of the file's keys is kept.
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"auths", "psFormat", "proxies", "someFutureKey"}));
    EXPECT_EQ(doc["auths"]["https://index.docker.io/v1/"]["auth"], "YWxpY2U6czNjcmV0LXBhc3M=");
    EXPECT_EQ(doc["auths"]["quay.io"]["email"], "q@example.com");  // an entry's other keys too

    auto c = store.get("docker.io");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "alice");
    EXPECT_EQ(c->password, "s3cret-pass");
    EXPECT_EQ(store.get("quay.io")->username, "bob");

    store.erase("docker.io");
    EXPECT_FALSE(store.get("docker.io"));
    EXPECT_FALSE(store.has_entry("docker.io"));
    EXPECT_TRUE(store.has_entry("quay.io"));
    EXPECT_EQ(Json::parse(read(file()))["someFutureKey"], doc["someFutureKey"]);
}

TEST_F(Creds, StoreCreatesTheDirectory0700) {
    CredentialStore store(config_ / "nested");
    store.store("localhost:5000", {"u", "p", ""});
    EXPECT_EQ(mode_of(config_ / "nested"), 0700u);
    EXPECT_EQ(mode_of(config_ / "nested" / "config.json"), 0600u);
    const Json doc = Json::parse(read(config_ / "nested" / "config.json"));
    EXPECT_EQ(doc, Json::parse(R"({"auths": {"localhost:5000": {"auth": "dTpw"}}})"));
}

TEST_F(Creds, IdentityTokenStoredBesideUser) {
    CredentialStore store(config_);
    store.store("reg.example", {"carol", "ignored", "refresh-token-9"});
    const Json doc = Json::parse(read(file()));
    EXPECT_EQ(doc["auths"]["reg.example"]["auth"], "Y2Fyb2w6");  // "carol:"
    EXPECT_EQ(doc["auths"]["reg.example"]["identitytoken"], "refresh-token-9");
    auto c = store.get("reg.example");
    EXPECT_EQ(c->identity_token, "refresh-token-9");
    EXPECT_EQ(c->password, "");
}

TEST_F(Creds, EraseRemovesLegacyKeysToo) {
    write(file(), R"({"auths": {"reg.example:5000": {"auth": "dTpw"},
                      "https://reg.example:5000": {"auth": "dTpw"},
                      "http://reg.example:5000/v1/": {"auth": "dTpw"},
                      "reg.example": {"auth": "dTpw"}}})");
    CredentialStore store(config_);
    EXPECT_TRUE(store.has_entry("reg.example:5000"));
    store.erase("reg.example:5000");
    EXPECT_FALSE(store.has_entry("reg.example:5000"));
    EXPECT_EQ(Json::parse(read(file()))["auths"],
              Json::parse(R"({"reg.example": {"auth": "dTpw"}})"));
}

TEST_F(Creds, SymlinkedConfigIsWrittenAtItsTarget) {
    write(dir_.path() / "dotfiles" / "config.json", R"({"auths": {}})");
    fs::create_directories(config_);
    fs::create_symlink(dir_.path() / "dotfiles" / "config.json", file());
    CredentialStore(config_).store("quay.io", {"u", "p", ""});
    EXPECT_TRUE(fs::is_symlink(file()));
    EXPECT_NE(read(dir_.path() / "dotfiles" / "config.json").find("dTpw"), std::string::npos);
}

TEST_F(Creds, MalformedFileErrorsNeverShowTheSecret) {
    const std::string secret = "hunter2-very-secret";
    // base64 of "hunter2-very-secret" (no colon): not user:password.
    write(file(), R"({"auths": {"quay.io": {"auth": "aHVudGVyMi12ZXJ5LXNlY3JldA=="}}})");
    CredentialStore store(config_);
    try {
        store.get("quay.io");
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("not base64 of user:password"), std::string::npos) << msg;
        EXPECT_NE(msg.find(file().string()), std::string::npos) << msg;
        EXPECT_EQ(msg.find("aHVudGVy"), std::string::npos) << msg;
    }
    write(file(), R"({"auths": {"quay.io": {"auth": "!!!"}}})");
    EXPECT_THROW(store.get("quay.io"), Error);

    // A JSON syntax error right after a secret: the parser's own message
    // quotes the text it read; ours gives the byte offset only.
    write(file(), R"({"auths": {"q": {"password": ")" + secret + R"(" oops}}})");
    try {
        store.get("q");
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::kParse);
        EXPECT_NE(msg.find("not valid JSON (at byte"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
    }
    // Writing refuses to replace a file it cannot read.
    EXPECT_THROW(store.store("q", {"u", secret, ""}), Error);
}

TEST_F(Creds, CredsStoreHelperGetStoreErase) {
    write(file(), R"({"credsStore": "test", "currentContext": "default"})");
    CredentialStore store(config_);
    EXPECT_EQ(store.helper_for("quay.io"), "test");
    EXPECT_FALSE(store.get("quay.io"));  // "credentials not found" → anonymous

    store.store("quay.io", {"dave", "helper-secret-1", ""});
    EXPECT_EQ(
        helper_db()["quay.io"],
        Json::parse(R"({"ServerURL":"quay.io","Username":"dave","Secret":"helper-secret-1"})"));
    // The file keeps an empty entry (as docker login) and never the secret.
    const std::string text = read(file());
    EXPECT_EQ(text.find("helper-secret-1"), std::string::npos) << text;
    EXPECT_EQ(Json::parse(text)["auths"]["quay.io"], Json::object());
    EXPECT_EQ(Json::parse(text)["currentContext"], "default");
    EXPECT_TRUE(store.has_entry("quay.io"));

    auto c = store.get("quay.io");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "dave");
    EXPECT_EQ(c->password, "helper-secret-1");

    // Docker Hub's server URL is what the helper sees.
    store.store("docker.io", {"", "", "id-token-2"});
    EXPECT_EQ(helper_db()["https://index.docker.io/v1/"]["Username"], "<token>");
    auto hub = store.get("docker.io");
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->identity_token, "id-token-2");
    EXPECT_EQ(hub->username, "");

    store.erase("quay.io");
    EXPECT_FALSE(store.get("quay.io"));
    EXPECT_FALSE(store.has_entry("quay.io"));
    EXPECT_NO_THROW(store.erase("quay.io"));  // the helper has none: not an error

    const std::string log = read(helper_dir_ / "log");
    EXPECT_NE(log.find("get quay.io\n"), std::string::npos) << log;
    EXPECT_NE(log.find("store https://index.docker.io/v1/\n"), std::string::npos) << log;
    EXPECT_NE(log.find("erase quay.io\n"), std::string::npos) << log;
}

TEST_F(Creds, CredHelpersPerHostOverrideTheFile) {
    write(file(), R"({"credHelpers": {"quay.io": "test"},
                      "auths": {"ghcr.io": {"auth": "dTpw"}}})");
    CredentialStore store(config_);
    EXPECT_EQ(store.helper_for("quay.io"), "test");
    EXPECT_FALSE(store.helper_for("ghcr.io"));
    store.store("quay.io", {"erin", "pw-erin", ""});
    store.store("ghcr.io", {"frank", "pw-frank", ""});
    EXPECT_TRUE(helper_db().contains("quay.io"));
    EXPECT_FALSE(helper_db().contains("ghcr.io"));
    EXPECT_EQ(store.get("quay.io")->username, "erin");
    EXPECT_EQ(store.get("ghcr.io")->username, "frank");
    EXPECT_EQ(read(file()).find("pw-erin"), std::string::npos);
}

TEST_F(Creds, HelperFailureShowsItsMessageNotTheSecret) {
    write(file(), R"({"credsStore": "test"})");
    write(helper_dir_ / "fail", "");
    CredentialStore store(config_);
    const std::string secret = "p4ss-that-must-not-leak";
    try {
        store.store("quay.io", {"gina", secret, ""});
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("docker-credential-test store failed (exit status 3)"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("keychain locked"), std::string::npos) << msg;
        EXPECT_NE(msg.find("see the system log"), std::string::npos) << msg;  // stderr too
        EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
        EXPECT_NE(msg.find("<redacted>"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(file()) && read(file()).find(secret) != std::string::npos);
    try {
        store.get("quay.io");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("docker-credential-test get failed"),
                  std::string::npos);
    }
}

TEST_F(Creds, MissingHelperAndLookupWarning) {
    write(file(), R"({"credsStore": "nosuchhelper"})");
    CredentialStore store(config_);
    try {
        store.get("quay.io");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("docker-credential-nosuchhelper is not installed"),
                  std::string::npos)
            << e.what();
    }
    std::vector<std::string> warnings;
    auto lookup =
        make_credential_lookup(config_, [&](const std::string& w) { warnings.push_back(w); });
    EXPECT_FALSE(lookup("quay.io"));
    EXPECT_FALSE(lookup("quay.io"));  // answered once
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("quay.io"), std::string::npos);
}

TEST_F(Creds, LookupAnswersFromFileAndHelper) {
    write(file(), R"({"credHelpers": {"quay.io": "test"},
                      "auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}})");
    CredentialStore(config_).store("quay.io", {"hal", "pw", ""});
    auto lookup = make_credential_lookup(config_);
    EXPECT_EQ(lookup("docker.io")->username, "u");
    EXPECT_EQ(lookup("index.docker.io")->password, "p");
    EXPECT_EQ(lookup("quay.io")->username, "hal");
    EXPECT_FALSE(lookup("ghcr.io"));
}

TEST_F(Creds, HelperTimeoutKillsIt) {
    write(file(), R"({"credsStore": "test"})");
    write(helper_dir_ / "sleep", "");
    CredentialStore store(config_, std::chrono::milliseconds(500));
    const auto start = std::chrono::steady_clock::now();
    try {
        store.get("quay.io");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("did not finish within 0.5 s"), std::string::npos)
            << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CredentialDir, DockerConfigThenHome) {
    const char* old_dc = std::getenv("DOCKER_CONFIG");
    const char* old_home = std::getenv("HOME");
    const std::string saved_dc = old_dc ? old_dc : "", saved_home = old_home ? old_home : "";
    ::setenv("DOCKER_CONFIG", "/tmp/dc", 1);
    EXPECT_EQ(default_docker_config_dir(), "/tmp/dc");
    ::unsetenv("DOCKER_CONFIG");
    ::setenv("HOME", "/tmp/home-x", 1);
    EXPECT_EQ(default_docker_config_dir(), "/tmp/home-x/.docker");
    ::unsetenv("HOME");
    EXPECT_FALSE(default_docker_config_dir().empty());  // the passwd entry's home
    if (old_dc) ::setenv("DOCKER_CONFIG", saved_dc.c_str(), 1);
    if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace strata::registry
