// PrivateNetwork: the build's network namespace behind pasta.
//
// The PrivateNetworkFakeHost tests run pasta inside a "fake host": a network namespace the
// test makes, whose "uplink" is one end of a veth pair with nothing behind
// the other end (198.51.100.2/24 and 2001:db8::2/64, documentation
// addresses, default routes through .1 and ::1, which nobody answers). pasta
// takes that namespace for the host, so whatever a test sends through pasta
// stays in it: nothing leaves the machine, and the gateway can be probed
// without touching the real one (the kernel here has no dummy interfaces).
// PrivateNetworkOnHost tests only talk to loopback, except OutboundToTheDebianMirror,
// the one test that leaves the machine.
#include "sandbox/private_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <netdb.h>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

bool pasta_installed() {
    std::vector<std::string> dirs = {"/usr/bin", "/usr/sbin"};
    if (const char* path = std::getenv("PATH")) {
        std::stringstream in(path);
        for (std::string d; std::getline(in, d, ':');)
            dirs.push_back(d);
    }
    return std::any_of(dirs.begin(), dirs.end(), [](const std::string& d) {
        return ::access((fs::path(d) / "pasta").c_str(), X_OK) == 0;
    });
}

#define REQUIRE_PASTA_AND_ROOT()                                                                 \
    do {                                                                                         \
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (unshare(CLONE_NEWNET))";              \
        if (!pasta_installed()) GTEST_SKIP() << "pasta is not installed (Debian package passt)"; \
    } while (0)

// ---- processes -------------------------------------------------------------

// Dead or a zombie (the kernel has released everything but the PID).
bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren == std::string::npos || paren + 2 >= line.size()) return true;
    const char state = line[paren + 2];
    return state == 'Z' || state == 'X';
}

bool wait_until_gone(pid_t pid, milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    while (!process_gone(pid)) {
        if (steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
}

// Runs `check` in a forked child that joined `netns_fd`; returns what the
// child reported: "" when every check held.
std::string in_namespace(int netns_fd, const std::function<std::string()>& check) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
    UniqueFd rd(fds[0]), wr(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        rd.reset();
        std::string report;
        if (::setns(netns_fd, CLONE_NEWNET) != 0)
            report = std::string("setns: ") + std::strerror(errno);
        else
            report = check();
        [[maybe_unused]] ssize_t n = ::write(wr.get(), report.data(), report.size());
        ::_exit(0);
    }
    wr.reset();
    std::string report;
    char buf[512];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        report.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) report += " (child died)";
    return report;
}

// ---- sockets ---------------------------------------------------------------

struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

Endpoint endpoint(const std::string& ip, uint16_t port) {
    Endpoint e;
    if (ip.find(':') != std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&e.addr);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
        e.len = sizeof(sockaddr_in6);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&e.addr);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
        e.len = sizeof(sockaddr_in);
    }
    return e;
}

// A listening TCP socket on ip:port (port 0: any); `port` receives the port.
UniqueFd listen_tcp(const std::string& ip, uint16_t& port) {
    Endpoint e = endpoint(ip, port);
    UniqueFd s(::socket(e.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&e.addr), e.len) != 0 ||
        ::listen(s.get(), 16) != 0)
        throw std::runtime_error("listen on " + ip + ": " + std::strerror(errno));
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&e.addr), &e.len);
    port = ntohs(e.addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&e.addr)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&e.addr)->sin_port);
    return s;
}

// 0 when a TCP connection to ip:port is established within `timeout`, else
// the errno (ETIMEDOUT when nothing answered).
int tcp_connect(const std::string& ip, uint16_t port, milliseconds timeout) {
    Endpoint e = endpoint(ip, port);
    UniqueFd s(::socket(e.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return errno;
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&e.addr), e.len) == 0) return 0;
    if (errno != EINPROGRESS) return errno;
    pollfd p{s.get(), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

std::string describe(int err) {
    return err == 0 ? "connected" : std::strerror(err);
}

sockaddr_un abstract_address(const std::string& name, socklen_t& len) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
}

UniqueFd listen_abstract(const std::string& name) {
    socklen_t len;
    sockaddr_un a = abstract_address(name, len);
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(s.get(), 4))
        throw std::runtime_error("bind abstract socket: " + std::string(std::strerror(errno)));
    return s;
}

int connect_abstract(const std::string& name) {
    socklen_t len;
    sockaddr_un a = abstract_address(name, len);
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), len) == 0 ? 0 : errno;
}

// ---- what a namespace looks like from inside -------------------------------

bool has_default_route() {
    std::ifstream routes("/proc/net/route");
    std::string line;
    std::getline(routes, line);  // header
    while (std::getline(routes, line)) {
        std::stringstream f(line);
        std::string iface, dest;
        f >> iface >> dest;
        if (dest == "00000000") return true;
    }
    return false;
}

std::vector<std::string> ipv4_addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        char text[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text,
                    sizeof text);
        out.emplace_back(text);
    }
    ::freeifaddrs(list);
    return out;
}

// Checks that loopback works inside: bind + connect on 127.0.0.1.
std::string check_own_loopback() {
    try {
        uint16_t port = 0;
        UniqueFd server = listen_tcp("127.0.0.1", port);
        const int err = tcp_connect("127.0.0.1", port, milliseconds(2000));
        if (err != 0)
            return "own loopback: connect to 127.0.0.1:" + std::to_string(port) + ": " +
                   describe(err) + "\n";
    } catch (const std::exception& e) {
        return std::string("own loopback: ") + e.what() + "\n";
    }
    return "";
}

std::string check_configured() {
    std::string report = check_own_loopback();
    if (!has_default_route()) report += "no default route\n";
    const auto addrs = ipv4_addresses();
    if (std::none_of(addrs.begin(), addrs.end(),
                     [](const std::string& a) { return a.rfind("127.", 0) != 0; }))
        report += "no non-loopback IPv4 address\n";
    return report;
}

// The host side: a TCP server on 127.0.0.1 and on ::1 (same port) and an
// abstract unix socket, in the network namespace of the calling thread.
struct HostServices {
    uint16_t port = 0;
    UniqueFd tcp4, tcp6, unix_socket;
    std::string abstract_name;

    HostServices() {
        tcp4 = listen_tcp("127.0.0.1", port);
        tcp6 = listen_tcp("::1", port);
        abstract_name = "strata-private-network-test-" + std::to_string(::getpid());
        unix_socket = listen_abstract(abstract_name);
    }
    // The test's controls: the host itself reaches all three.
    std::string check_reachable_here() const {
        std::string r;
        if (int e = tcp_connect("127.0.0.1", port, milliseconds(2000)))
            r += "host 127.0.0.1: " + describe(e) + "\n";
        if (int e = tcp_connect("::1", port, milliseconds(2000)))
            r += "host ::1: " + describe(e) + "\n";
        if (int e = connect_abstract(abstract_name))
            r += "host abstract socket: " + describe(e) + "\n";
        return r;
    }
};

// From inside: none of the host's loopback services is reachable.
std::string check_host_loopback_unreachable(const HostServices& host) {
    std::string r;
    for (const char* ip : {"127.0.0.1", "::1"}) {
        const int err = tcp_connect(ip, host.port, milliseconds(1500));
        if (err != ECONNREFUSED)
            r += std::string(ip) + ":" + std::to_string(host.port) + " gave " + describe(err) +
                 " (want: refused, nothing listens there inside)\n";
    }
    if (const int err = connect_abstract(host.abstract_name); err != ECONNREFUSED)
        r += "abstract socket @" + host.abstract_name + " gave " + describe(err) +
             " (want: refused)\n";
    return r;
}

// ---- the fake host ---------------------------------------------------------

constexpr const char* kFakeHostAddress = "198.51.100.2";
constexpr const char* kFakeHostOtherAddress = "198.51.100.3";
constexpr const char* kFakeGateway = "198.51.100.1";
constexpr const char* kFakeGateway6 = "2001:db8::1";

class PrivateNetworkFakeHost : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (unshare(CLONE_NEWNET))";
        if (!pasta_installed()) GTEST_SKIP() << "pasta is not installed (Debian package passt)";
        if (std::system("command -v ip >/dev/null 2>&1") != 0)
            GTEST_SKIP() << "iproute2's ip is not installed (it builds the fake host)";
        original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(original_) << std::strerror(errno);
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
        entered_ = true;
        const std::string setup = std::string("set -e; exec >/dev/null 2>&1; ip link set lo up; ") +
                                  "ip link add strata-up0 type veth peer name strata-up1; " +
                                  "ip link set strata-up1 up; ip link set strata-up0 up; " +
                                  "ip addr add " + kFakeHostAddress + "/24 dev strata-up0; " +
                                  "ip addr add " + kFakeHostOtherAddress + "/24 dev strata-up0; " +
                                  "ip route add default via " + kFakeGateway + "; " +
                                  "ip -6 addr add 2001:db8::2/64 dev strata-up0 nodad; " +
                                  "ip -6 route add default via " + kFakeGateway6;
        if (std::system(setup.c_str()) != 0)
            GTEST_SKIP() << "cannot create a veth pair in a new network namespace";
        state_ = std::make_unique<TempDir>(TempDir::create(fs::temp_directory_path(), "net-"));
    }
    void TearDown() override {
        state_.reset();
        if (entered_) {
            EXPECT_EQ(::setns(original_.get(), CLONE_NEWNET), 0) << std::strerror(errno);
        }
    }
    const fs::path& scratch_dir() const { return state_->path(); }

    UniqueFd original_;
    bool entered_ = false;
    std::unique_ptr<TempDir> state_;
};

class PrivateNetworkOnHost : public ::testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_PASTA_AND_ROOT();
        state_ = std::make_unique<TempDir>(TempDir::create(fs::temp_directory_path(), "net-"));
    }
    const fs::path& scratch_dir() const { return state_->path(); }
    std::unique_ptr<TempDir> state_;
};

// ---- tests -----------------------------------------------------------------

TEST(PrivateNetworkResolvConf, LoopbackResolverIsReplacedByTheGateway) {
    const auto r = private_resolv_conf(
        "# from systemd-resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\n"
        "search corp.example\n",
        "192.0.2.1");
    EXPECT_EQ(r.forward_to, "127.0.0.53");
    EXPECT_EQ(r.content, "nameserver 192.0.2.1\noptions edns0 trust-ad\nsearch corp.example\n");
}

TEST(PrivateNetworkResolvConf, OtherResolversAreKeptAndIpv6LoopbackDropped) {
    const auto r = private_resolv_conf(
        "nameserver 10.255.255.53\nnameserver ::1\nnameserver 2001:db8::53\n"
        "nameserver 127.0.0.1\nnameserver 127.0.0.53\n",
        "192.0.2.1");
    EXPECT_EQ(r.forward_to, "127.0.0.1");
    EXPECT_EQ(r.content,
              "nameserver 10.255.255.53\nnameserver 2001:db8::53\nnameserver 192.0.2.1\n");

    const auto plain = private_resolv_conf("nameserver 10.255.255.53\n", "192.0.2.1");
    EXPECT_EQ(plain.forward_to, "");
    EXPECT_EQ(plain.content, "nameserver 10.255.255.53\n");
}

TEST(PrivateNetworkResolvConf, NoNameserverMeansTheLocalHost) {
    const auto r = private_resolv_conf("search example.org\n", "192.0.2.1");
    EXPECT_EQ(r.forward_to, "127.0.0.1");
    EXPECT_EQ(r.content, "search example.org\nnameserver 192.0.2.1\n");
}

TEST(PrivateNetworkResolvConf, WithoutAGatewayLoopbackResolversAreDropped) {
    const auto r = private_resolv_conf("nameserver 127.0.0.53\nnameserver 10.0.0.53\n", "");
    EXPECT_EQ(r.forward_to, "");
    EXPECT_EQ(r.content, "nameserver 10.0.0.53\n");
}

TEST(PrivateNetworkStart, MissingPastaSaysWhatToInstall) {
    PrivateNetworkOptions options;
    options.pasta = "/nonexistent/pasta";
    try {
        PrivateNetwork::start(options);
        FAIL() << "start() succeeded without pasta";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(
            std::string(e.what()).find("install Debian's passt package or use --network=host"),
            std::string::npos)
            << e.what();
    }
}

TEST_F(PrivateNetworkOnHost, NamespaceIsConfiguredWhenStartReturns) {
    PrivateNetwork net = PrivateNetwork::start();
    struct stat ours {
    }, theirs{};
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &ours), 0);
    ASSERT_EQ(::fstat(net.netns_fd(), &theirs), 0);
    EXPECT_NE(ours.st_ino, theirs.st_ino) << "the namespace is the host's";
    EXPECT_EQ(in_namespace(net.netns_fd(), check_configured), "");
    EXPECT_GT(net.pasta_pid(), 0);
    EXPECT_FALSE(process_gone(net.pasta_pid()));
    EXPECT_NE(net.resolv_conf().find("nameserver "), std::string::npos) << net.resolv_conf();
}

TEST_F(PrivateNetworkOnHost, HostLoopbackAndAbstractSocketsAreUnreachable) {
    HostServices host;
    ASSERT_EQ(host.check_reachable_here(), "");
    PrivateNetwork net = PrivateNetwork::start();
    EXPECT_EQ(in_namespace(net.netns_fd(), [&] { return check_host_loopback_unreachable(host); }),
              "");
}

TEST_F(PrivateNetworkFakeHost, HostLoopbackIsUnreachableAlsoThroughTheGateway) {
    HostServices host;
    ASSERT_EQ(host.check_reachable_here(), "");
    PrivateNetwork net = PrivateNetwork::start();
    const std::string report = in_namespace(net.netns_fd(), [&] {
        std::string r = check_configured() + check_host_loopback_unreachable(host);
        // Every address pasta offers: the gateways (which pasta maps to the
        // host's loopback unless told not to) and the namespace's own
        // address (the host's, copied). Nobody answers for the gateway on
        // the fake uplink: a SYN to it goes unanswered, "not connected in time".
        for (const char* ip : {kFakeGateway, kFakeGateway6, kFakeHostAddress}) {
            const int err = tcp_connect(ip, host.port, milliseconds(1500));
            if (err == 0) r += std::string(ip) + " reached the host's loopback server\n";
        }
        return r;
    });
    EXPECT_EQ(report, "");
}

TEST_F(PrivateNetworkFakeHost, OutboundConnectionsGoThroughPasta) {
    // The host's non-loopback address stands in for the internet: inside,
    // 198.51.100.3 is not local, so the connection goes through pasta.
    uint16_t port = 0;
    UniqueFd server = listen_tcp(kFakeHostOtherAddress, port);
    PrivateNetwork net = PrivateNetwork::start();
    EXPECT_EQ(in_namespace(net.netns_fd(),
                           [&]() -> std::string {
                               const int err =
                                   tcp_connect(kFakeHostOtherAddress, port, milliseconds(3000));
                               return err == 0 ? "" : "outbound: " + describe(err);
                           }),
              "");
}

TEST_F(PrivateNetworkFakeHost, GatewayIsReadFromTheRoutingTable) {
    EXPECT_EQ(default_ipv4_gateway(), kFakeGateway);
}

TEST_F(PrivateNetworkFakeHost, DnsToTheGatewayReachesTheHostsLoopbackResolver) {
    // A "resolver" on the fake host's 127.0.0.1:53 that echoes datagrams.
    UniqueFd resolver(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Endpoint at = endpoint("127.0.0.1", 53);
    ASSERT_EQ(::bind(resolver.get(), reinterpret_cast<sockaddr*>(&at.addr), at.len), 0)
        << std::strerror(errno);
    std::thread echo([&] {
        pollfd p{resolver.get(), POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return;
        char buf[512];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(resolver.get(), buf, sizeof buf, 0,
                                     reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0)
            ::sendto(resolver.get(), buf, static_cast<size_t>(n), 0,
                     reinterpret_cast<sockaddr*>(&from), len);
    });
    const fs::path resolv = scratch_dir() / "host-resolv.conf";
    std::ofstream(resolv) << "nameserver 127.0.0.1\nsearch example.test\n";
    PrivateNetworkOptions options;
    options.host_resolv_conf = resolv;
    HostServices host;
    PrivateNetwork net = PrivateNetwork::start(options);
    EXPECT_EQ(net.resolv_conf(),
              std::string("nameserver ") + kFakeGateway + "\nsearch example.test\n");
    const std::string report = in_namespace(net.netns_fd(), [&]() -> std::string {
        // Forwarding DNS opens the gateway's UDP port 53 and nothing else.
        if (tcp_connect(kFakeGateway, host.port, milliseconds(1500)) == 0)
            return "the gateway reached the host's loopback server";
        UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        // Connected, so the kernel drops an answer from any other address
        // (as glibc's resolver does).
        Endpoint to = endpoint(kFakeGateway, 53);
        if (::connect(s.get(), reinterpret_cast<sockaddr*>(&to.addr), to.len) != 0)
            return std::string("connect: ") + std::strerror(errno);
        const char query[] = "strata-dns-probe";
        if (::send(s.get(), query, sizeof query, 0) < 0)
            return std::string("send: ") + std::strerror(errno);
        pollfd p{s.get(), POLLIN, 0};
        if (::poll(&p, 1, 3000) <= 0) return "no answer from the gateway's port 53";
        char buf[64] = {};
        const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
        if (n != sizeof query || std::memcmp(buf, query, sizeof query) != 0)
            return "unexpected answer";
        return "";
    });
    echo.join();
    EXPECT_EQ(report, "");
}

TEST_F(PrivateNetworkOnHost, DestructorLeavesNothingBehind) {
    pid_t pasta = -1, keeper = -1;
    {
        PrivateNetwork net = PrivateNetwork::start();
        pasta = net.pasta_pid();
        keeper = net.keeper_pid();
        ASSERT_FALSE(process_gone(pasta));
        ASSERT_FALSE(process_gone(keeper));
        // Its log is in memory: not a file a kill -9 of strata could leave.
        std::error_code ec;
        const std::string log =
            fs::read_symlink("/proc/" + std::to_string(pasta) + "/fd/2", ec).string();
        EXPECT_TRUE(log.starts_with("/memfd:pasta-log")) << log;
        // Moving it hands over the processes: the moved-from object stops nothing.
        PrivateNetwork moved = std::move(net);
        EXPECT_FALSE(process_gone(pasta));
    }
    // The keeper is reaped by the destructor, pasta by the keeper: both are
    // gone entirely, not zombies.
    EXPECT_NE(::kill(pasta, 0), 0);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_NE(::kill(keeper, 0), 0);
}

TEST_F(PrivateNetworkOnHost, NetworksStopIndependently) {
    std::optional<PrivateNetwork> first(PrivateNetwork::start());
    PrivateNetwork second = PrivateNetwork::start();
    const pid_t first_pasta = first->pasta_pid();
    const auto t0 = steady_clock::now();
    first.reset();
    EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_TRUE(process_gone(first_pasta));
    EXPECT_FALSE(process_gone(second.pasta_pid()));
    EXPECT_EQ(in_namespace(second.netns_fd(), check_configured), "");
}

TEST_F(PrivateNetworkOnHost, PastaOutlivesTheThreadThatStartedIt) {
    // PR_SET_PDEATHSIG set straight on pasta would fire here: the parent
    // death signal follows the thread that forked, not the process.
    std::optional<PrivateNetwork> net;
    std::thread([&] { net.emplace(PrivateNetwork::start()); }).join();
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_TRUE(net);
    EXPECT_FALSE(process_gone(net->pasta_pid()));
    EXPECT_EQ(in_namespace(net->netns_fd(), check_configured), "");
}

TEST_F(PrivateNetworkOnHost, KillingTheOwnerStopsPasta) {
    // Orphans come back to us, so that the keeper can be reaped and checked.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd rd(fds[0]), wr(fds[1]);
    const pid_t owner = ::fork();
    ASSERT_GE(owner, 0);
    if (owner == 0) {
        rd.reset();
        std::string msg;
        try {
            PrivateNetwork net = PrivateNetwork::start();
            msg = std::to_string(net.pasta_pid()) + " " + std::to_string(net.keeper_pid()) + "\n";
            [[maybe_unused]] ssize_t n = ::write(wr.get(), msg.data(), msg.size());
            for (;;)
                ::pause();
        } catch (const std::exception& e) {
            msg = std::string("error ") + e.what();
            [[maybe_unused]] ssize_t n = ::write(wr.get(), msg.data(), msg.size());
            ::_exit(1);
        }
    }
    wr.reset();
    std::string msg;
    char buf[256];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;) {
        msg.append(buf, static_cast<size_t>(n));
        if (msg.find('\n') != std::string::npos) break;
    }
    pid_t pasta = -1, keeper = -1;
    std::stringstream(msg) >> pasta >> keeper;
    ASSERT_GT(pasta, 0) << msg;
    ASSERT_FALSE(process_gone(pasta));

    ASSERT_EQ(::kill(owner, SIGKILL), 0);
    ASSERT_EQ(::waitpid(owner, nullptr, 0), owner);
    const auto killed = steady_clock::now();
    EXPECT_TRUE(wait_until_gone(pasta, milliseconds(5000))) << "pasta " << pasta << " survived";
    const auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count();
    std::cout << "[          ] pasta gone " << ms << " ms after kill -9 of its owner\n";
    EXPECT_TRUE(wait_until_gone(keeper, milliseconds(5000)));
    ::waitpid(keeper, nullptr, 0);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

fs::path write_script(const fs::path& dir, const std::string& body) {
    const fs::path script = dir / "fake-pasta";
    std::ofstream(script) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(script, fs::perms::owner_all);
    return script;
}

TEST_F(PrivateNetworkOnHost, PastaThatFailsIsReportedWithItsOutput) {
    TempDir bin = TempDir::create(fs::temp_directory_path(), "net-bin-");
    PrivateNetworkOptions options;
    options.pasta = write_script(bin.path(),
                                 "echo 'Failed to send 3 bytes to syslog' >&2\n"
                                 "echo 'simulated: no route to anywhere' >&2\nexit 1");
    try {
        PrivateNetwork::start(options);
        FAIL() << "start() succeeded with a failing pasta";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("simulated: no route to anywhere"), std::string::npos) << what;
        EXPECT_EQ(what.find("syslog"), std::string::npos) << what;
    }
}

TEST_F(PrivateNetworkOnHost, PastaThatHangsTimesOutAndIsStopped) {
    TempDir bin = TempDir::create(fs::temp_directory_path(), "net-bin-");
    PrivateNetworkOptions options;
    options.pasta = write_script(bin.path(), "echo $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60");
    options.ready_timeout = milliseconds(300);
    const auto t0 = steady_clock::now();
    EXPECT_THROW(PrivateNetwork::start(options), Error);
    EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(3));
    pid_t sleeper = -1;
    std::ifstream(bin.path() / "pid") >> sleeper;
    ASSERT_GT(sleeper, 0);
    EXPECT_TRUE(process_gone(sleeper));
}

// The mirror in the apt sources (the only outside host this machine reaches).
std::optional<std::string> debian_mirror_host() {
    std::vector<fs::path> files = {"/etc/apt/sources.list"};
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/etc/apt/sources.list.d", ec))
        files.push_back(e.path());
    const std::regex url(R"(https?://([A-Za-z0-9.-]+)/)");
    for (const auto& f : files) {
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);) {
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            std::smatch m;
            if (std::regex_search(line, m, url)) {
                const std::string host = m[1];
                if (host.size() > 10 && host.ends_with(".debian.org")) return host;
            }
        }
    }
    return std::nullopt;
}

// 0 when `host` resolves and TCP port 80 of its first IPv4 address answers.
std::string reach_port_80(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), "80", &hints, &res); rc != 0)
        return "resolve " + host + ": " + ::gai_strerror(rc);
    char ip[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, ip, sizeof ip);
    ::freeaddrinfo(res);
    const int err = tcp_connect(ip, 80, milliseconds(5000));
    return err == 0 ? "" : "connect " + host + " (" + ip + "):80: " + describe(err);
}

TEST_F(PrivateNetworkOnHost, OutboundToTheDebianMirror) {
    const auto host = debian_mirror_host();
    if (!host) GTEST_SKIP() << "no *.debian.org mirror in /etc/apt/sources.list*";
    if (const std::string why = reach_port_80(*host); !why.empty())
        GTEST_SKIP() << "the host itself cannot reach the mirror: " << why;
    PrivateNetwork net = PrivateNetwork::start();
    const fs::path resolv = scratch_dir() / "resolv.conf";
    std::ofstream(resolv) << net.resolv_conf();
    const std::string report = in_namespace(net.netns_fd(), [&]() -> std::string {
        // As in a container: the resolver reads what resolv_conf() says.
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0)
            return std::string("bind resolv.conf: ") + std::strerror(errno);
        return reach_port_80(*host);
    });
    fs::remove(resolv);
    EXPECT_EQ(report, "") << "resolv.conf:\n" << net.resolv_conf();
}

TEST_F(PrivateNetworkOnHost, StartupAndSetnsCost) {
    std::vector<double> start_ms;
    for (int i = 0; i < 10; ++i) {
        const auto t0 = steady_clock::now();
        PrivateNetwork net = PrivateNetwork::start();
        start_ms.push_back(
            std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count());
        if (i != 0) continue;
        // setns into it, measured in children (20 of them), median.
        std::vector<double> setns_us;
        for (int j = 0; j < 20; ++j) {
            const std::string r = in_namespace(net.netns_fd(), [] { return std::string(); });
            ASSERT_EQ(r, "");
            int fds[2];
            ASSERT_EQ(::pipe(fds), 0);
            const pid_t pid = ::fork();
            if (pid == 0) {
                const auto s0 = steady_clock::now();
                const int rc = ::setns(net.netns_fd(), CLONE_NEWNET);
                const double us =
                    std::chrono::duration<double, std::micro>(steady_clock::now() - s0).count();
                [[maybe_unused]] ssize_t n = ::write(fds[1], &us, sizeof us);
                ::_exit(rc == 0 ? 0 : 1);
            }
            ::close(fds[1]);
            double us = -1;
            [[maybe_unused]] ssize_t n = ::read(fds[0], &us, sizeof us);
            ::close(fds[0]);
            int status = 0;
            ::waitpid(pid, &status, 0);
            ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            setns_us.push_back(us);
        }
        std::sort(setns_us.begin(), setns_us.end());
        std::cout << "[          ] setns(CLONE_NEWNET) in a child: median " << setns_us[10]
                  << " us, max " << setns_us.back() << " us\n";
    }
    std::sort(start_ms.begin(), start_ms.end());
    std::cout << "[          ] PrivateNetwork::start: median " << start_ms[5] << " ms, min "
              << start_ms.front() << " ms, max " << start_ms.back() << " ms (10 runs)\n";
    EXPECT_LT(start_ms[5], 2000.0);
}

}  // namespace
}  // namespace strata::sandbox
