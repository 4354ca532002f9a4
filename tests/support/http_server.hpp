// A minimal HTTP/1.1 server on 127.0.0.1 for tests (ADD <url>, and later
// registries): fixed routes or a sequence of answers per path, one request
// per connection, hit counts, the last request's head.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace strata::testsupport {

// A minimal HTTP/1.1 server on 127.0.0.1 (one request per connection).
class TestHttpServer {
  public:
    struct Route {
        // A constructor, not an aggregate: {status, body, last_modified,
        // location} stays valid as fields are added below.
        Route(int status_ = 200, std::string body_ = {}, std::string last_modified_ = {},
              std::string location_ = {})
            : status(status_),
              body(std::move(body_)),
              last_modified(std::move(last_modified_)),
              location(std::move(location_)) {}
        int status = 200;
        std::string body;
        std::string last_modified;         // header value, "" for none
        std::string location;              // for redirects
        std::vector<std::string> headers;  // more "Name: value" lines
        // Close the connection after this many body bytes (Content-Length
        // still says the whole body): a transfer cut mid-way.
        size_t cut_after = std::string::npos;
        // Answer "Range: bytes=N-" with 206 and the rest (Accept-Ranges: bytes).
        bool ranges = false;
    };

    TestHttpServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 16) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~TestHttpServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }

    void route(const std::string& path, Route r) {
        std::lock_guard<std::mutex> lock(mu_);
        routes_[path] = std::move(r);
    }
    // Answers in this order, one per request; the last one repeats.
    void sequence(const std::string& path, std::vector<Route> answers) {
        std::lock_guard<std::mutex> lock(mu_);
        sequences_[path] = std::move(answers);
    }
    // The last request for `path`: its head (request line and headers) and,
    // after a blank line, its body.
    std::string last_request(const std::string& path) {
        std::lock_guard<std::mutex> lock(mu_);
        return last_requests_[path];
    }
    uint16_t port() const { return port_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int hits(const std::string& path) {
        std::lock_guard<std::mutex> lock(mu_);
        return hits_[path];
    }

  private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            serve(c);
            ::close(c);
        }
    }

    void serve(int c) {
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
            pollfd p{c, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) return;
            ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) return;
            req.append(buf, static_cast<size_t>(n));
        }
        // The body (Content-Length), read so that closing does not reset
        // the connection under a client still sending it.
        if (size_t cl = req.find("\r\nContent-Length: ");
            cl != std::string::npos && cl < req.find("\r\n\r\n")) {
            const size_t want = req.find("\r\n\r\n") + 4 + std::stoul(req.substr(cl + 18));
            while (req.size() < want) {
                pollfd p{c, POLLIN, 0};
                if (::poll(&p, 1, 2000) <= 0) return;
                ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) return;
                req.append(buf, static_cast<size_t>(n));
            }
        }
        const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
        const std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
        Route r;
        bool found = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++hits_[path];
            last_requests_[path] = req;
            auto seq = sequences_.find(path);
            auto it = routes_.find(path);
            if (seq != sequences_.end() && !seq->second.empty()) {
                r = seq->second.front();
                if (seq->second.size() > 1) seq->second.erase(seq->second.begin());
                found = true;
            } else if (it != routes_.end()) {
                r = it->second;
                found = true;
            }
        }
        if (!found) r = Route{404, "not found", "", ""};
        if (r.ranges) {
            r.headers.push_back("Accept-Ranges: bytes");
            const size_t at = req.find("\r\nRange: bytes=");
            const size_t from = at == std::string::npos ? 0 : std::stoul(req.substr(at + 15));
            if (at != std::string::npos && from < r.body.size()) {
                r.headers.push_back("Content-Range: bytes " + std::to_string(from) + "-" +
                                    std::to_string(r.body.size() - 1) + "/" +
                                    std::to_string(r.body.size()));
                r.status = 206;
                r.body = r.body.substr(from);
            }
        }
        std::string head = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
        head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
        for (const std::string& h : r.headers)
            head += h + "\r\n";
        if (!r.last_modified.empty()) head += "Last-Modified: " + r.last_modified + "\r\n";
        if (!r.location.empty()) head += "Location: " + r.location + "\r\n";
        head += "Connection: close\r\n\r\n";
        const std::string out = head + r.body.substr(0, std::min(r.body.size(), r.cut_after));
        for (size_t off = 0; off < out.size();) {
            ssize_t w = ::write(c, out.data() + off, out.size() - off);
            if (w <= 0) return;
            off += static_cast<size_t>(w);
        }
    }

    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::map<std::string, Route> routes_;
    std::map<std::string, int> hits_;
    std::map<std::string, std::vector<Route>> sequences_;
    std::map<std::string, std::string> last_requests_;
};

}  // namespace strata::testsupport
