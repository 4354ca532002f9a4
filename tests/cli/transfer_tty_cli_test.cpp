// strata pull / push on a pseudo-terminal, against a real docker-registry
// (tests/support/registry_fixture.hpp, TLS + basic auth): stdout a terminal
// gets docker's live per-layer lines, TERM=dumb and a pipe the plain ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "cli/image_cli_fixture.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

struct PtyResult {
    int code = -1;
    std::string out;  // what the terminal received (stdout)
    std::string err;  // stderr, to a file
};

// Runs strata with stdout on a new pseudo-terminal of `cols` columns.
PtyResult strata_on_pty(const fs::path& root, const fs::path& scratch,
                        std::vector<std::string> args, std::map<std::string, std::string> env,
                        int cols) {
    PtyResult res;
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
        ADD_FAILURE() << "posix_openpt: " << std::strerror(errno);
        return res;
    }
    UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) {
        ADD_FAILURE() << "open pty slave: " << std::strerror(errno);
        return res;
    }
    struct winsize ws {};
    ws.ws_row = 40;
    ws.ws_col = static_cast<unsigned short>(cols);
    EXPECT_EQ(::ioctl(slave.get(), TIOCSWINSZ, &ws), 0);
    const fs::path err_path = scratch / "pty-stderr";
    UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));

    args.insert(args.begin(), {STRATA_BINARY, "--root", root.string()});
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        const std::string k = kv.substr(0, kv.find('='));
        if (!env.count(k)) env[k] = kv.substr(kv.find('=') + 1);
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env)
        env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        if (::dup2(null.get(), 0) < 0 || ::dup2(slave.get(), 1) < 0 || ::dup2(err.get(), 2) < 0)
            ::_exit(126);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    EXPECT_GT(pid, 0) << std::strerror(errno);
    slave.reset();
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n > 0) {
            res.out.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EIO: the child closed the terminal
    }
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        res.code = WEXITSTATUS(status);
    res.err = read_file(err_path);
    return res;
}

// What the bytes leave on a screen: text, \r, \n, ESC[nA, ESC[nB, ESC[2K.
std::vector<std::string> screen(const std::string& b) {
    std::vector<std::string> rows{std::string()};
    size_t row = 0, col = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        const char c = b[i];
        if (c == '\n') {
            col = 0;
            if (++row == rows.size()) rows.emplace_back();
        } else if (c == '\r') {
            col = 0;
        } else if (c == '\x1b' && i + 1 < b.size() && b[i + 1] == '[') {
            size_t j = i + 2, n = 0;
            while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j])))
                n = n * 10 + size_t(b[j++] - '0');
            if (j >= b.size()) break;
            if (b[j] == 'A') row = n <= row ? row - n : 0;
            if (b[j] == 'B') row = std::min(row + n, rows.size() - 1);
            if (b[j] == 'K') rows[row].clear();
            i = j;
        } else {
            std::string& r = rows[row];
            if (r.size() <= col) r.resize(col + 1, ' ');
            r[col++] = c;
        }
    }
    for (auto& r : rows)
        while (!r.empty() && r.back() == ' ')
            r.pop_back();
    return rows;
}

class TransferTty : public CliTest {
  protected:
    void SetUp() override {
        std::string skip;
        reg_ = test::RegistryServer::start(test::RegistryServer::Mode::kTlsBasicAuth, skip);
        if (!reg_) GTEST_SKIP() << skip;
        CliTest::SetUp();
        host_ = reg_->host();
        env_ = {{"DOCKER_CONFIG", (dir_.path() / "docker").string()},
                {"HOME", dir_.path().string()},
                {"STRATA_CERTS_D", reg_->certs_d()},
                {"TERM", "xterm"}};
        auto r = strata(root_, {"login", "-u", reg_->username(), "--password-stdin", host_},
                        reg_->password() + "\n", env_);
        ASSERT_EQ(r.code, 0) << r.err;
    }
    std::optional<test::RegistryServer> reg_;
    std::string host_;
    std::map<std::string, std::string> env_;
};

TEST_F(TransferTty, PullAndPushDrawLayerLinesInPlaceOnATerminal) {
    const std::string ref = host_ + "/tty/app:v1";
    PtyResult r = strata_on_pty(root_, dir_.path(), {"push", "busybox", ref}, env_, 150);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "\x1b[2K\r")) << r.out;
    EXPECT_TRUE(has(r.out, ": Pushed \r\x1b[1B")) << r.out;
    auto rows = screen(r.out);
    ASSERT_GE(rows.size(), 3u) << r.out;
    EXPECT_EQ(rows[0], "The push refers to repository [" + host_ + "/tty/app]");
    EXPECT_EQ(rows[1].substr(12), ": Pushed") << r.out;  // busybox: one layer
    EXPECT_TRUE(rows[2].starts_with("v1: digest: sha256:")) << rows[2];

    const fs::path fresh = dir_.path() / "fresh";
    r = strata_on_pty(fresh, dir_.path(), {"pull", ref}, env_, 150);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_FALSE(has(r.out, "Pulling fs layer\r\n")) << "no plain lines on a terminal: " << r.out;
    rows = screen(r.out);
    ASSERT_GE(rows.size(), 5u) << r.out;
    EXPECT_EQ(rows[0], "v1: Pulling from tty/app");
    EXPECT_EQ(rows[1].substr(12), ": Pull complete") << r.out;
    EXPECT_TRUE(rows[2].starts_with("Digest: sha256:")) << rows[2];
    EXPECT_EQ(rows[3], "Status: Downloaded newer image for " + ref);
    EXPECT_EQ(rows[4], ref);
}

TEST_F(TransferTty, DumbTerminalGetsThePlainLines) {
    const std::string ref = host_ + "/tty/dumb:v1";
    env_["TERM"] = "dumb";
    PtyResult r = strata_on_pty(root_, dir_.path(), {"push", "busybox", ref}, env_, 150);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_FALSE(has(r.out, "\x1b[")) << r.out;
    EXPECT_TRUE(has(r.out, ": Preparing\r\n")) << r.out;
    EXPECT_TRUE(has(r.out, ": Pushed\r\n")) << r.out;

    r = strata_on_pty(dir_.path() / "fresh", dir_.path(), {"pull", ref}, env_, 150);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_FALSE(has(r.out, "\x1b[")) << r.out;
    EXPECT_TRUE(has(r.out, ": Pulling fs layer\r\n")) << r.out;
    EXPECT_TRUE(has(r.out, ": Download complete\r\n")) << r.out;
    EXPECT_TRUE(has(r.out, ": Pull complete\r\n")) << r.out;

    // -q: the name alone, on a terminal too.
    env_["TERM"] = "xterm";
    r = strata_on_pty(dir_.path() / "quiet", dir_.path(), {"pull", "-q", ref}, env_, 150);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, ref + "\r\n");
}

}  // namespace
}  // namespace strata::imagetest
