// What a RUN step's `--mount=type=ssh` reaches: not the agent's own socket,
// but a socket of strata's that passes on only what BuildKit's forwarding
// lets through (its readOnlyAgent): listing the keys, signing with them and
// unlocking the agent. Adding or removing keys, locking the agent and
// extensions are answered SSH_AGENT_FAILURE without reaching the agent, so a
// step can use the caller's keys but cannot change the caller's agent. The
// socket has the mount's owner and mode (BuildKit's uid=, gid=, mode=,
// default 0:0 and 0600), which the agent's own socket, bound as it was,
// could not get.
//
// The agent protocol (draft-miller-ssh-agent): each message is a 4-byte
// big-endian length, then that many bytes, the first the message type; the
// client sends a request and reads one answer. Messages over 256 KiB (the
// limit of OpenSSH's agent) end the connection.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::executor {

class SshAgentProxy {
  public:
    // Listens at `socket_path` (its directory must exist and be private:
    // the socket is made there, then given `uid`, `gid` and `mode`) and
    // forwards to the agent at `upstream`, one connection to it per client.
    SshAgentProxy(std::filesystem::path upstream, const std::filesystem::path& socket_path,
                  uid_t uid, gid_t gid, mode_t mode);
    SshAgentProxy(const SshAgentProxy&) = delete;
    SshAgentProxy& operator=(const SshAgentProxy&) = delete;
    // Stops listening, ends every connection (a client blocked in a read
    // gets EOF) and waits for them; removes the socket.
    ~SshAgentProxy();

    const std::filesystem::path& path() const { return path_; }

    // The request types passed on: SSH_AGENTC_REQUEST_IDENTITIES (11),
    // SSH_AGENTC_SIGN_REQUEST (13), SSH_AGENTC_UNLOCK (23).
    static bool passes(unsigned char type);

    // Clients served at once; a further one is closed at once.
    static constexpr size_t kMaxClients = 32;

  private:
    void accept_loop();
    void serve(int client, std::atomic<bool>& done);
    void stop() noexcept;

    std::filesystem::path upstream_;
    std::filesystem::path path_;
    UniqueFd listener_;
    UniqueFd wake_read_, wake_write_;  // written once to stop accept_loop
    std::atomic<bool> stopping_{false};
    struct Client {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;  // set as serve() returns
    };
    std::mutex mu_;
    std::vector<int> open_fds_;  // clients' and upstream connections, to shut down
    std::vector<Client> clients_;
    std::thread acceptor_;
};

// The proxies of one build: one per agent and owner and mode asked for,
// made on first use, their sockets in one private directory of TMPDIR (a
// socket's path must be short) named for this strata, so that the next one
// removes it should this one be killed (base/owner_name.hpp). Stopped when
// this object goes.
class SshForwards {
  public:
    // The socket a mount binds for the agent at `upstream`.
    std::filesystem::path socket_for(const std::filesystem::path& upstream, uid_t uid, gid_t gid,
                                     mode_t mode);

  private:
    std::mutex mu_;
    std::optional<TempDir> dir_;
    std::map<std::tuple<std::filesystem::path, uid_t, gid_t, mode_t>,
             std::unique_ptr<SshAgentProxy>>
        proxies_;
};

}  // namespace strata::executor
