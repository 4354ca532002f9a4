#include "executor/run/ssh_agent_proxy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/error.hpp"
#include "base/owner_name.hpp"

namespace strata::executor {
namespace {

constexpr uint32_t kMaxMessage = 256 * 1024;
constexpr unsigned char kFailure = 5;  // SSH_AGENT_FAILURE

sockaddr_un unix_address(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string s = path.string();
    if (s.size() >= sizeof addr.sun_path)
        throw Error(ErrorKind::kSystem,
                    "ssh agent socket path '" + s +
                        "' is too long for a unix socket; set TMPDIR to a shorter directory");
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return addr;
}

// All of `n` bytes, or false (EOF, an error, the connection shut down).
bool read_all(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool write_all(int fd, const void* buf, size_t n) {
    const auto* p = static_cast<const char*>(buf);
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// One message: its length prefix checked, the bytes after it in `body`.
bool read_message(int fd, std::string& body) {
    std::array<unsigned char, 4> len{};
    if (!read_all(fd, len.data(), len.size())) return false;
    const uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) |
                       (uint32_t{len[2]} << 8) | uint32_t{len[3]};
    if (n == 0 || n > kMaxMessage) return false;
    body.resize(n);
    return read_all(fd, body.data(), n);
}

bool write_message(int fd, const std::string& body) {
    const auto n = static_cast<uint32_t>(body.size());
    const std::array<unsigned char, 4> len{
        static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
        static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
    return write_all(fd, len.data(), len.size()) && write_all(fd, body.data(), body.size());
}

UniqueFd connect_to(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fd;
    const sockaddr_un addr = unix_address(path);
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        if (errno != EINTR) return UniqueFd();
    return fd;
}

}  // namespace

bool SshAgentProxy::passes(unsigned char type) {
    return type == 11 || type == 13 || type == 23;
}

SshAgentProxy::SshAgentProxy(std::filesystem::path upstream,
                             const std::filesystem::path& socket_path, uid_t uid, gid_t gid,
                             mode_t mode)
    : upstream_(std::move(upstream)), path_(socket_path) {
    const sockaddr_un addr = unix_address(path_);
    // Non-blocking: a client gone between poll and accept4 cannot block it.
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listener_) throw system_error("socket", path_.string());
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw system_error("bind", path_.string());
    // In a directory only strata's user can enter: nobody connects before
    // the owner and mode are the mount's.
    if (::lchown(path_.c_str(), uid, gid) != 0) throw system_error("chown", path_.string());
    if (::chmod(path_.c_str(), mode & 07777) != 0) throw system_error("chmod", path_.string());
    if (::listen(listener_.get(), 16) != 0) throw system_error("listen", path_.string());
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw system_error("pipe2", path_.string());
    wake_read_ = UniqueFd(p[0]);
    wake_write_ = UniqueFd(p[1]);
    acceptor_ = std::thread([this] { accept_loop(); });
}

SshAgentProxy::~SshAgentProxy() {
    stop();
}

void SshAgentProxy::stop() noexcept {
    if (stopping_.exchange(true)) return;
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &byte, 1);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<Client> clients;
    {
        std::lock_guard lock(mu_);
        for (int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR);  // a blocked read or write returns
        clients.swap(clients_);
    }
    for (auto& c : clients)
        c.thread.join();
    ::unlink(path_.c_str());
}

void SshAgentProxy::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0 || stopping_) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        const int client = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        std::lock_guard lock(mu_);
        // Clients gone: their threads end (done is their last step).
        std::erase_if(clients_, [](Client& c) {
            if (!*c.done) return false;
            c.thread.join();
            return true;
        });
        if (clients_.size() >= kMaxClients || stopping_) {
            ::close(client);
            continue;
        }
        open_fds_.push_back(client);
        auto done = std::make_shared<std::atomic<bool>>(false);
        clients_.push_back({std::thread([this, client, done] { serve(client, *done); }), done});
    }
}

void SshAgentProxy::serve(int client, std::atomic<bool>& done) {
    UniqueFd agent;
    std::string request, answer;
    while (!stopping_ && read_message(client, request)) {
        const auto type = static_cast<unsigned char>(request[0]);
        if (!passes(type)) {
            if (!write_message(client, std::string(1, static_cast<char>(kFailure)))) break;
            continue;
        }
        if (!agent) {
            agent = connect_to(upstream_);
            std::lock_guard lock(mu_);
            if (agent) open_fds_.push_back(agent.get());
        }
        if (!agent || !write_message(agent.get(), request) || !read_message(agent.get(), answer)) {
            // The agent went away: this client gets a failure, and the next
            // request tries a new connection.
            if (agent) {
                std::lock_guard lock(mu_);
                std::erase(open_fds_, agent.get());
            }
            agent.reset();
            if (!write_message(client, std::string(1, static_cast<char>(kFailure)))) break;
            continue;
        }
        if (!write_message(client, answer)) break;
    }
    {
        std::lock_guard lock(mu_);
        if (agent) std::erase(open_fds_, agent.get());
        std::erase(open_fds_, client);
        ::close(client);
        agent.reset();
    }
    done = true;
}

std::filesystem::path SshForwards::socket_for(const std::filesystem::path& upstream, uid_t uid,
                                              gid_t gid, mode_t mode) {
    std::lock_guard lock(mu_);
    const auto key = std::make_tuple(upstream, uid, gid, mode & 07777);
    if (auto it = proxies_.find(key); it != proxies_.end()) return it->second->path();
    if (!dir_) dir_.emplace(owned_temp_dir(std::filesystem::temp_directory_path(), "strata-ssh-"));
    const auto path = dir_->path() / ("agent." + std::to_string(proxies_.size()));
    auto proxy = std::make_unique<SshAgentProxy>(upstream, path, uid, gid, mode);
    return proxies_.emplace(key, std::move(proxy)).first->second->path();
}

}  // namespace strata::executor
