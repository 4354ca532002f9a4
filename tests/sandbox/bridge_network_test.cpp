// BridgeNetwork: a container's namespace on a host bridge (veth, address
// lease, NAT rules), and the pieces it is made of.
//
// The BridgeNetworkOnHost tests make a bridge of their own (stratatest0, a
// subnet in 10.200.0.0/16 ... that the host does not use, nft table
// strata_test, state under a temporary directory; a /29: five container
// addresses, so that address reuse comes soon) so that they neither
// depend on nor disturb the real strata0; it is removed at the end. The
// containers are namespaces the tests make; traffic goes between them and to
// the test bridge's own address, never to any other address.
#include "sandbox/bridge_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/find_program.hpp"
#include "base/lock_file.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/address_lease.hpp"
#include "sandbox/bridge_host.hpp"
#include "sandbox/resolv_conf.hpp"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// ---- pieces ----------------------------------------------------------------

TEST(Ipv4Subnet, ParsesAndOverlaps) {
    const auto s = Ipv4Subnet::parse("10.89.0.0/16");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->to_string(), "10.89.0.0/16");
    EXPECT_EQ(format_ipv4(s->gateway()), "10.89.0.1");
    EXPECT_EQ(format_ipv4(s->broadcast()), "10.89.255.255");
    EXPECT_TRUE(s->contains(*parse_ipv4("10.89.3.4")));
    EXPECT_FALSE(s->contains(*parse_ipv4("10.90.0.1")));
    EXPECT_TRUE(s->overlaps(*Ipv4Subnet::parse("10.0.0.0/8")));
    EXPECT_TRUE(s->overlaps(*Ipv4Subnet::parse("10.89.7.0/24")));
    EXPECT_FALSE(s->overlaps(*Ipv4Subnet::parse("10.88.0.0/16")));
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.1/16"));  // host bits set
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0"));
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0/33"));
    EXPECT_FALSE(Ipv4Subnet::parse("nonsense/8"));
}

TEST(BridgeHost, FirstFreeSubnetSkipsUsedOnes) {
    const auto candidates = default_bridge_subnets();
    ASSERT_FALSE(candidates.empty());
    EXPECT_EQ(candidates.front().to_string(), "10.89.0.0/16");
    // docker0 and podman's default network do not collide with the first.
    EXPECT_EQ(first_free_subnet(candidates, {*Ipv4Subnet::parse("172.17.0.0/16"),
                                             *Ipv4Subnet::parse("10.88.0.0/16")})
                  ->to_string(),
              "10.89.0.0/16");
    // A /24 route inside 10.89/16 and an address in 10.90/16 push it on.
    EXPECT_EQ(first_free_subnet(candidates, {*Ipv4Subnet::parse("10.89.5.0/24"),
                                             *Ipv4Subnet::parse("10.90.0.0/24")})
                  ->to_string(),
              "10.91.0.0/16");
    // A VPN's 10.0.0.0/8 takes them all.
    EXPECT_FALSE(first_free_subnet(candidates, {*Ipv4Subnet::parse("10.0.0.0/8")}));
}

TEST(BridgeHost, NftScriptMasqueradesTheSubnetAndReplacesItsTable) {
    const std::string s =
        bridge_nft_script("strata", "strata0", *Ipv4Subnet::parse("10.89.0.0/16"));
    EXPECT_NE(s.find("delete table ip strata\n"), std::string::npos) << s;
    EXPECT_NE(s.find("ip saddr 10.89.0.0/16 oifname != \"strata0\" masquerade"), std::string::npos)
        << s;
    EXPECT_NE(s.find("type nat hook postrouting priority srcnat"), std::string::npos) << s;
    // Nothing in iptables' tables: iptables-nft would call them incompatible.
    EXPECT_EQ(s.find("ip filter"), std::string::npos) << s;
    const auto rules = iptables_forward_rules("strata0");
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0], (std::vector<std::string>{"-i", "strata0", "-j", "ACCEPT"}));
}

TEST(BridgeNetwork, MacAndVethNameFollowTheAddress) {
    const uint32_t a = *parse_ipv4("10.89.0.2");
    const std::array<uint8_t, 6> mac = {0x02, 0x42, 10, 89, 0, 2};
    EXPECT_EQ(bridge_mac(a), mac);
    EXPECT_EQ(bridge_veth_name(a), "veth0a590002");
}

TEST(BridgeResolvConf, DropsLoopbackAndIpv6NameserversAsDockerDoes) {
    EXPECT_EQ(bridge_resolv_conf("# c\nsearch example.org\nnameserver 127.0.0.53\n"
                                 "nameserver ::1\nnameserver 2001:db8::53\n"
                                 "nameserver 192.0.2.53\noptions edns0\n"),
              "search example.org\nnameserver 192.0.2.53\noptions edns0\n");
}

TEST(BridgeResolvConf, FallsBackToGooglesResolversWhenNoneIsLeft) {
    EXPECT_EQ(bridge_resolv_conf("nameserver 127.0.0.1\nsearch lan\n"),
              "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    EXPECT_EQ(bridge_resolv_conf(""), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

TEST(BridgeResolvConf, ReadsSystemdResolvedsUpstreamBehindItsStub) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-resolv-");
    const fs::path etc = dir.path() / "resolv.conf", upstream = dir.path() / "upstream.conf";
    std::ofstream(etc) << "nameserver 127.0.0.53\noptions edns0 trust-ad\n";
    std::ofstream(upstream) << "nameserver 192.0.2.10\n";
    EXPECT_EQ(host_resolv_conf_for_bridge(etc, upstream), "nameserver 192.0.2.10\n");
    // Another loopback resolver (dnsmasq's 127.0.0.1) is not resolved's stub.
    std::ofstream(etc) << "nameserver 127.0.0.1\n";
    EXPECT_EQ(host_resolv_conf_for_bridge(etc, upstream), "nameserver 127.0.0.1\n");
    // No upstream file: the host's as it is.
    std::ofstream(etc) << "nameserver 127.0.0.53\n";
    EXPECT_EQ(host_resolv_conf_for_bridge(etc, dir.path() / "missing"), "nameserver 127.0.0.53\n");
}

// A child that is dead (reaped) by the time this returns: its ProcessRef.
ProcessRef dead_process() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    const auto start = process_start_time(pid);
    ::waitpid(pid, nullptr, 0);
    return ProcessRef(pid, start.value_or(1));
}

TEST(AddressLease, GivesAddressesInTurnAndReleasesThem) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-lease-");
    const fs::path leases = dir.path() / "network" / "leases";
    const Ipv4Subnet subnet = *Ipv4Subnet::parse("10.89.0.0/29");  // .2 ... .6
    std::optional<AddressLease> a(AddressLease::acquire(leases, subnet, ProcessRef::self(), "aaa"));
    AddressLease b = AddressLease::acquire(leases, subnet, ProcessRef::self(), "bbb");
    EXPECT_EQ(format_ipv4(a->address()), "10.89.0.2");
    EXPECT_EQ(format_ipv4(b.address()), "10.89.0.3");
    const auto record = AddressLease::read(leases / "10.89.0.2");
    ASSERT_TRUE(record);
    EXPECT_EQ(record->owner.pid(), ::getpid());
    EXPECT_EQ(record->owner.start_time(), ProcessRef::self().start_time());
    EXPECT_EQ(record->container_id, "aaa");
    struct stat st {};
    ASSERT_EQ(::stat(leases.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    a.reset();
    EXPECT_FALSE(fs::exists(leases / "10.89.0.2"));
    // Not the address just freed: the next ones in turn, then around to it.
    std::vector<AddressLease> more;
    for (const char* want : {"10.89.0.4", "10.89.0.5", "10.89.0.6", "10.89.0.2"}) {
        more.push_back(AddressLease::acquire(leases, subnet, ProcessRef::self(), want));
        EXPECT_EQ(format_ipv4(more.back().address()), want);
    }
    EXPECT_THROW(AddressLease::acquire(leases, subnet, ProcessRef::self(), "full"), Error);
}

TEST(AddressLease, ReclaimsTheLeaseOfADeadOwnerAndSaysWhenTheSubnetIsFull) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "strata-lease-");
    const fs::path leases = dir.path() / "leases";
    const Ipv4Subnet subnet = *Ipv4Subnet::parse("10.89.0.0/30");  // only .2
    // A lease left by an owner that was killed (no destructor ran).
    make_private_dirs(leases);
    const ProcessRef dead = dead_process();
    const fs::path file = leases / "10.89.0.2";
    std::ofstream(file) << "pid=" << dead.pid() << "\nstart=" << dead.start_time()
                        << "\ncontainer=killed\n";
    ASSERT_EQ(AddressLease::read(file)->container_id, "killed");
    AddressLease live = AddressLease::acquire(leases, subnet, ProcessRef::self(), "next");
    EXPECT_EQ(live.file(), file);
    EXPECT_EQ(AddressLease::read(file)->container_id, "next");
    try {
        AddressLease::acquire(leases, subnet, ProcessRef::self(), "more");
        ADD_FAILURE() << "a full subnet gave an address";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no free address"), std::string::npos) << e.what();
    }
}

// ---- on the host -----------------------------------------------------------

// The tool's path, "" when missing (the test skips or leaves a check out).
std::string find_tool(const std::string& name) {
    return find_program(name).value_or(fs::path()).string();
}

struct Ran {
    int status = -1;
    std::string output;
};

// Runs argv (an absolute path first) in `netns_fd` (-1: the host's), output collected.
Ran run(int netns_fd, const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    UniqueFd rd(fds[0]), wr(fds[1]);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) ::_exit(120);
        ::dup2(wr.get(), 1);
        ::dup2(wr.get(), 2);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    wr.reset();
    Ran ran;
    char buf[4096];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        ran.output.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return ran;
}

Ran shell(const std::string& script) {
    return run(-1, {"/bin/sh", "-c", script});
}

bool link_exists(const std::string& name) {
    return fs::exists(fs::path("/sys/class/net") / name);
}

bool wait_link_gone(const std::string& name, milliseconds limit = milliseconds(5000)) {
    const auto deadline = steady_clock::now() + limit;
    while (link_exists(name)) {
        if (steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
}

// `body` on a thread of its own that joined `netns_fd`.
template <typename F>
void in_namespace(int netns_fd, F body) {
    std::thread([&] {
        if (::setns(netns_fd, CLONE_NEWNET) != 0) {
            ADD_FAILURE() << "setns: " << std::strerror(errno);
            return;
        }
        body();
    }).join();
}

constexpr const char* kTestBridge = "stratatest0";
constexpr const char* kTestTable = "strata_test";

class BridgeNetworkOnHost : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) return;
        // ctest -j runs each test in a process of its own, and they share the
        // test bridge: one at a time, for the process's whole life.
        suite_lock_.emplace(LockFile::exclusive("/run/lock/strata-bridge-test.lock"));
        // A subnet the host does not use, whatever this machine routes.
        RouteSocket host = RouteSocket::open();
        std::vector<Ipv4Subnet> in_use = host.ipv4_route_destinations();
        for (const auto& a : host.ipv4_addresses())
            in_use.push_back(Ipv4Subnet::of(a.address, a.prefix));
        std::vector<Ipv4Subnet> candidates;
        for (uint32_t second = 200; second < 250; ++second)
            candidates.push_back(Ipv4Subnet{(10u << 24) | (second << 16), 29});
        subnet_ = first_free_subnet(candidates, in_use);
        remove_test_bridge();
    }
    static void TearDownTestSuite() {
        if (::geteuid() == 0) remove_test_bridge();
    }
    static void remove_test_bridge() {
        shell(std::string("ip link del ") + kTestBridge + " 2>/dev/null; nft delete table ip " +
              kTestTable + " 2>/dev/null; true");
        if (find_tool("iptables").empty()) return;
        for (const auto& rule : iptables_forward_rules(kTestBridge)) {
            std::vector<std::string> del = {find_tool("iptables"), "-w", "-D", "FORWARD"};
            del.insert(del.end(), rule.begin(), rule.end());
            while (run(-1, del).status == 0) {
            }
        }
    }
    // iptables' FORWARD chain lists, and lists no rule it cannot read.
    static void expect_iptables_readable() {
        if (find_tool("iptables").empty()) return;
        const Ran s = run(-1, {find_tool("iptables"), "-w", "-S", "FORWARD"});
        EXPECT_EQ(s.status, 0) << s.output;
        EXPECT_EQ(s.output.find("incompatible"), std::string::npos) << s.output;
    }

    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (a bridge, veth pairs, nft)";
        if (find_tool("nft").empty()) GTEST_SKIP() << "nft is not installed (Debian's nftables)";
        ASSERT_TRUE(subnet_) << "no free 10.2xx.0.0/29 subnet on this host for the test bridge";
        state_ = TempDir::create(fs::temp_directory_path(), "strata-bridge-");
        options_.bridge.name = kTestBridge;
        options_.bridge.nft_table = kTestTable;
        options_.bridge.subnet = subnet_;
        options_.bridge.state_dir = state_->path() / "network";
        options_.host_resolv_conf = "nameserver 192.0.2.53\n";
    }

    BridgeNetwork attach(const std::string& id) { return BridgeNetwork::attach(id, options_); }

    static inline std::optional<LockFile> suite_lock_;
    static inline std::optional<Ipv4Subnet> subnet_;
    std::optional<TempDir> state_;
    BridgeNetworkOptions options_;
};

TEST_F(BridgeNetworkOnHost, ContainerHasEth0InTheSubnetAndADefaultRoute) {
    BridgeNetwork net = attach("c1");
    EXPECT_TRUE(subnet_->contains(*parse_ipv4(net.ip_address())));
    EXPECT_EQ(net.gateway(), format_ipv4(subnet_->gateway()));
    EXPECT_EQ(net.prefix_length(), subnet_->prefix);
    EXPECT_EQ(net.resolv_conf(), "nameserver 192.0.2.53\n");
    EXPECT_TRUE(link_exists(net.host_interface()));
    EXPECT_EQ(fs::read_symlink(fs::path("/sys/class/net") / net.host_interface() / "master")
                  .filename()
                  .string(),
              kTestBridge);

    const std::string busybox = find_tool("busybox");
    if (busybox.empty()) GTEST_SKIP() << "busybox is not installed (busybox-static)";
    const Ran addr =
        run(net.netns_fd(), {busybox, "ip", "-o", "-4", "addr", "show", "dev", "eth0"});
    EXPECT_EQ(addr.status, 0) << addr.output;
    EXPECT_NE(addr.output.find(net.ip_address() + "/" + std::to_string(net.prefix_length())),
              std::string::npos)
        << addr.output;
    const Ran link = run(net.netns_fd(), {busybox, "ip", "link", "show", "dev", "eth0"});
    EXPECT_NE(link.output.find(net.mac_address()), std::string::npos) << link.output;
    EXPECT_NE(link.output.find("UP"), std::string::npos) << link.output;
    const Ran lo = run(net.netns_fd(), {busybox, "ip", "link", "show", "dev", "lo"});
    EXPECT_NE(lo.output.find("UP"), std::string::npos) << lo.output;
    const Ran route = run(net.netns_fd(), {busybox, "ip", "route"});
    EXPECT_NE(route.output.find("default via " + net.gateway() + " dev eth0"), std::string::npos)
        << route.output;
}

TEST_F(BridgeNetworkOnHost, TwoContainersGetDifferentAddressesAndReachEachOther) {
    BridgeNetwork a = attach("a");
    BridgeNetwork b = attach("b");
    EXPECT_NE(a.ip_address(), b.ip_address());

    if (const std::string busybox = find_tool("busybox"); !busybox.empty()) {
        const Ran ping = run(a.netns_fd(), {busybox, "ping", "-c", "1", "-W", "3", b.ip_address()});
        EXPECT_EQ(ping.status, 0) << ping.output;
    }

    // TCP from a to a listener in b.
    UniqueFd listener;
    uint16_t port = 0;
    in_namespace(b.netns_fd(), [&] {
        listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        ::inet_pton(AF_INET, b.ip_address().c_str(), &addr.sin_addr);
        socklen_t len = sizeof addr;
        ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
        ASSERT_EQ(::listen(listener.get(), 1), 0);
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    });
    ASSERT_NE(port, 0);
    in_namespace(a.netns_fd(), [&] {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, b.ip_address().c_str(), &addr.sin_addr);
        ASSERT_EQ(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
            << std::strerror(errno);
        ASSERT_EQ(::write(s.get(), "ab", 2), 2);
    });
    pollfd p{listener.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 3000), 1);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    UniqueFd conn(
        ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    ASSERT_TRUE(conn);
    char buf[2];
    ASSERT_EQ(::read(conn.get(), buf, 2), 2);
    EXPECT_EQ(std::string(buf, 2), "ab");
    char text[INET_ADDRSTRLEN];
    EXPECT_EQ(std::string(::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text)), a.ip_address());
}

TEST_F(BridgeNetworkOnHost, ContainerReachesAListenerOnTheGatewayAddress) {
    BridgeNetwork net = attach("g");
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, net.gateway().c_str(), &addr.sin_addr);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0)
        << std::strerror(errno);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    in_namespace(net.netns_fd(), [&] {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
            << std::strerror(errno);
        ASSERT_EQ(::write(s.get(), "hi", 2), 2);
    });
    pollfd p{listener.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 3000), 1);
    sockaddr_in peer{};
    len = sizeof peer;
    UniqueFd conn(
        ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    ASSERT_TRUE(conn);
    char text[INET_ADDRSTRLEN];
    // Not masqueraded: the host sees the container's own address.
    EXPECT_EQ(std::string(::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text)),
              net.ip_address());
}

TEST_F(BridgeNetworkOnHost, NatRulesAndForwardingAreInPlace) {
    BridgeNetwork net = attach("n");
    const Ran table = shell(std::string("nft list table ip ") + kTestTable);
    EXPECT_EQ(table.status, 0) << table.output;
    EXPECT_NE(table.output.find("ip saddr " + subnet_->to_string() + " oifname != \"" +
                                kTestBridge + "\" masquerade"),
              std::string::npos)
        << table.output;
    std::ifstream forward("/proc/sys/net/ipv4/ip_forward");
    std::string value;
    forward >> value;
    EXPECT_EQ(value, "1");
    // iptables' FORWARD chain, where something uses it, lets the bridge's
    // traffic through, and stays readable for iptables (Docker, netavark).
    expect_iptables_readable();
    if (!find_tool("iptables").empty()) {
        const Ran filter = run(-1, {find_tool("iptables"), "-w", "-S", "FORWARD"});
        const bool in_use = filter.output.find("-P FORWARD DROP") != std::string::npos ||
                            filter.output.find("NETAVARK") != std::string::npos ||
                            filter.output.find("DOCKER") != std::string::npos;
        if (in_use) {
            EXPECT_NE(
                filter.output.find(std::string("-A FORWARD -i ") + kTestBridge + " -j ACCEPT"),
                std::string::npos)
                << filter.output;
        }
    }
}

// The bridge outlives changes to the firewall made after it: its table
// deleted (a flush or reload of the ruleset) and iptables' FORWARD policy
// turned to drop (a daemon started later) are both put right by the next
// container, not by the next reboot.
TEST_F(BridgeNetworkOnHost, RulesComeBackAfterTheFirewallChanged) {
    { BridgeNetwork first = attach("f1"); }
    ASSERT_EQ(shell(std::string("nft delete table ip ") + kTestTable).status, 0);
    {
        BridgeNetwork again = attach("f2");
        const Ran table = shell(std::string("nft list table ip ") + kTestTable);
        EXPECT_EQ(table.status, 0) << table.output;
        EXPECT_NE(table.output.find("masquerade"), std::string::npos) << table.output;
    }
    const std::string iptables = find_tool("iptables");
    if (iptables.empty()) GTEST_SKIP() << "iptables is not installed: the FORWARD policy half";
    const Ran before = run(-1, {iptables, "-w", "-S", "FORWARD"});
    ASSERT_EQ(before.status, 0) << before.output;
    if (before.output.find("-P FORWARD ACCEPT") == std::string::npos)
        GTEST_SKIP() << "FORWARD's policy is not accept here; the drop half needs it to be";
    remove_test_bridge();  // the accepts too, so that the drop is what they answer
    { BridgeNetwork made = attach("f3"); }
    struct RestorePolicy {
        std::string iptables;
        ~RestorePolicy() { run(-1, {iptables, "-w", "-P", "FORWARD", "ACCEPT"}); }
    } restore{iptables};
    ASSERT_EQ(run(-1, {iptables, "-w", "-P", "FORWARD", "DROP"}).status, 0);
    { BridgeNetwork after = attach("f4"); }
    const Ran filter = run(-1, {iptables, "-w", "-S", "FORWARD"});
    EXPECT_NE(filter.output.find(std::string("-A FORWARD -i ") + kTestBridge + " -j ACCEPT"),
              std::string::npos)
        << filter.output;
    expect_iptables_readable();
}

TEST_F(BridgeNetworkOnHost, LeaseIsReleasedAndVethRemovedWhenTheContainerEnds) {
    std::string veth;
    fs::path lease;
    {
        BridgeNetwork net = attach("r");
        veth = net.host_interface();
        lease = net.lease_file();
        EXPECT_TRUE(link_exists(veth));
        const auto record = AddressLease::read(lease);
        ASSERT_TRUE(record);
        EXPECT_EQ(record->owner.pid(), ::getpid());
        EXPECT_EQ(record->container_id, "r");
    }
    EXPECT_FALSE(fs::exists(lease));
    EXPECT_TRUE(wait_link_gone(veth)) << veth << " is still on the host";
}

TEST_F(BridgeNetworkOnHost, KillNineOfTheOwnerLeaksNothingForLong) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd rd(fds[0]), wr(fds[1]);
    const pid_t child = ::fork();
    if (child == 0) {
        rd.reset();
        try {
            BridgeNetwork net = attach("victim");
            const std::string ip = net.ip_address() + "\n";
            [[maybe_unused]] ssize_t n = ::write(wr.get(), ip.data(), ip.size());
            for (;;)
                ::pause();
        } catch (const std::exception& e) {
            const std::string msg = std::string("error: ") + e.what() + "\n";
            [[maybe_unused]] ssize_t n = ::write(wr.get(), msg.data(), msg.size());
        }
        ::_exit(1);
    }
    wr.reset();
    std::string line;
    char c;
    while (::read(rd.get(), &c, 1) == 1 && c != '\n')
        line += c;
    ASSERT_TRUE(parse_ipv4(line)) << line;
    const std::string veth = bridge_veth_name(*parse_ipv4(line));
    const fs::path lease = options_.bridge.state_dir / "leases" / line;
    EXPECT_TRUE(link_exists(veth));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    // Its lease outlives it, naming a dead owner...
    const auto record = AddressLease::read(lease);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->owner.pid(), child);
    EXPECT_FALSE(record->owner.alive());
    // ...and the kernel removes its veth with its namespace.
    EXPECT_TRUE(wait_link_gone(veth)) << veth << " is still on the host after kill -9";
    {
        // Allocation comes round to the address (five of them in the /29)
        // and takes it back from the dead owner.
        std::optional<BridgeNetwork> next;
        for (int i = 0; i < 5 && !(next && next->ip_address() == line); ++i) {
            next.reset();
            next.emplace(attach("next"));
        }
        ASSERT_TRUE(next);
        EXPECT_EQ(next->ip_address(), line);
        EXPECT_EQ(AddressLease::read(lease)->container_id, "next");
        EXPECT_EQ(AddressLease::read(lease)->owner.pid(), ::getpid());
    }
    EXPECT_FALSE(fs::exists(lease));
    EXPECT_TRUE(wait_link_gone(veth));
}

TEST_F(BridgeNetworkOnHost, ConcurrentFirstUsesMakeOneBridge) {
    remove_test_bridge();
    ASSERT_FALSE(link_exists(kTestBridge));
    constexpr int kThreads = 4;
    std::vector<std::optional<BridgeHost>> made(kThreads);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            try {
                RouteSocket host = RouteSocket::open();
                made[i] = ensure_bridge(host, options_.bridge);
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        });
    for (auto& t : threads)
        t.join();
    for (int i = 0; i < kThreads; ++i) {
        ASSERT_TRUE(made[i]) << errors[i];
        EXPECT_EQ(made[i]->subnet, *subnet_);
        EXPECT_EQ(made[i]->index, made[0]->index);
    }
    // One set of rules in iptables' FORWARD chain, not one per caller.
    expect_iptables_readable();
    if (!find_tool("iptables").empty()) {
        const Ran filter = run(-1, {find_tool("iptables"), "-w", "-S", "FORWARD"});
        size_t count = 0;
        for (size_t at = 0;
             (at = filter.output.find(std::string("-i ") + kTestBridge + " -j ACCEPT", at)) !=
             std::string::npos;
             ++at)
            ++count;
        EXPECT_LE(count, 1u) << filter.output;
    }
}

}  // namespace
}  // namespace strata::sandbox
