// SshAgentProxy: what a RUN step's ssh mount can ask the agent behind it
// (BuildKit's read-only forwarding), the socket's owner and mode, and that it
// stops with clients still connected. The agent here is a fake that answers
// every request and records its type.
#include "executor/run/ssh_agent_proxy.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::executor {
namespace {

namespace fs = std::filesystem;

UniqueFd listen_at(const fs::path& p) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", p.c_str());
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << p;
    EXPECT_EQ(::listen(fd.get(), 8), 0);
    return fd;
}

UniqueFd connect_to(const fs::path& p) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", p.c_str());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
    return fd;
}

std::string frame(const std::string& body) {
    const auto n = static_cast<uint32_t>(body.size());
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
    return out + body;
}

bool read_n(int fd, char* buf, size_t n) {
    while (n > 0) {
        const ssize_t r = ::read(fd, buf, n);
        if (r <= 0) return false;
        buf += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

// One answer's body; "" at EOF.
std::string answer(int fd) {
    std::array<char, 4> len{};
    if (!read_n(fd, len.data(), 4)) return "";
    const uint32_t n = (uint32_t{static_cast<unsigned char>(len[0])} << 24) |
                       (uint32_t{static_cast<unsigned char>(len[1])} << 16) |
                       (uint32_t{static_cast<unsigned char>(len[2])} << 8) |
                       uint32_t{static_cast<unsigned char>(len[3])};
    std::string body(n, '\0');
    if (!read_n(fd, body.data(), n)) return "";
    return body;
}

std::string ask(int fd, const std::string& body) {
    const std::string f = frame(body);
    if (::write(fd, f.data(), f.size()) != static_cast<ssize_t>(f.size())) return "";
    return answer(fd);
}

// An agent that answers 11 with an empty key list (12), 13 with a fake
// signature (14), anything else with success (6), and records each type;
// each connection on a thread of its own, as a real agent serves them.
class FakeAgent {
  public:
    explicit FakeAgent(const fs::path& p) : listener_(listen_at(p)) {
        acceptor_ = std::thread([this] {
            for (;;) {
                const int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;
                std::lock_guard lock(mu_);
                conns_.push_back(c);
                threads_.emplace_back([this, c] { serve(c); });
            }
        });
    }
    ~FakeAgent() {
        ::shutdown(listener_.get(), SHUT_RDWR);
        acceptor_.join();
        {
            std::lock_guard lock(mu_);
            for (int c : conns_)
                ::shutdown(c, SHUT_RDWR);
        }
        for (auto& t : threads_)
            t.join();
        for (int c : conns_)
            ::close(c);
    }
    std::vector<unsigned> seen() {
        std::lock_guard lock(mu_);
        return seen_;
    }

  private:
    void serve(int c) {
        for (std::string req; !(req = answer(c)).empty();) {
            {
                std::lock_guard lock(mu_);
                seen_.push_back(static_cast<unsigned char>(req[0]));
            }
            const std::string reply = req[0] == 11   ? std::string("\x0c\0\0\0\0", 5)
                                      : req[0] == 13 ? std::string("\x0e\0\0\0\x03sig", 8)
                                                     : std::string("\x06");
            const std::string f = frame(reply);
            if (::write(c, f.data(), f.size()) < 0) return;
        }
    }
    UniqueFd listener_;
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<int> conns_;
    std::vector<std::thread> threads_;
    std::vector<unsigned> seen_;
};

TEST(SshAgentProxy, PassesOnListingSigningAndUnlockingOnly) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "ssh-proxy-");
    FakeAgent agent(dir.path() / "agent");
    SshAgentProxy proxy(dir.path() / "agent", dir.path() / "proxy", ::geteuid(), ::getegid(), 0600);
    UniqueFd c = connect_to(proxy.path());
    ASSERT_TRUE(c);
    EXPECT_EQ(ask(c.get(), "\x0b"), std::string("\x0c\0\0\0\0", 5));  // identities
    // Add, remove, remove all, lock, extension (and an SSH1 request, and a
    // smartcard one): refused here, never seen by the agent.
    for (const char type : {17, 25, 18, 19, 22, 27, 1, 20}) {
        EXPECT_EQ(ask(c.get(), std::string(1, type) + "payload"), "\x05")
            << "type " << static_cast<int>(type);
    }
    EXPECT_EQ(ask(c.get(), std::string("\x0d", 1) + "key+data"),
              std::string("\x0e\0\0\0\x03sig", 8));
    EXPECT_EQ(ask(c.get(), "\x17pw"), "\x06");  // unlock
    EXPECT_EQ(agent.seen(), (std::vector<unsigned>{11, 13, 23}));
    for (unsigned char t = 0; t < 255; ++t)
        EXPECT_EQ(SshAgentProxy::passes(t), t == 11 || t == 13 || t == 23) << int(t);
}

TEST(SshAgentProxy, TheSocketHasTheMountsOwnerAndMode) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "ssh-proxy-");
    FakeAgent agent(dir.path() / "agent");
    const bool root = ::geteuid() == 0;
    const uid_t uid = root ? 1000 : ::geteuid();
    const gid_t gid = root ? 50 : ::getegid();
    SshAgentProxy proxy(dir.path() / "agent", dir.path() / "proxy", uid, gid, 0640);
    struct stat st {};
    ASSERT_EQ(::lstat(proxy.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_uid, uid);
    EXPECT_EQ(st.st_gid, gid);
}

TEST(SshAgentProxy, AnOversizedOrEmptyMessageEndsTheConnection) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "ssh-proxy-");
    FakeAgent agent(dir.path() / "agent");
    SshAgentProxy proxy(dir.path() / "agent", dir.path() / "proxy", ::geteuid(), ::getegid(), 0600);
    for (const std::string& len : {std::string("\x00\x04\x00\x01", 4), std::string(4, '\0')}) {
        UniqueFd c = connect_to(proxy.path());
        ASSERT_TRUE(c);
        ASSERT_EQ(::write(c.get(), len.data(), 4), 4);
        char b;
        EXPECT_EQ(::read(c.get(), &b, 1), 0) << "the proxy closes the connection";
    }
    EXPECT_TRUE(agent.seen().empty());
}

TEST(SshAgentProxy, WithoutTheAgentEachRequestFails) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "ssh-proxy-");
    SshAgentProxy proxy(dir.path() / "no-agent", dir.path() / "proxy", ::geteuid(), ::getegid(),
                        0600);
    UniqueFd c = connect_to(proxy.path());
    ASSERT_TRUE(c);
    EXPECT_EQ(ask(c.get(), "\x0b"), "\x05");
    EXPECT_EQ(ask(c.get(), "\x0b"), "\x05") << "the connection stays usable";
}

// Clients that hold their connections open (a step's process that never
// asks, or one killed mid-request) do not keep the build waiting: the proxy
// ends them when it stops. Past kMaxClients at once, a client is closed.
TEST(SshAgentProxy, StopsWithClientsConnectedAndLimitsThem) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "ssh-proxy-");
    FakeAgent agent(dir.path() / "agent");
    std::vector<UniqueFd> clients;
    fs::path path;
    {
        SshAgentProxy proxy(dir.path() / "agent", dir.path() / "proxy", ::geteuid(), ::getegid(),
                            0600);
        path = proxy.path();
        for (size_t i = 0; i < SshAgentProxy::kMaxClients; ++i) {
            clients.push_back(connect_to(path));
            ASSERT_TRUE(clients.back());
            ASSERT_EQ(ask(clients.back().get(), "\x0b").size(), 5u) << i;  // served
        }
        UniqueFd extra = connect_to(path);
        ASSERT_TRUE(extra);  // the backlog takes it; the proxy closes it
        char b;
        EXPECT_EQ(::read(extra.get(), &b, 1), 0);
        // A client half-way through a message.
        ASSERT_EQ(::write(clients[0].get(), "\0\0", 2), 2);
    }
    for (auto& c : clients) {
        pollfd p{c.get(), POLLIN, 0};
        EXPECT_EQ(::poll(&p, 1, 2000), 1);
        char b;
        EXPECT_EQ(::read(c.get(), &b, 1), 0) << "ended by the proxy's stop";
    }
    EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace strata::executor
