// PrivateNetwork — one network namespace per build, with outbound access
// through pasta(1) (Debian's passt package), shared by all of the build's RUN
// steps.
//
// A step in it reaches the internet and DNS, but not the host's loopback
// services (nothing on the host's 127.0.0.1 / ::1, neither at those addresses
// nor through the gateway address) and not the host's abstract unix sockets
// (those belong to a network namespace). The one exception is DNS: when the
// host's resolver is a loopback address (systemd-resolved's 127.0.0.53),
// UDP port 53 of the gateway address is forwarded to it, and the
// container's resolv.conf names the gateway. (Not a separate address such as
// Podman's 169.254.1.1: this pasta, 2023-03, answers from the gateway
// address whatever address the query went to, and resolvers drop answers
// from an address they did not ask.)
//
// Lifetime: pasta runs under a small keeper process that strata forks. The
// keeper holds the read end of a pipe whose write end only this object holds;
// when the pipe closes — strata dying in any way, kill -9 included — or the
// destructor sends SIGTERM, the keeper stops pasta, reaps it and exits; pasta
// has PR_SET_PDEATHSIG against the (single-threaded) keeper, should the
// keeper be killed. The keeper exists because the parent death signal fires
// when the *thread* that forked a child ends, and strata starts builds from
// worker threads. The namespace is held by file descriptors only (ours and
// pasta's): nothing is mounted, so nothing can be left behind on the host.
// After a kill -9 of strata only pasta's log in `state_dir` remains.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "sandbox/resolv_conf.hpp"  // private_resolv_conf()

namespace strata::sandbox {

struct PrivateNetworkOptions {
    // The pasta binary; empty: `pasta` on $PATH, then /usr/bin and /usr/sbin.
    std::filesystem::path pasta;
    // The host's resolver configuration (read here; pasta reads the real one).
    std::filesystem::path host_resolv_conf = "/etc/resolv.conf";
    // How long pasta may take to configure the namespace.
    std::chrono::milliseconds ready_timeout{10'000};
    // Published ports (`strata run -p`), in pasta's own options as Podman
    // passes them: "-t" or "-u", then "[ADDRESS/]PORT[-END]:PORT[-END]" (host
    // ports : namespace ports). Empty: nothing of the namespace is reachable
    // from outside.
    std::vector<std::string> port_forwards;
};

class PrivateNetwork {
  public:
    // Creates a network namespace and starts pasta for it; returns once the
    // namespace has its address, routes and loopback up. Throws Error naming
    // what failed, with the end of what pasta printed.
    static PrivateNetwork start();
    static PrivateNetwork start(const PrivateNetworkOptions& options);

    PrivateNetwork(PrivateNetwork&& other) noexcept;
    PrivateNetwork& operator=(PrivateNetwork&& other) noexcept;
    PrivateNetwork(const PrivateNetwork&) = delete;
    PrivateNetwork& operator=(const PrivateNetwork&) = delete;
    // Stops pasta and the keeper (and waits for them), closes the namespace.
    ~PrivateNetwork();

    // The namespace: a container's child does setns(fd, CLONE_NEWNET) before
    // exec. O_CLOEXEC; valid while this object lives.
    int netns_fd() const { return netns_.get(); }

    // What the container's /etc/resolv.conf must hold: the host's search and
    // options lines, its non-loopback nameservers, and the gateway address in
    // place of a loopback one.
    std::string resolv_conf() const { return resolv_conf_; }

    // For diagnostics and tests.
    pid_t pasta_pid() const { return pasta_pid_; }
    pid_t keeper_pid() const { return keeper_pid_; }

  private:
    PrivateNetwork() = default;
    void stop_keeper() noexcept;
    void stop() noexcept;

    UniqueFd netns_;
    UniqueFd lifeline_;  // write end; closing it tells the keeper to stop pasta
    pid_t keeper_pid_ = -1;
    pid_t pasta_pid_ = -1;
    std::string resolv_conf_;
};

// The IPv4 default gateway of the calling thread's network namespace (the
// default route with the lowest metric); "" when there is none.
std::string default_ipv4_gateway();

}  // namespace strata::sandbox
