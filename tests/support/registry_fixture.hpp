// A real registry for the registry tests: Debian's docker-registry (CNCF
// distribution 2.8) started on 127.0.0.1, a random port and a temp storage
// dir, in one of three setups:
//   kPlainHttp    http://, no auth;
//   kTlsBasicAuth https:// with a CA and server cert made here with openssl
//                 (SAN IP:127.0.0.1, DNS:localhost), htpasswd (bcrypt) users;
//   kTokenAuth    http:// (plain, so this setup tests only the token flow; TLS
//                 is kTlsBasicAuth's part) with `auth.token`: a realm served
//                 by tests/support/registry_token_server.py on 127.0.0.1.
// requests() reads the registry's access log so tests can count what a client
// sent. Everything lives in one temp dir, removed with the object.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/temp_dir.hpp"

namespace strata::test {

namespace registry_fixture_detail {

namespace fs = std::filesystem;

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("registry fixture: cannot write " + path.string());
}

// The absolute path of `name` on $PATH, "" when it is not there.
inline std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    dirs += ":/usr/sbin:/sbin";
    std::stringstream ss(dirs);
    for (std::string dir; std::getline(ss, dir, ':');) {
        if (dir.empty()) continue;
        const fs::path p = fs::path(dir) / name;
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
    return "";
}

// A child process started with fork/exec: stdin from /dev/null, stdout and
// stderr appended to files, a minimal environment (no PYTHONPATH or
// REGISTRY_* from the caller), and PR_SET_PDEATHSIG so it dies with the
// thread that started it if a test crashes. The destructor sends SIGTERM,
// then SIGKILL after `grace`, and reaps it.
class ChildProcess {
  public:
    ChildProcess() = default;
    static ChildProcess spawn(const std::vector<std::string>& argv, const fs::path& out,
                              const fs::path& err) {
        // Everything the child needs is prepared before fork: after it, only
        // async-signal-safe calls (the test process may have threads).
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
        char env_lang[] = "LC_ALL=C.UTF-8";
        char* envp[] = {env_path, env_lang, nullptr};
        const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
            for (int fd : {in_fd, out_fd, err_fd})
                if (fd >= 0) ::close(fd);
            throw std::runtime_error("registry fixture: open " + out.string() + " / " +
                                     err.string() + " failed");
        }
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(126);  // the parent is gone already
            ::dup2(in_fd, 0);
            ::dup2(out_fd, 1);
            ::dup2(err_fd, 2);
            ::execve(args[0], args.data(), envp);
            ::_exit(127);
        }
        ::close(in_fd);
        ::close(out_fd);
        ::close(err_fd);
        if (pid < 0) throw std::runtime_error("registry fixture: fork failed for " + argv[0]);
        ChildProcess c;
        c.pid_ = pid;
        return c;
    }
    ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ChildProcess& operator=(ChildProcess&& o) noexcept {
        if (this != &o) {
            stop();
            pid_ = std::exchange(o.pid_, -1);
        }
        return *this;
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() { stop(); }

    // True while the child runs; reaps it (and remembers its status) once it ended.
    bool running() {
        if (pid_ < 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            status_ = status;
            return false;
        }
        return true;
    }
    int status() const { return status_; }

    void stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
        if (pid_ < 0) return;
        ::kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + grace;
        while (running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (pid_ >= 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
            pid_ = -1;
        }
    }

  private:
    pid_t pid_ = -1;
    int status_ = 0;
};

// Runs a tool to completion; its stdout+stderr go to `log`. Returns the wait status.
inline int run_tool(const std::vector<std::string>& argv, const fs::path& log) {
    ChildProcess c = ChildProcess::spawn(argv, log, log);
    while (c.running())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return c.status();
}

inline void run_or_throw(const std::vector<std::string>& argv, const fs::path& log) {
    const int status = run_tool(argv, log);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    std::string cmd;
    for (const auto& a : argv)
        cmd += a + " ";
    throw std::runtime_error("registry fixture: `" + cmd + "` failed:\n" + read_text(log));
}

// A port that was free a moment ago (bind 127.0.0.1:0, read it, close). The
// registry may lose a race for it; start() then tries another.
inline int pick_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("registry fixture: cannot bind 127.0.0.1:0");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Sends `request` to 127.0.0.1:port and returns what comes back before the
// peer closes (or 2 s pass); "" when nothing listens.
inline std::string loopback_exchange(int port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        char buf[4096];
        for (;;) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) break;
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            reply.append(buf, static_cast<size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

}  // namespace registry_fixture_detail

class RegistryServer {
  public:
    enum class Mode { kPlainHttp, kTlsBasicAuth, kTokenAuth };
    struct Options {
        // kTokenAuth: the token server gives pull-only tokens without credentials.
        bool anonymous_pull = false;
        // kTokenAuth: the tokens' lifetime (`expires_in`); the registry itself
        // accepts a token up to 60 s past its `exp`.
        int token_ttl_seconds = 300;
    };

    // Starts docker-registry on 127.0.0.1 with a random free port and a temp
    // storage dir, and waits until it answers. nullopt with `skip_reason` set
    // when a needed tool is absent; any other failure throws (with the
    // registry's log).
    static std::optional<RegistryServer> start(Mode mode, std::string& skip_reason) {
        return start(mode, Options{}, skip_reason);
    }
    static std::optional<RegistryServer> start(Mode mode, const Options& options,
                                               std::string& skip_reason) {
        namespace d = registry_fixture_detail;
        RegistryServer s;
        s.mode_ = mode;
        s.registry_bin_ = d::find_program("docker-registry");
        if (s.registry_bin_.empty()) {
            skip_reason = "docker-registry is not installed (apt-get install docker-registry)";
            return std::nullopt;
        }
        if (mode == Mode::kTlsBasicAuth || mode == Mode::kTokenAuth) {
            s.openssl_ = d::find_program("openssl");
            if (s.openssl_.empty()) {
                skip_reason = "openssl is not installed (apt-get install openssl)";
                return std::nullopt;
            }
        }
        std::string htpasswd;
        if (mode == Mode::kTlsBasicAuth) {
            htpasswd = d::find_program("htpasswd");
            if (htpasswd.empty()) {
                skip_reason = "htpasswd is not installed (apt-get install apache2-utils)";
                return std::nullopt;
            }
        }
        s.dir_.emplace(TempDir::create(std::filesystem::temp_directory_path(), "strata-registry-"));
        const auto dir = s.dir_->path();
        std::filesystem::create_directory(dir / "storage");
        s.password_ = "pw-" + std::to_string(std::random_device{}());

        if (mode == Mode::kTokenAuth) {
            const char* python = "/usr/bin/python3";  // Debian's: python3-jwt is installed for it
            if (::access(python, X_OK) != 0 ||
                d::run_tool({python, "-c", "import jwt, cryptography"}, dir / "python-check.log") !=
                    0) {
                skip_reason =
                    "/usr/bin/python3 with the jwt and cryptography modules is needed for the test "
                    "token server (apt-get install python3-jwt python3-cryptography)";
                return std::nullopt;
            }
            s.start_token_server(python, options);
        }
        if (mode == Mode::kTlsBasicAuth) {
            s.make_certificates();
            d::run_or_throw({htpasswd, "-Bbn", "-C", "4", s.username(), s.password_},
                            dir / "htpasswd.out");
            // htpasswd -n prints the line and a blank line; the registry wants the line.
            std::string line = d::read_text(dir / "htpasswd.out");
            line = line.substr(0, line.find('\n')) + "\n";
            d::write_text(dir / "htpasswd", line);
        }
        // The port is picked free, then bound by the registry; if another
        // process took it in between, the registry exits and we try again.
        for (int attempt = 0;; ++attempt) {
            s.port_ = d::pick_free_port();
            if (s.launch_registry()) break;
            if (attempt == 4)
                throw std::runtime_error("registry fixture: docker-registry did not start:\n" +
                                         d::read_text(dir / "registry.log"));
        }
        s.requests();  // waits until the readiness GET is in the access log
        s.clear_log();
        return std::optional<RegistryServer>(std::move(s));
    }

    RegistryServer(RegistryServer&&) noexcept = default;
    RegistryServer& operator=(RegistryServer&& o) noexcept {
        if (this == &o) return *this;
        registry_.stop();  // before the temp dir they use goes
        token_server_.stop();
        mode_ = o.mode_;
        dir_ = std::move(o.dir_);
        registry_bin_ = std::move(o.registry_bin_);
        openssl_ = std::move(o.openssl_);
        password_ = std::move(o.password_);
        port_ = o.port_;
        token_port_ = o.token_port_;
        log_offset_ = o.log_offset_;
        barrier_ = o.barrier_;
        token_server_ = std::move(o.token_server_);
        registry_ = std::move(o.registry_);
        return *this;
    }
    RegistryServer(const RegistryServer&) = delete;
    RegistryServer& operator=(const RegistryServer&) = delete;
    // Stops the registry, then the token server, then removes the temp dir.
    ~RegistryServer() {
        registry_.stop();
        token_server_.stop();
    }

    Mode mode() const { return mode_; }
    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string url() const {
        return (mode_ == Mode::kTlsBasicAuth ? "https://" : "http://") + host();
    }
    // The test CA (PEM) that signed the server certificate: kTlsBasicAuth.
    std::string ca_file() const { return (dir_->path() / "ca.crt").string(); }
    // A dir laid out like /etc/docker/certs.d: <host>/ca.crt (kTlsBasicAuth).
    std::string certs_d() const { return (dir_->path() / "certs.d").string(); }
    // The user and password the auth modes accept.
    std::string username() const { return "strata"; }
    std::string password() const { return password_; }
    std::string storage_dir() const { return (dir_->path() / "storage").string(); }
    // The registry's own log (its stderr: logrus text lines), for diagnostics.
    std::string log_file() const { return (dir_->path() / "registry.log").string(); }
    // kTokenAuth: the realm, as the registry announces it in WWW-Authenticate.
    std::string token_realm() const {
        return "http://127.0.0.1:" + std::to_string(token_port_) + "/token";
    }
    static std::string token_service() { return "strata-test-registry"; }

    // The requests the registry served since start (or clear_log()), one
    // "METHOD TARGET STATUS" line each from its access log (Apache combined
    // format on its stdout), e.g. "PUT /v2/a/b/manifests/v1 201". TARGET is
    // the request target as sent, query string included. A barrier request
    // is sent first so the log holds every request answered before the call.
    std::vector<std::string> requests() const {
        static const std::regex line_re(R"re("(\S+) (\S+) HTTP/[0-9.]+" (\d{3}) )re");
        const std::string text = log_through_barrier();
        std::istringstream in(log_offset_ <= text.size() ? text.substr(log_offset_) : "");
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) {
            std::smatch m;
            if (!std::regex_search(line, m, line_re)) continue;
            if (m[2].str().find("/v2/strata-fixture-barrier-") == 0) continue;
            out.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str());
        }
        return out;
    }
    // Forgets the requests so far: requests() shows only later ones. Behind
    // a barrier too: a request answered before this call but written to the
    // log after it (the registry logs once it has answered) would otherwise
    // show up as a later one.
    void clear_log() { log_offset_ = log_through_barrier().size(); }
    // kTokenAuth: how many tokens the token server has issued since start.
    int tokens_issued() const {
        if (mode_ != Mode::kTokenAuth) return 0;
        return std::atoi(
            registry_fixture_detail::read_text(dir_->path() / "tokens-issued").c_str());
    }

  private:
    RegistryServer() = default;

    void make_certificates() {
        namespace d = registry_fixture_detail;
        const auto dir = dir_->path();
        const auto log = dir / "openssl.log";
        // EC P-256 keys: fast to make, and every client here speaks ECDSA.
        d::run_or_throw({openssl_,
                         "req",
                         "-x509",
                         "-newkey",
                         "ec",
                         "-pkeyopt",
                         "ec_paramgen_curve:P-256",
                         "-nodes",
                         "-keyout",
                         (dir / "ca.key").string(),
                         "-out",
                         (dir / "ca.crt").string(),
                         "-days",
                         "2",
                         "-subj",
                         "/CN=strata test CA",
                         "-addext",
                         "basicConstraints=critical,CA:TRUE",
                         "-addext",
                         "keyUsage=critical,keyCertSign,cRLSign"},
                        log);
        d::run_or_throw(
            {openssl_, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", (dir / "server.key").string(), "-out",
             (dir / "server.csr").string(), "-subj", "/CN=localhost"},
            log);
        d::write_text(dir / "server.ext",
                      "basicConstraints=CA:FALSE\n"
                      "keyUsage=critical,digitalSignature\n"
                      "extendedKeyUsage=serverAuth\n"
                      "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        d::run_or_throw(
            {openssl_, "x509", "-req", "-in", (dir / "server.csr").string(), "-CA",
             (dir / "ca.crt").string(), "-CAkey", (dir / "ca.key").string(), "-set_serial",
             std::to_string(std::random_device{}() | 1u), "-days", "2", "-extfile",
             (dir / "server.ext").string(), "-out", (dir / "server.crt").string()},
            log);
    }

    void start_token_server(const std::string& python, const Options& options) {
        namespace d = registry_fixture_detail;
        const auto dir = dir_->path();
        const auto log = dir / "openssl.log";
        // The signing key's self-signed cert is the registry's rootcertbundle.
        d::run_or_throw(
            {openssl_, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", (dir / "token-signer.key").string(), "-out",
             (dir / "token-signer.crt").string(), "-days", "2", "-subj",
             "/CN=strata test token signer"},
            log);
        std::vector<std::string> argv = {
            python,
            std::string(STRATA_SOURCE_DIR) + "/tests/support/registry_token_server.py",
            "--port-file",
            (dir / "token-server.port").string(),
            "--counter-file",
            (dir / "tokens-issued").string(),
            "--key",
            (dir / "token-signer.key").string(),
            "--cert",
            (dir / "token-signer.crt").string(),
            "--issuer",
            "strata-test-token-server",
            "--service",
            token_service(),
            "--user",
            username(),
            "--password",
            password_,
            "--ttl",
            std::to_string(options.token_ttl_seconds)};
        if (options.anonymous_pull) argv.emplace_back("--anonymous-pull");
        token_server_ =
            d::ChildProcess::spawn(argv, dir / "token-server.log", dir / "token-server.log");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!std::filesystem::exists(dir / "token-server.port")) {
            if (!token_server_.running() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("registry fixture: the token server did not start:\n" +
                                         d::read_text(dir / "token-server.log"));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        token_port_ = std::atoi(d::read_text(dir / "token-server.port").c_str());
    }

    std::string config_yaml() const {
        const auto dir = dir_->path().string();
        std::string y =
            "version: 0.1\n"
            "log:\n"
            "  level: info\n"
            "  formatter: text\n"
            "  accesslog:\n"
            "    disabled: false\n"
            "storage:\n"
            "  filesystem:\n"
            "    rootdirectory: " +
            dir +
            "/storage\n"
            "  delete:\n"
            "    enabled: true\n"
            "  maintenance:\n"
            "    uploadpurging:\n"
            "      enabled: false\n"
            "http:\n"
            "  addr: 127.0.0.1:" +
            std::to_string(port_) +
            "\n"
            "  secret: strata-test-secret\n";
        if (mode_ == Mode::kTlsBasicAuth) {
            y += "  tls:\n"
                 "    certificate: " +
                 dir + "/server.crt\n    key: " + dir +
                 "/server.key\n"
                 "auth:\n"
                 "  htpasswd:\n"
                 "    realm: strata-test\n"
                 "    path: " +
                 dir + "/htpasswd\n";
        } else if (mode_ == Mode::kTokenAuth) {
            y += "auth:\n"
                 "  token:\n"
                 "    realm: " +
                 token_realm() + "\n    service: " + token_service() +
                 "\n"
                 "    issuer: strata-test-token-server\n"
                 "    rootcertbundle: " +
                 dir + "/token-signer.crt\n";
        }
        return y;
    }

    // Starts the registry on port_ and waits until it listens and answers.
    // False when it exited because the port was taken (the caller retries).
    bool launch_registry() {
        namespace d = registry_fixture_detail;
        const auto dir = dir_->path();
        d::write_text(dir / "config.yml", config_yaml());
        if (mode_ == Mode::kTlsBasicAuth) {
            std::filesystem::create_directories(dir / "certs.d" / host());
            std::filesystem::copy_file(dir / "ca.crt", dir / "certs.d" / host() / "ca.crt",
                                       std::filesystem::copy_options::overwrite_existing);
        }
        // stdout is the access log; stderr the registry's own log.
        registry_ = d::ChildProcess::spawn({registry_bin_, "serve", (dir / "config.yml").string()},
                                           dir / "access.log", dir / "registry.log");
        const std::string listening = "listening on " + host();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (;;) {
            if (!registry_.running()) {
                const std::string log = d::read_text(dir / "registry.log");
                if (log.find("address already in use") != std::string::npos) return false;
                throw std::runtime_error("registry fixture: docker-registry exited (status " +
                                         std::to_string(registry_.status()) + "):\n" + log);
            }
            // "listening on" proves it is our process that holds the port; the
            // GET proves it serves HTTP (on the TLS port, Go's server answers
            // a plain request with a 400 of its own, which is enough).
            if (d::read_text(dir / "registry.log").find(listening) != std::string::npos) {
                const std::string reply =
                    d::loopback_exchange(port_, "GET /v2/ HTTP/1.1\r\nHost: " + host() +
                                                    "\r\nConnection: close\r\n\r\n");
                if (reply.rfind("HTTP/1.", 0) == 0) return true;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                registry_.stop();
                throw std::runtime_error(
                    "registry fixture: docker-registry did not answer GET /v2/ on " + host() +
                    " within 30 s:\n" + d::read_text(dir / "registry.log"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // A request whose access-log line marks "everything before is logged".
    // The access log once it holds the line of a fresh barrier request, so
    // every request answered before the call (or what is there after 5 s).
    std::string log_through_barrier() const {
        const std::string barrier =
            "/v2/strata-fixture-barrier-" + std::to_string(++barrier_) + "/tags/list";
        send_barrier(barrier);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            std::string text = registry_fixture_detail::read_text(dir_->path() / "access.log");
            if (text.find(" " + barrier + " ") != std::string::npos ||
                std::chrono::steady_clock::now() > deadline)
                return text;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    void send_barrier(const std::string& target) const {
        namespace d = registry_fixture_detail;
        if (mode_ != Mode::kTlsBasicAuth) {
            d::loopback_exchange(port_, "GET " + target + " HTTP/1.1\r\nHost: " + host() +
                                            "\r\nConnection: close\r\n\r\n");
            return;
        }
        const std::string curl = d::find_program("curl");
        if (curl.empty()) {
            // Without curl a TLS request is out of reach; give the log a moment.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            return;
        }
        d::run_tool({curl, "-s", "-o", "/dev/null", "--cacert", ca_file(), url() + target},
                    dir_->path() / "barrier.log");
    }

    Mode mode_ = Mode::kPlainHttp;
    // Declared first so it is destroyed last, after the processes are gone.
    std::optional<TempDir> dir_;
    std::string registry_bin_;
    std::string openssl_;
    std::string password_;
    int port_ = 0;
    int token_port_ = 0;
    size_t log_offset_ = 0;
    mutable int barrier_ = 0;
    registry_fixture_detail::ChildProcess token_server_;
    registry_fixture_detail::ChildProcess registry_;
};

}  // namespace strata::test
