// `strata run` / `create`'s flags and what they make: a ContainerSpec on top
// of the image's config, by Docker's rules (docker/cli's container/opts.go
// and the daemon's config merge), and the process environment, capability
// set and port forwards the runner derives from a spec.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "containers/container_record.hpp"
#include "store/image_config.hpp"

namespace strata::containers {

// The flags as given on the command line (cli/run_command.cpp fills it).
struct RunFlags {
    std::vector<std::string> command;       // COMMAND [ARG...] after the image
    std::optional<std::string> entrypoint;  // --entrypoint ("" resets the image's)
    std::vector<std::string> env;           // -e K=V | -e K
    std::vector<std::string> env_files;     // --env-file
    std::vector<std::string> labels;        // -l K=V | -l K (value ""): over the image's
    std::optional<std::string> workdir;     // -w
    std::optional<std::string> user;        // -u USER[:GROUP]
    std::string hostname;                   // --hostname ("" = the id's first 12 hex)
    bool auto_remove = false, read_only = false, interactive = false, tty = false;
    bool privileged = false;
    std::string network = "default";  // default | bridge (= default) | host | none
    std::vector<std::string> publish;
    std::vector<std::string> cap_add, cap_drop;
    std::vector<std::string> security_opt;
    std::string memory;  // --memory, go-units RAMInBytes ("512m")
    std::optional<double> cpus;
    std::optional<int64_t> pids_limit;
    std::string stop_signal;
    std::optional<int> stop_timeout;
    std::string pull = "missing";  // missing | always | never
};

// The value of a variable in strata's own environment (`-e K`, an env-file's
// bare `K`); nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// getenv(3).
EnvLookup process_env_lookup();

// The ContainerSpec for `flags` on an image with config `image` (the image
// fields and `mounts` are the caller's to fill). Docker's rules:
// --entrypoint replaces the image's Entrypoint and clears its Cmd; COMMAND
// replaces Cmd; env: the image's, then --env-file lines, then -e, each
// K=V replacing K in place or appended, a bare K taken from `lookup` (unset:
// K is removed, as the daemon does); -w must be absolute; the process is
// Entrypoint + Cmd ("No command specified" when empty). Errors are
// Error(kUsage) in Docker's words; the CLI exits 125 with them.
ContainerSpec make_container_spec(const RunFlags& flags, const store::ImageConfig& image,
                                  const EnvLookup& lookup);

// Docker's env-file: K=V lines (V taken literally), a bare K from `lookup`
// (dropped when unset), '#' comments and blank lines skipped.
std::vector<std::string> read_env_file(const std::string& path, const EnvLookup& lookup);

// "K=V" replaces K in `env` in place or is appended; a bare "K" removes K
// (the daemon's ReplaceOrAppendEnvValues).
void replace_or_append_env(std::vector<std::string>& env, const std::vector<std::string>& with);

// The process's environment: PATH (Docker's default, when the config has
// none), HOSTNAME, TERM=xterm with a tty, then the config's env over them.
std::vector<std::string> process_env(const ContainerSpec& spec);

// "chown", "cap_chown", "CAP_CHOWN" → "CAP_CHOWN"; "all" → "ALL".
// Error(kUsage) `unknown capability: "CAP_FOO"`.
std::string normalize_capability(std::string_view name);
// The capabilities the process gets: every one (privileged), or Docker's
// default set with --cap-drop taken out and --cap-add put in (ALL on
// either side as Docker's TweakCapabilities reads it). May be empty.
std::vector<std::string> effective_capabilities(const ContainerSpec& spec);

// One -p entry: [IP:][HOST_PORT[-END]:]CTR_PORT[-END][/tcp|udp]. A missing
// host port is chosen from the free ones when the container starts.
struct PortMapping {
    std::string host_ip;                   // "" = every address
    uint16_t host_port = 0, host_end = 0;  // 0: any free port
    uint16_t container_port = 0, container_end = 0;
    std::string protocol = "tcp";
};
PortMapping parse_publish(std::string_view text);  // Error(kUsage) in Docker's words
// Its inverse: "[IP:]HOST[-END]:CTR[-END]/PROTO" (an IPv6 IP in brackets;
// no HOST when it is 0, any free port), which parse_publish reads back.
std::string format_publish(const PortMapping& m);

// One container port of a mapping and where the host has it: a range maps
// port by port, as Docker lists them (inspect's Ports, `port`).
struct PortBinding {
    std::string container_port;  // "80/tcp"
    std::string host_ip;         // as given ("" = every address)
    uint16_t host_port = 0;      // 0: none chosen yet (a free port at start)
};
std::vector<PortBinding> port_bindings(const PortMapping& m);
// A running container's mappings: the ones it got at start (state.ports),
// or, for a record a strata before that field wrote, its -p values (a free
// port then shows as host port 0: unknown).
const std::vector<std::string>& running_ports(const Container& c);

// pasta's form of a mapping, as Podman passes it: "-t" or "-u", then
// "[IP/]HOST-HOSTEND:CTR-CTREND".
std::vector<std::string> pasta_port_args(const PortMapping& m);

}  // namespace strata::containers
