// `strata run` as root on the host bridge (strata0, src/sandbox/bridge_network.hpp):
// the default network's address, route and resolv.conf; two containers that
// reach each other; inspect's NetworkSettings; the lease and the veth gone
// with the container; -p and STRATA_NETWORK_BACKEND=pasta keep pasta. These
// use the real bridge, which strata makes on first use and keeps (as Docker
// keeps docker0); traffic stays between the test's containers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "cli/image_cli_fixture.hpp"
#include "sandbox/address_lease.hpp"
#include "sandbox/bridge_network.hpp"
#include "sandbox/ipv4.hpp"
#include "sandbox/netlink.hpp"

namespace strata::imagetest {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

bool have_nft() {
    return ::access("/usr/sbin/nft", X_OK) == 0 || ::access("/sbin/nft", X_OK) == 0;
}

// The bridge's subnet, read from the host once a run has made it.
std::optional<sandbox::Ipv4Subnet> bridge_subnet() {
    sandbox::RouteSocket host = sandbox::RouteSocket::open();
    const auto link = host.link("strata0");
    if (!link) return std::nullopt;
    const auto addresses = host.ipv4_addresses(link->index);
    if (addresses.empty()) return std::nullopt;
    return sandbox::Ipv4Subnet::of(addresses.front().address, addresses.front().prefix);
}

// "inet 10.89.0.2/16" in `ip -o -4 addr` output → 10.89.0.2.
std::string first_inet(const std::string& text) {
    const auto at = text.find("inet ");
    if (at == std::string::npos) return "";
    const auto end = text.find('/', at);
    return text.substr(at + 5, end - at - 5);
}

class BridgeRunCliTest : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "the bridge network needs root";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no /bin/busybox for the test image";
        if (!have_nft()) GTEST_SKIP() << "no nft (Debian's nftables): the bridge falls back";
        CliTest::SetUp();
    }
    RunResult run(std::vector<std::string> args,
                  const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), "run");
        return strata(root_, std::move(args), "", env);
    }
    nlohmann::json inspect(const std::string& name) {
        auto r = strata(root_, {"inspect", name});
        EXPECT_EQ(r.code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_array() && !j.empty() ? j[0] : j;
    }
};

TEST_F(BridgeRunCliTest, DefaultNetworkIsTheBridge) {
    auto r = run({"--rm", "busybox", "sh", "-c",
                  "ip -o -4 addr show dev eth0; ip route; cat /sys/class/net/eth0/address; "
                  "cat /etc/resolv.conf"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");  // no fallback warning
    const auto subnet = bridge_subnet();
    ASSERT_TRUE(subnet) << "no strata0 with an address after a run";
    const std::string ip = first_inet(r.out);
    const auto address = sandbox::parse_ipv4(ip);
    ASSERT_TRUE(address) << r.out;
    EXPECT_TRUE(subnet->contains(*address)) << ip << " not in " << subnet->to_string();
    EXPECT_TRUE(has(r.out, "default via " + sandbox::format_ipv4(subnet->gateway()) + " dev eth0"))
        << r.out;
    EXPECT_TRUE(has(r.out, "02:42:")) << r.out;
    EXPECT_TRUE(has(r.out, "nameserver ")) << r.out;
    EXPECT_FALSE(has(r.out, "nameserver 127.")) << r.out;
}

TEST_F(BridgeRunCliTest, ContainersReachEachOtherAndInspectShowsTheAddress) {
    auto r = strata(root_, {"run", "-d", "--name", "web", "busybox", "sh", "-c",
                            "mkdir /www && echo served-over-the-bridge > /www/index.html && "
                            "exec httpd -f -p 8080 -h /www"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string id = r.out.substr(0, 64);
    const auto j = inspect("web");
    const auto& net = j["NetworkSettings"];
    const std::string ip = net.value("IPAddress", "");
    ASSERT_TRUE(sandbox::parse_ipv4(ip)) << net.dump();
    const auto subnet = bridge_subnet();
    ASSERT_TRUE(subnet);
    EXPECT_EQ(net.value("Gateway", ""), sandbox::format_ipv4(subnet->gateway()));
    EXPECT_EQ(net.value("IPPrefixLen", 0), subnet->prefix);
    EXPECT_EQ(net.value("MacAddress", ""), [&] {
        const auto m = sandbox::bridge_mac(*sandbox::parse_ipv4(ip));
        return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3],
                           m[4], m[5]);
    }());
    EXPECT_EQ(net["Networks"]["bridge"].value("IPAddress", ""), ip);

    // The lease names the container and its holder (the monitor).
    const fs::path lease = fs::path("/run/strata/network/leases") / ip;
    const auto record = sandbox::AddressLease::read(lease);
    ASSERT_TRUE(record) << lease;
    EXPECT_EQ(record->container_id, id);
    EXPECT_TRUE(record->owner.alive());
    const std::string veth = sandbox::bridge_veth_name(*sandbox::parse_ipv4(ip));
    EXPECT_TRUE(fs::exists(fs::path("/sys/class/net") / veth));

    // Another container fetches from it over the bridge (httpd may take a moment).
    std::string answer;
    for (int i = 0; i < 50 && !has(answer, "served-over-the-bridge"); ++i) {
        if (i) std::this_thread::sleep_for(100ms);
        // (busybox's nc: this busybox-static's wget dies of SIGSEGV in a container.)
        answer = run({"--rm", "busybox", "sh", "-c",
                      "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + ip + " 8080"})
                     .out;
    }
    EXPECT_TRUE(has(answer, "served-over-the-bridge")) << answer;

    // Gone with the container: the lease at once, the veth with its namespace.
    ASSERT_EQ(strata(root_, {"rm", "-f", "web"}).code, 0);
    for (int i = 0; i < 200 && (fs::exists(lease) && sandbox::AddressLease::read(lease) &&
                                sandbox::AddressLease::read(lease)->container_id == id);
         ++i)
        std::this_thread::sleep_for(10ms);
    const auto after = sandbox::AddressLease::read(lease);
    EXPECT_FALSE(after && after->container_id == id) << "the lease of " << ip << " is still held";
    for (int i = 0; i < 500 && fs::exists(fs::path("/sys/class/net") / veth); ++i)
        std::this_thread::sleep_for(10ms);
    // (Another container of the machine may have taken the address since.)
    const auto now = sandbox::AddressLease::read(lease);
    if (!now) {
        EXPECT_FALSE(fs::exists(fs::path("/sys/class/net") / veth)) << veth;
    }
}

TEST_F(BridgeRunCliTest, PublishedPortsAndTheBackendVariableKeepPasta) {
    if (::access("/usr/bin/pasta", X_OK) != 0) GTEST_SKIP() << "no pasta (Debian's passt)";
    const auto on_bridge = [](const RunResult& r) {
        const auto subnet = bridge_subnet();
        const auto address = sandbox::parse_ipv4(first_inet(r.out));
        return subnet && address && subnet->contains(*address);
    };
    // Make sure the bridge exists, so that "not on it" means something.
    ASSERT_EQ(run({"--rm", "busybox", "true"}).code, 0);
    auto r = run({"--rm", "busybox", "ip", "-o", "-4", "addr", "show", "scope", "global"},
                 {{"STRATA_NETWORK_BACKEND", "pasta"}});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(on_bridge(r)) << r.out;
    EXPECT_FALSE(has(r.out, "02:42:")) << r.out;
    r = run({"--rm", "-p", "127.0.0.1::8080", "busybox", "ip", "-o", "-4", "addr", "show", "scope",
             "global"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(on_bridge(r)) << r.out;
    r = run({"--rm", "busybox", "true"}, {{"STRATA_NETWORK_BACKEND", "carrier-pigeon"}});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "STRATA_NETWORK_BACKEND")) << r.err;
}

TEST_F(BridgeRunCliTest, KillNineOfStrataRunLeavesNoVethAndADeadLease) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(STRATA_BINARY, STRATA_BINARY, "--root", root_.c_str(), "run", "--name", "victim",
                "busybox", "sleep", "60", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ASSERT_GT(pid, 0);
    std::string ip;
    for (int i = 0; i < 200 && ip.empty(); ++i) {
        std::this_thread::sleep_for(20ms);
        auto r = strata(root_, {"inspect", "--type", "container", "victim"});
        if (r.code != 0) continue;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        if (j.is_array() && !j.empty()) ip = j[0]["NetworkSettings"].value("IPAddress", "");
    }
    ASSERT_TRUE(sandbox::parse_ipv4(ip)) << "no address for the running container";
    const std::string veth = sandbox::bridge_veth_name(*sandbox::parse_ipv4(ip));
    EXPECT_TRUE(fs::exists(fs::path("/sys/class/net") / veth));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    // The container's init dies with its holder, the namespace with it, and
    // the kernel removes the veth pair.
    for (int i = 0; i < 500 && fs::exists(fs::path("/sys/class/net") / veth); ++i)
        std::this_thread::sleep_for(10ms);
    const auto lease = sandbox::AddressLease::read(fs::path("/run/strata/network/leases") / ip);
    if (!lease || lease->owner.pid() == pid) {
        // Not taken again since: no veth, and a lease free for the next one.
        EXPECT_FALSE(fs::exists(fs::path("/sys/class/net") / veth)) << veth;
        EXPECT_FALSE(lease && lease->owner.alive());
    }
    // The init may still be ending (its PID namespace's last processes)
    // when the veth has gone: Running until it is reaped.
    nlohmann::json j;
    for (int i = 0; i < 250; ++i) {
        auto r = strata(root_, {"inspect", "--type", "container", "victim"});
        j = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_TRUE(j.is_array() && !j.empty()) << r.out << r.err;
        if (!j[0]["State"].value("Running", true)) break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(j[0]["State"].value("Running", true));
    EXPECT_EQ(j[0]["NetworkSettings"].value("IPAddress", "x"), "");
    EXPECT_EQ(strata(root_, {"rm", "victim"}).code, 0);
}

TEST_F(BridgeRunCliTest, ABridgeThatCannotBeSetUpFallsBackToPastaWithOneWarning) {
    if (::access("/usr/bin/pasta", X_OK) != 0) GTEST_SKIP() << "no pasta (Debian's passt)";
    ASSERT_EQ(run({"--rm", "busybox", "true"}).code, 0);  // the bridge exists
    const auto subnet = bridge_subnet();
    ASSERT_TRUE(subnet);
    // Another subnet than the bridge's own: the bridge is refused, pasta serves.
    const std::string other =
        subnet->to_string() == "10.250.0.0/16" ? "10.251.0.0/16" : "10.250.0.0/16";
    auto r = run({"--rm", "busybox", "true"}, {{"STRATA_BRIDGE_SUBNET", other}});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.err, "warning: the bridge network is not available")) << r.err;
    EXPECT_TRUE(has(r.err, "using pasta")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    // Forced, the same failure is an error.
    r = run({"--rm", "busybox", "true"},
            {{"STRATA_BRIDGE_SUBNET", other}, {"STRATA_NETWORK_BACKEND", "bridge"}});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "STRATA_BRIDGE_SUBNET")) << r.err;
}

}  // namespace
}  // namespace strata::imagetest
