// Build secrets and SSH forwarding end to end. Run them all with
//   strata_build_tests --gtest_filter='Secret*:Ssh*'
//
// Two tiers:
//  * SecretPlumbing / SshPlumbing: a recording RunExecutor stands in for the
//    sandbox. They check what reaches it (the value, the socket, nothing for
//    a missing optional secret), the errors, the cache (a new value is a
//    hit, as in BuildKit) and that the value appears nowhere else: not in
//    the store directory, a `strata save` archive, the progress output or an
//    error message. These pass without a container runtime.
//  * SecretRun / SshRun: real RUN steps (root, busybox, the sandbox). They
//    need the sandbox to mount secrets (memfd + tmpfs), set env= variables
//    and bind agent sockets from ResolvedMount::secret / ::ssh_socket — until
//    that is wired they fail, by design.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>
#include <mutex>
#include <random>

#include "build_fixture.hpp"
#include "executor/run/container_runner.hpp"
#include "frontend/diagnostic.hpp"

namespace strata::buildtest {
namespace {

// 32 random hex digits: a value that can only be in a file if it leaked.
std::string random_value() {
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 32; ++i)
        s += "0123456789abcdef"[rd() % 16];
    return "strata-secret-" + s;
}

// Whether `needle` is in `data`, or in an entry of it when it is a tar
// (compressed or not), recursively: layers are gzip tars inside a save tar.
bool contains_deep(const std::string& data, const std::string& needle, int depth = 0) {
    if (data.find(needle) != std::string::npos) return true;
    if (depth > 3 || data.empty()) return false;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    bool found = false;
    if (archive_read_open_memory(a, data.data(), data.size()) == ARCHIVE_OK) {
        archive_entry* e = nullptr;
        while (!found && archive_read_next_header(a, &e) == ARCHIVE_OK) {
            const char* name = archive_entry_pathname(e);
            const char* link = archive_entry_symlink(e);
            if ((name && std::string(name).find(needle) != std::string::npos) ||
                (link && std::string(link).find(needle) != std::string::npos))
                found = true;
            std::string body;
            char buf[65536];
            for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;)
                body.append(buf, static_cast<size_t>(n));
            found = found || contains_deep(body, needle, depth + 1);
        }
    }
    archive_read_free(a);
    return found;
}

// Every file under `dir` (not following symlinks) whose bytes, name or
// link target hold `needle`, also inside tars.
std::vector<std::string> files_containing(const fs::path& dir, const std::string& needle) {
    std::vector<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none);
         it != fs::recursive_directory_iterator(); ++it) {
        const fs::path& p = it->path();
        if (p.string().find(needle) != std::string::npos) out.push_back(p.string());
        if (it->is_symlink()) {
            if (fs::read_symlink(p).string().find(needle) != std::string::npos)
                out.push_back(p.string());
        } else if (it->is_regular_file()) {
            if (contains_deep(imagetest::read_file(p), needle)) out.push_back(p.string());
        }
    }
    return out;
}

// Records every line of progress (what --progress=plain would print).
struct RecordingProgress : executor::ProgressSink {
    void started(int, const std::string& name) override { add(name); }
    void log(int, std::string_view line) override { add(std::string(line)); }
    void cached(int) override {}
    void done(int, double) override {}
    void failed(int, double, const std::string& error) override { add(error); }
    void note(const std::string& text) override { add(text); }
    void add(const std::string& s) {
        std::lock_guard lock(mu);
        text += s + "\n";
    }
    std::mutex mu;
    std::string text;
};

// Stands in for the sandbox: remembers what each RUN was given.
struct RecordingRunner : executor::RunExecutor {
    void run(const executor::RunRequest& r) override {
        std::lock_guard lock(mu);
        requests.push_back(r.mounts);
        env.push_back(r.step->env);
        std::vector<unsigned> modes;  // of each mount's socket, while the step runs
        for (const auto& m : r.mounts) {
            struct stat st {};
            const bool sock = !m.ssh_socket.empty() && ::lstat(m.ssh_socket.c_str(), &st) == 0 &&
                              S_ISSOCK(st.st_mode);
            modes.push_back(sock ? st.st_mode & 07777 : 0u);
        }
        socket_modes.push_back(std::move(modes));
        imagetest::write_file(r.upper_dir / "ran", "ran\n");
    }
    std::mutex mu;
    std::vector<std::vector<executor::ResolvedMount>> requests;
    std::vector<std::vector<planner::EnvVar>> env;
    std::vector<std::vector<unsigned>> socket_modes;
};

class SecretPlumbing : public BuildTest {
  public:
    void SetUp() override {
        BuildTest::SetUp();
        run_ = &runner_;
    }
    executor::BuildResult build_with(executor::BuildRequest r) {
        return executor::build(r, store(), progress_, run_);
    }
    // The build's error message (a ParseError located at the RUN).
    std::string build_error(const executor::BuildRequest& r) {
        try {
            build_with(r);
        } catch (const frontend::ParseError& e) {
            return frontend::render(e.diagnostic());
        } catch (const Error& e) {
            return e.what();
        }
        return "<no error>";
    }
    static executor::SecretSource from_env(const std::string& id, const std::string& var) {
        return executor::SecretSource{id, "", var};
    }
    RecordingRunner runner_;
    RecordingProgress progress_;
};

TEST_F(SecretPlumbing, TheValueReachesTheSandboxAndANewValueIsACacheHit) {
    const std::string value = random_value();
    ::setenv("STRATA_TEST_TOK", value.c_str(), 1);
    executor::BuildRequest req = request(
        "FROM base:latest\n"
        "RUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOK,target=/t,mode=0440,"
        "uid=1000 --mount=type=secret,id=absent true\n");
    req.secrets = {from_env("tok", "STRATA_TEST_TOK")};
    auto r = build_with(req);
    EXPECT_EQ(outcomes(r), "B");
    ASSERT_EQ(runner_.requests.size(), 1u);
    const auto& m = runner_.requests[0];
    ASSERT_EQ(m.size(), 3u);
    EXPECT_TRUE(m[0].present);
    EXPECT_EQ(m[0].secret, value);
    EXPECT_EQ(m[0].mount.target, "/run/secrets/tok");
    EXPECT_EQ(m[0].mount.mode, 0400u);
    EXPECT_EQ(m[1].secret, value);
    EXPECT_EQ(m[1].mount.env, "TOK");
    EXPECT_EQ(m[1].mount.target, "/t");
    EXPECT_EQ(m[1].mount.mode, 0440u);
    EXPECT_EQ(m[1].mount.uid, 1000u);
    EXPECT_FALSE(m[2].present) << "a missing optional secret is not mounted";
    EXPECT_TRUE(m[2].secret.empty());
    for (const auto& [k, v] : runner_.env[0])
        EXPECT_EQ(v.find(value), std::string::npos) << "the value is not in the step's env: " << k;

    // BuildKit: the value is not part of the cache key; a new value is a hit.
    ::setenv("STRATA_TEST_TOK", random_value().c_str(), 1);
    auto again = build_with(req);
    EXPECT_EQ(outcomes(again), "C");
    EXPECT_EQ(runner_.requests.size(), 1u);
    ::unsetenv("STRATA_TEST_TOK");
}

TEST_F(SecretPlumbing, AMissingRequiredSecretFailsNamingItsIdOnly) {
    const std::string other = random_value();
    ::setenv("STRATA_TEST_OTHER", other.c_str(), 1);
    executor::BuildRequest req = request(
        "FROM base:latest\n"
        "RUN --mount=type=secret,id=other --mount=type=secret,id=tok,required true\n");
    req.secrets = {from_env("other", "STRATA_TEST_OTHER")};
    const std::string e = build_error(req);
    EXPECT_NE(e.find("Dockerfile:2"), std::string::npos) << e;
    EXPECT_NE(e.find("secret tok is required but was not given"), std::string::npos) << e;
    EXPECT_NE(e.find("--secret id=tok"), std::string::npos) << e;
    EXPECT_EQ(e.find(other), std::string::npos) << e;
    EXPECT_EQ(progress_.text.find(other), std::string::npos);
    EXPECT_TRUE(runner_.requests.empty());
    ::unsetenv("STRATA_TEST_OTHER");
}

TEST_F(SecretPlumbing, BadSecretFlagsFailBeforeAnyStep) {
    executor::BuildRequest req = request("FROM base:latest\nRUN true\n");
    req.secrets = {{"tok", (dir_.path() / "no-such-file").string(), ""}};
    const std::string e = build_error(req);
    EXPECT_NE(e.find("--secret id=tok"), std::string::npos) << e;
    EXPECT_NE(e.find("no-such-file"), std::string::npos) << e;
    EXPECT_TRUE(runner_.requests.empty());
}

TEST_F(SecretPlumbing, TheValueAppearsNowhere) {
    const std::string value = random_value();
    const fs::path file = dir_.path() / "secret.txt";
    imagetest::write_file(file, value);
    executor::BuildRequest req = request(
        "FROM base:latest\n"
        "RUN --mount=type=secret,id=tok,env=TOK --mount=type=secret,id=tok2 true\n"
        "RUN --mount=type=secret,id=tok,required echo next\n");
    req.secrets = {{"tok", file.string(), ""}, {"tok2", file.string(), ""}};
    req.explain = true;
    req.tags = {store::Reference::parse("secret-test:1")};
    build_with(req);
    imagetest::write_file(file, random_value());  // a new value: a cache hit, and a record
    const auto again = build_with(req);
    EXPECT_EQ(outcomes(again), "CC");
    ASSERT_EQ(runner_.requests.size(), 2u);
    EXPECT_EQ(runner_.requests[0][0].secret, value) << "the test checks a value that was used";

    EXPECT_EQ(files_containing(root(), value), std::vector<std::string>{}) << "the store";
    EXPECT_EQ(progress_.text.find(value), std::string::npos) << progress_.text;
    // `strata save`: the config, manifests and (gzip) layers.
    const fs::path archive = dir_.path() / "save.tar";
    auto saved = imagetest::strata(root(), {"save", "-o", archive.string(), "secret-test:1"});
    ASSERT_EQ(saved.code, 0) << saved.err;
    EXPECT_FALSE(contains_deep(imagetest::read_file(archive), value));
    EXPECT_EQ(saved.out.find(value), std::string::npos);
    // The image's history names the mount, not the value.
    const auto cfg = config(again);
    bool mentions_mount = false;
    for (const auto& h : cfg.history)
        mentions_mount = mentions_mount || h.created_by.find("type=secret") != std::string::npos ||
                         h.created_by.find("echo next") != std::string::npos;
    EXPECT_TRUE(mentions_mount);
}

// A listening unix socket standing for an agent's.
struct ListeningSocket {
    explicit ListeningSocket(const fs::path& path) {
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::listen(fd, 1);
    }
    ~ListeningSocket() { ::close(fd); }
    int fd;
};

using SshPlumbing = SecretPlumbing;

TEST_F(SshPlumbing, TheSocketReachesTheSandboxWithSshAuthSock) {
    const fs::path sock = dir_.path() / "agent.sock";
    ListeningSocket listening(sock);
    executor::BuildRequest req = request(
        "FROM base:latest\n"
        "RUN --mount=type=ssh --mount=type=ssh,id=gh,target=/gh.sock,mode=0666 "
        "--mount=type=ssh,id=none true\n");
    req.ssh = {{"default", {sock.string()}}, {"gh", {sock.string()}}};
    build_with(req);
    ASSERT_EQ(runner_.requests.size(), 1u);
    const auto& m = runner_.requests[0];
    ASSERT_EQ(m.size(), 3u);
    // Not the agent's socket: a proxy's (ssh_agent_proxy.hpp), with each
    // mount's mode.
    EXPECT_NE(m[0].ssh_socket, sock);
    EXPECT_EQ(m[0].mount.target, "/run/buildkit/ssh_agent.0");
    EXPECT_EQ(m[0].mount.mode, 0600u);
    EXPECT_NE(m[1].ssh_socket, sock);
    EXPECT_NE(m[1].ssh_socket, m[0].ssh_socket);
    EXPECT_EQ(m[1].mount.target, "/gh.sock");
    EXPECT_EQ(m[1].mount.mode, 0666u);
    EXPECT_FALSE(m[2].present);
    EXPECT_EQ(runner_.socket_modes[0], (std::vector<unsigned>{0600u, 0666u, 0u}));
    EXPECT_FALSE(fs::exists(m[0].ssh_socket)) << "the proxies stop with the build";
    bool found = false;
    for (const auto& [k, v] : runner_.env[0])
        found = found || (k == "SSH_AUTH_SOCK" && v == "/run/buildkit/ssh_agent.0");
    EXPECT_TRUE(found);

    executor::BuildRequest required =
        request("FROM base:latest\nRUN --mount=type=ssh,required true\n");
    const std::string e = build_error(required);
    EXPECT_NE(e.find("ssh agent default is required but was not given"), std::string::npos) << e;
}

// ---- real RUN steps: need the sandbox ---------------------------------------

class SecretRun : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        // The factory strata uses (its options default), with this build's init.
        ::setenv("STRATA_INIT", STRATA_INIT, 1);
        runner_ = executor::make_run_executor();
        run_ = runner_.get();
    }
};

TEST_F(SecretRun, TheSecretIsAFileAtRunSecretsAndNotInTheLayer) {
    const std::string value = random_value();
    const fs::path file = dir_.path() / "tok.txt";
    imagetest::write_file(file, value);
    executor::BuildRequest req = request(
        "FROM busybox:latest\n"
        "RUN --mount=type=secret,id=tok cat /run/secrets/tok > /out; "
        "stat -c '%a %u %g' /run/secrets/tok > /stat\n"
        "RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=1000,gid=50 "
        "stat -c '%a %u %g' /etc/tok > /stat2\n");
    req.secrets = {{"tok", file.string(), ""}};
    const auto r = build(req);
    const Tree t = rootfs(r);
    expect_file(t, "/out", value);
    expect_file(t, "/stat", "400 0 0\n");
    expect_file(t, "/stat2", "440 1000 50\n");
    EXPECT_FALSE(t.count("/run/secrets/tok")) << "no mount point stub is left in the layer";
    EXPECT_FALSE(t.count("/etc/tok"));
}

TEST_F(SecretRun, EnvPutsTheValueInAVariableAndNoFile) {
    const std::string value = random_value();
    ::setenv("STRATA_TEST_TOK", value.c_str(), 1);
    executor::BuildRequest req = request(
        "FROM busybox:latest\n"
        "RUN --mount=type=secret,id=tok,env=TOK printf %s \"$TOK\" > /out; "
        "test -e /run/secrets/tok && echo file > /file || echo none > /file\n"
        "RUN --mount=type=secret,id=tok,env=TOK,target=/both test -e /both && echo both > /b\n");
    req.secrets = {{"tok", "", "STRATA_TEST_TOK"}};
    const Tree t = rootfs(build(req));
    expect_file(t, "/out", value);
    expect_file(t, "/file", "none\n");
    expect_file(t, "/b", "both\n");
    ::unsetenv("STRATA_TEST_TOK");
    // The variable is not in the image.
    for (const auto& e : config(build(req)).config.env)
        EXPECT_EQ(e.rfind("TOK=", 0), std::string::npos) << e;
}

TEST_F(SecretRun, AMissingOptionalSecretIsNoFile) {
    const Tree t =
        rootfs(build("FROM busybox:latest\n"
                     "RUN --mount=type=secret,id=none,env=NONE test ! -e /run/secrets/none && "
                     "test -z \"${NONE+set}\" && echo absent > /out\n"));
    expect_file(t, "/out", "absent\n");
}

TEST_F(SecretRun, TheValueAppearsNowhereAfterARealBuild) {
    const std::string value = random_value();
    const fs::path file = dir_.path() / "tok.txt";
    imagetest::write_file(file, value);
    // The step uses the value (its digest lands in the layer), never writes it.
    executor::BuildRequest req = request(
        "FROM busybox:latest\n"
        "RUN --mount=type=secret,id=tok --mount=type=secret,id=tok,env=TOK "
        "sha256sum /run/secrets/tok | cut -c1-64 > /hash; test \"$TOK\" = \"$(cat "
        "/run/secrets/tok)\" && echo same > /same\n");
    req.secrets = {{"tok", file.string(), ""}};
    req.explain = true;
    req.tags = {store::Reference::parse("secret-run:1")};
    RecordingProgress progress;
    const auto r = executor::build(req, store(), progress, run_);
    const Tree t = rootfs(r);
    expect_file(t, "/same", "same\n");
    const auto hash = imagetest::sha256_hex(value);
    expect_file(t, "/hash", hash + "\n");
    EXPECT_EQ(files_containing(root(), value), std::vector<std::string>{}) << "the store";
    EXPECT_EQ(progress.text.find(value), std::string::npos);
    const fs::path archive = dir_.path() / "save.tar";
    auto saved = imagetest::strata(root(), {"save", "-o", archive.string(), "secret-run:1"});
    ASSERT_EQ(saved.code, 0) << saved.err;
    EXPECT_FALSE(contains_deep(imagetest::read_file(archive), value));
    // The search does look inside layers: the digest the step wrote is found.
    EXPECT_TRUE(contains_deep(imagetest::read_file(archive), hash));
    EXPECT_FALSE(files_containing(root(), hash).empty());
}

// An image with busybox and the host's ssh-add (with its libraries).
std::string busybox_with_ssh_add(const fs::path& dir) {
    imagetest::make_busybox_rootfs(dir);
    const fs::path root = dir / "rootfs";
    const fs::path tar = dir / "ssh.tar";
    const std::string cmd =
        "set -e; r='" + root.string() +
        "'; for f in /usr/bin/ssh-add $(ldd /usr/bin/ssh-add | grep -o '/[^ ]*'); do "
        "mkdir -p \"$r$(dirname \"$f\")\"; cp -L \"$f\" \"$r$f\"; done; "
        "(cd \"$r\" && tar --numeric-owner -cf '" +
        tar.string() + "' .)";
    if (imagetest::shell(cmd) != 0) throw std::runtime_error("copying ssh-add failed");
    return imagetest::read_file(tar);
}

class SshRun : public SecretRun {
  public:
    void SetUp() override {
        if (std::system("command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null && "
                        "command -v ssh-keygen >/dev/null && command -v ldd >/dev/null") != 0)
            GTEST_SKIP() << "needs openssh-client (ssh-agent, ssh-add, ssh-keygen) and ldd";
        SecretRun::SetUp();
        if (IsSkipped()) return;
        import("ssh:latest", busybox_with_ssh_add(dir_.path() / "ssh"));
        key_ = dir_.path() / "id_ed25519";
        ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -C strata-ssh-e2e -f '" +
                               key_.string() + "'")
                                  .c_str()),
                  0);
    }
    fs::path key_;
};

TEST_F(SshRun, AKeyFileIsForwardedThroughAnAgent) {
    executor::BuildRequest req = request(
        "FROM ssh:latest\n"
        "RUN --mount=type=ssh echo \"$SSH_AUTH_SOCK\" > /sock; ssh-add -l > /keys\n"
        "RUN --mount=type=ssh,id=other,target=/o.sock SSH_AUTH_SOCK=/o.sock ssh-add -l > /keys2\n");
    req.ssh = {{"default", {key_.string()}}, {"other", {key_.string()}}};
    const Tree t = rootfs(build(req));
    expect_file(t, "/sock", "/run/buildkit/ssh_agent.0\n");
    ASSERT_TRUE(t.count("/keys"));
    EXPECT_NE(t.at("/keys").data.find("strata-ssh-e2e"), std::string::npos) << t.at("/keys").data;
    ASSERT_TRUE(t.count("/keys2"));
    EXPECT_NE(t.at("/keys2").data.find("strata-ssh-e2e"), std::string::npos);
    EXPECT_FALSE(t.count("/run/buildkit/ssh_agent.0")) << "no socket stub in the layer";
}

// The caller's own agent, given as a socket: a step lists its keys and signs
// with them, but cannot remove them (nor add, lock, or use extensions:
// BuildKit's read-only forwarding), and the socket in the container has the
// mount's uid, gid and mode.
TEST_F(SshRun, TheCallersAgentIsReadOnlyAndTheSocketIsTheMounts) {
    executor::SshAgents callers({{"mine", {key_.string()}}});  // an agent with the key
    const fs::path agent = *callers.socket("mine");
    auto keys_in_agent = [&] {
        const fs::path out = dir_.path() / "agent-keys";
        imagetest::shell("SSH_AUTH_SOCK='" + agent.string() + "' ssh-add -l > '" + out.string() +
                         "' 2>&1");
        return imagetest::read_file(out);
    };
    ASSERT_NE(keys_in_agent().find("strata-ssh-e2e"), std::string::npos);
    executor::BuildRequest req = request(
        "FROM ssh:latest\n"
        "RUN --mount=type=ssh ssh-add -D > /del 2>&1; echo $? > /del-status; "
        "ssh-add -l > /keys\n"
        "RUN --mount=type=ssh,uid=1000,gid=50,mode=0640 "
        "stat -c '%u %g %a %F' /run/buildkit/ssh_agent.0 > /st\n");
    req.ssh = {{"default", {agent.string()}}};
    const Tree t = rootfs(build(req));
    ASSERT_TRUE(t.count("/del-status"));
    EXPECT_NE(t.at("/del-status").data, "0\n") << t.at("/del").data;
    ASSERT_TRUE(t.count("/keys"));
    EXPECT_NE(t.at("/keys").data.find("strata-ssh-e2e"), std::string::npos) << t.at("/keys").data;
    expect_file(t, "/st", "1000 50 640 socket\n");
    EXPECT_NE(keys_in_agent().find("strata-ssh-e2e"), std::string::npos)
        << "the step removed the caller's keys";
}

}  // namespace
}  // namespace strata::buildtest
