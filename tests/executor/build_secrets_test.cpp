// --secret and --ssh: buildx's flag syntax, BuildKit's rules for where a
// secret comes from, and ssh-agent started for key files (and stopped).
#include "executor/run/build_secrets.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/owner_name.hpp"
#include "base/temp_dir.hpp"

namespace strata::executor {
namespace {

namespace fs = std::filesystem;

// A fake environment for the lookups.
EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& k) -> std::optional<std::string> {
        const auto it = vars.find(k);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string usage_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
        return e.what();
    }
    return "<no error>";
}

void write(const fs::path& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary);
    out << data;
}

TEST(SecretFlag, ParsesLikeBuildx) {
    EXPECT_EQ(parse_secret_flag("id=tok"), (SecretSource{"tok", "", ""}));
    EXPECT_EQ(parse_secret_flag("id=tok,src=/f"), (SecretSource{"tok", "/f", ""}));
    EXPECT_EQ(parse_secret_flag("id=tok,source=/f"), (SecretSource{"tok", "/f", ""}));
    EXPECT_EQ(parse_secret_flag("ID=tok,ENV=V"), (SecretSource{"tok", "", "V"}));
    // type=env turns src= into the variable's name; type=file changes nothing.
    EXPECT_EQ(parse_secret_flag("id=tok,src=V,type=env"), (SecretSource{"tok", "", "V"}));
    EXPECT_EQ(parse_secret_flag("type=env,id=tok,src=V,env=W"), (SecretSource{"tok", "V", "W"}));
    EXPECT_EQ(parse_secret_flag("id=tok,src=/f,type=file"), (SecretSource{"tok", "/f", ""}));
    EXPECT_EQ(parse_secret_flag("\"id=a,b\",src=/f"), (SecretSource{"a,b", "/f", ""}));
}

TEST(SecretFlag, ErrorsNeverShowAValue) {
    const std::string e1 = usage_error([] { parse_secret_flag("id=x,value=hunter2"); });
    EXPECT_NE(e1.find("unexpected key 'value'"), std::string::npos) << e1;
    EXPECT_EQ(e1.find("hunter2"), std::string::npos) << e1;
    const std::string e2 = usage_error([] { parse_secret_flag("hunter2"); });
    EXPECT_NE(e2.find("must be a key=value pair"), std::string::npos) << e2;
    const std::string e3 = usage_error([] { parse_secret_flag("id=x,type=vault"); });
    EXPECT_NE(e3.find("unsupported secret type \"vault\""), std::string::npos) << e3;
    const std::string e4 = usage_error([] { parse_secret_flag("src=/f"); });
    EXPECT_NE(e4.find("missing id="), std::string::npos) << e4;
}

TEST(SecretStore, WhereAValueComesFrom) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-secret-test-");
    write(dir.path() / "f", "from the file\n");
    const std::string f = (dir.path() / "f").string();
    SecretStore store({{"a", f, ""}, {"b", "", "B"}, {"c", "", "EMPTY"}},
                      env_of({{"B", "from B"}, {"EMPTY", ""}}));
    EXPECT_EQ(store.value("a"), "from the file\n");
    EXPECT_EQ(store.value("b"), "from B");
    EXPECT_EQ(store.value("c"), "") << "set but empty is a value";
    EXPECT_EQ(store.value("d"), std::nullopt) << "not given";
    EXPECT_TRUE(store.has("a"));
    EXPECT_FALSE(store.has("d"));
}

TEST(SecretStore, IdAloneIsTheVariableElseTheFile) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-secret-test-");
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path());
    write("FILETOK", "file value");
    SecretStore store({{"ENVTOK", "", ""}, {"FILETOK", "", ""}}, env_of({{"ENVTOK", "env value"}}));
    EXPECT_EQ(store.source("ENVTOK")->env, "ENVTOK");
    EXPECT_EQ(store.value("ENVTOK"), "env value");
    EXPECT_EQ(store.source("FILETOK")->file, "FILETOK");
    EXPECT_EQ(store.value("FILETOK"), "file value");
    // Neither: an error when the build starts (buildx: "failed to stat").
    const std::string e = usage_error([] { SecretStore({{"NOPE", "", ""}}, env_of({})); });
    EXPECT_NE(e.find("--secret id=NOPE"), std::string::npos) << e;
    EXPECT_NE(e.find("nor is there a variable"), std::string::npos) << e;
    fs::current_path(cwd);
}

TEST(SecretStore, MissingAndTooBigFiles) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-secret-test-");
    const std::string missing = (dir.path() / "missing").string();
    const std::string e = usage_error([&] { SecretStore({{"tok", missing, ""}}, env_of({})); });
    EXPECT_NE(e.find(missing), std::string::npos) << e;
    write(dir.path() / "big", std::string(kMaxSecretSize + 1, 'x'));
    const std::string big = (dir.path() / "big").string();
    EXPECT_NE(usage_error([&] {
                  SecretStore({{"tok", big, ""}}, env_of({}));
              }).find("too big"),
              std::string::npos);
    write(dir.path() / "max", std::string(kMaxSecretSize, 'x'));
    SecretStore ok({{"tok", (dir.path() / "max").string(), ""}}, env_of({}));
    EXPECT_EQ(ok.value("tok")->size(), kMaxSecretSize);
    // A later --secret with the same id wins, as in buildx.
    SecretStore twice({{"t", "", "A"}, {"t", "", "B"}}, env_of({{"A", "a"}, {"B", "b"}}));
    EXPECT_EQ(twice.value("t"), "b");
}

TEST(SshFlag, ParsesLikeBuildx) {
    EXPECT_EQ(parse_ssh_flag("default"), (SshSource{"default", {}}));
    EXPECT_EQ(parse_ssh_flag("gh=/a/sock"), (SshSource{"gh", {"/a/sock"}}));
    EXPECT_EQ(parse_ssh_flag("gh=/k1,/k2"), (SshSource{"gh", {"/k1", "/k2"}}));
    EXPECT_EQ(parse_ssh_flag("gh="), (SshSource{"gh", {""}}));
}

// A listening unix socket at `path` (stands for an agent's).
struct FakeSocket {
    explicit FakeSocket(const fs::path& path) {
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::listen(fd, 1);
    }
    ~FakeSocket() { ::close(fd); }
    int fd;
};

TEST(SshAgents, SocketsAndDefaults) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-ssh-test-");
    const fs::path sock = dir.path() / "s";
    FakeSocket s(sock);
    SshAgents agents({{"default", {}}, {"gh", {sock.string()}}},
                     env_of({{"SSH_AUTH_SOCK", sock.string()}}));
    EXPECT_EQ(agents.socket("default"), sock);
    EXPECT_EQ(agents.socket("gh"), sock);
    EXPECT_EQ(agents.socket("other"), std::nullopt);
    SshAgents empty_id({{"", {""}}}, env_of({{"SSH_AUTH_SOCK", sock.string()}}));
    EXPECT_EQ(empty_id.socket("default"), sock) << "no id is the default agent";
}

TEST(SshAgents, Errors) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-ssh-test-");
    const fs::path sock = dir.path() / "s";
    FakeSocket s(sock);
    write(dir.path() / "key", "not really a key");
    const std::string key = (dir.path() / "key").string();
    std::string e = usage_error([] { SshAgents({{"default", {}}}, env_of({})); });
    EXPECT_NE(e.find("SSH_AUTH_SOCK is not set"), std::string::npos) << e;
    e = usage_error([&] { SshAgents({{"default", {sock.string()}}, {"", {sock.string()}}}); });
    EXPECT_NE(e.find("given twice"), std::string::npos) << e;
    e = usage_error([&] { SshAgents({{"x", {sock.string(), key}}}); });
    EXPECT_NE(e.find("not both"), std::string::npos) << e;
    e = usage_error([&] { SshAgents({{"x", {(dir.path() / "none").string()}}}); });
    EXPECT_NE(e.find("cannot use"), std::string::npos) << e;
    e = usage_error([&] { SshAgents({{"x", {dir.path().string()}}}); });
    EXPECT_NE(e.find("neither an agent socket nor a key file"), std::string::npos) << e;
}

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Lists the keys the agent at `sock` holds.
std::string list_keys(const fs::path& sock) {
    const std::string cmd = "SSH_AUTH_SOCK='" + sock.string() + "' ssh-add -l 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p))
            out += buf;
        ::pclose(p);
    }
    return out;
}

TEST(SshAgents, KeyFilesGetAnAgentOfTheirOwnForTheBuild) {
    if (!have("ssh-agent") || !have("ssh-keygen") || !have("ssh-add"))
        GTEST_SKIP() << "needs openssh-client (ssh-agent, ssh-add, ssh-keygen)";
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-ssh-test-");
    const fs::path key = dir.path() / "id_ed25519";
    ASSERT_EQ(
        std::system(("ssh-keygen -q -t ed25519 -N '' -C strata-test-key -f '" + key.string() + "'")
                        .c_str()),
        0);
    fs::path sock;
    {
        SshAgents agents({{"k", {key.string()}}}, env_of({}));
        ASSERT_TRUE(agents.socket("k"));
        sock = *agents.socket("k");
        struct stat st {};
        ASSERT_EQ(::stat(sock.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_NE(list_keys(sock).find("strata-test-key"), std::string::npos) << list_keys(sock);
    }
    EXPECT_FALSE(fs::exists(sock)) << "the agent and its socket are gone with the build";
    EXPECT_FALSE(fs::exists(sock.parent_path()));

    // A key ssh-add cannot load (with a passphrase, or not a key): an error
    // that says what to do, and no agent left behind.
    const fs::path locked = dir.path() / "locked";
    ASSERT_EQ(std::system(
                  ("ssh-keygen -q -t ed25519 -N secretpass -f '" + locked.string() + "'").c_str()),
              0);
    const std::string e = usage_error([&] { SshAgents({{"k", {locked.string()}}}, env_of({})); });
    EXPECT_NE(e.find("ssh-add could not load"), std::string::npos) << e;
    EXPECT_EQ(e.find("secretpass"), std::string::npos) << e;
}

// The agent's socket directory is in TMPDIR (a socket's path must be short)
// and named for the strata that made it: a killed build's directory (its
// agent died with it) goes when the next build starts an agent; another
// running strata's stays.
TEST(SshAgents, AKilledBuildsAgentDirectoryGoesWithTheNextOne) {
    if (!have("ssh-agent") || !have("ssh-keygen") || !have("ssh-add"))
        GTEST_SKIP() << "needs openssh-client (ssh-agent, ssh-add, ssh-keygen)";
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-ssh-test-");
    const fs::path tmpdir = dir.path() / "tmp";
    fs::create_directory(tmpdir);
    const char* old = std::getenv("TMPDIR");
    const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    ::setenv("TMPDIR", tmpdir.c_str(), 1);
    struct Restore {
        std::optional<std::string> v;
        ~Restore() { v ? (void)::setenv("TMPDIR", v->c_str(), 1) : (void)::unsetenv("TMPDIR"); }
    } restore{saved};

    const pid_t gone = ::fork();
    ASSERT_GE(gone, 0);
    if (gone == 0) ::_exit(0);
    ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
    const fs::path left = tmpdir / ("strata-ssh-" + std::to_string(gone) + "-12345-AbCdEf");
    const fs::path running = tmpdir / (own_name_prefix("strata-ssh-") + "GhIjKl");
    for (const auto& d : {left, running}) {
        ASSERT_EQ(::mkdir(d.c_str(), 0700), 0) << d;
        write(d / "agent.sock", "");
    }
    const fs::path key = dir.path() / "id_ed25519";
    ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -f '" + key.string() + "'").c_str()), 0);
    SshAgents agents({{"k", {key.string()}}}, env_of({}));
    ASSERT_TRUE(agents.socket("k"));
    const fs::path sock = *agents.socket("k");
    EXPECT_EQ(sock.parent_path().parent_path(), tmpdir);
    EXPECT_TRUE(sock.parent_path().filename().string().starts_with(own_name_prefix("strata-ssh-")))
        << sock;
    EXPECT_FALSE(fs::exists(left)) << "a killed build's agent directory stayed";
    EXPECT_TRUE(fs::exists(running)) << "a running strata's agent directory was removed";
}

}  // namespace
}  // namespace strata::executor
