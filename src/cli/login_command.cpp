// `strata login [-u USER] [-p PASS | --password-stdin] [SERVER]` and
// `strata logout [SERVER]`, as docker login/logout behave: the same
// config.json (or credential helper), the same prompts and messages.
// Credentials are checked against the registry before they are stored.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "registry/client.hpp"
#include "registry/credentials.hpp"

namespace strata::cli {
namespace {

struct LoginOptions {
    std::string user;
    std::string password;
    bool password_stdin = false;
    std::string server;
};

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::string read_line() {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// The terminal's settings while echo is off, for the SIGINT handler.
struct termios g_saved_termios;

void restore_and_die(int sig) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

// Echo off on the terminal for as long as it lives (and when Ctrl-C ends
// the prompt: the handler puts the settings back before dying).
class NoEcho {
  public:
    NoEcho() {
        if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
        struct termios t = g_saved_termios;
        t.c_lflag &= ~tcflag_t(ECHO);
        old_int_ = ::signal(SIGINT, restore_and_die);
        old_term_ = ::signal(SIGTERM, restore_and_die);
        active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;
    ~NoEcho() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
        if (old_int_ != SIG_ERR) ::signal(SIGINT, old_int_);
        if (old_term_ != SIG_ERR) ::signal(SIGTERM, old_term_);
    }

  private:
    bool active_ = false;
    sighandler_t old_int_ = SIG_ERR;
    sighandler_t old_term_ = SIG_ERR;
};

// The endpoint a login talks to: the registry itself (never a mirror). For
// an insecure registry that answers HTTPS not at all, plain HTTP, as Docker
// falls back from its https:// endpoint to its http:// one.
registry::Endpoint resolve_login_endpoint(const registry::RegistryHosts& hosts,
                                          const std::string& domain) {
    return registry::settle_scheme(hosts.push_endpoint(domain));
}

// The credentials are checked by the distribution client (GET /v2/ and the
// registry's token flow or Basic auth); an Error says the registry refused.
void verify_login(const registry::Endpoint& endpoint, const registry::Credentials& creds) {
    registry::check_login(endpoint, creds);
}

void run_login(const GlobalOptions& global, LoginOptions o) {
    // docker/cli's verifyloginOptions.
    if (!o.password.empty()) {
        fmt::print(stderr,
                   "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
        if (o.password_stdin)
            throw Error(ErrorKind::kUsage,
                        "--password and --password-stdin are mutually exclusive");
    }
    if (o.password_stdin) {
        if (o.user.empty())
            throw Error(ErrorKind::kUsage, "must provide --username with --password-stdin");
        std::string all((std::istreambuf_iterator<char>(std::cin)),
                        std::istreambuf_iterator<char>());
        if (all.ends_with('\n')) all.pop_back();
        if (all.ends_with('\r')) all.pop_back();
        o.password = std::move(all);
    }

    const std::string domain = registry::domain_of_server(o.server);
    const bool hub = domain == "docker.io";
    registry::CredentialStore store;
    const registry::RegistryHosts hosts = registry_hosts(global.registry);
    const registry::Endpoint endpoint = resolve_login_endpoint(hosts, domain);

    std::optional<registry::Credentials> existing;
    try {
        existing = store.get(domain);
    } catch (const Error&) {
        // A broken entry or helper: ask for new credentials, as docker login.
    }

    registry::Credentials creds;
    bool verified = false;
    if (o.user.empty() && o.password.empty() && existing && !existing->username.empty() &&
        !existing->password.empty()) {
        fmt::print("Authenticating with existing credentials...\n");
        std::fflush(stdout);
        try {
            verify_login(endpoint, *existing);
            creds = *existing;
            verified = true;
        } catch (const Error& e) {
            fmt::print(stderr, "Login did not succeed, error: {}\n", e.what());
        }
    }

    if (!verified) {
        // docker/cli's ConfigureAuth.
        if (o.password.empty() && !::isatty(STDIN_FILENO))
            throw Error(ErrorKind::kUsage,
                        "cannot perform an interactive login from a non TTY device: give "
                        "--username and --password-stdin");
        const std::string default_user = existing ? trim(existing->username) : std::string();
        creds.username = trim(o.user);
        if (creds.username.empty()) {
            if (hub)
                fmt::print(
                    "Login with your Docker ID to push and pull images from Docker Hub. "
                    "If you don't have a Docker ID, head over to https://hub.docker.com "
                    "to create one.\n");
            if (default_user.empty())
                fmt::print("Username: ");
            else
                fmt::print("Username ({}): ", default_user);
            std::fflush(stdout);
            creds.username = trim(read_line());
            if (creds.username.empty()) creds.username = default_user;
        }
        if (creds.username.empty()) throw Error(ErrorKind::kUsage, "username required");
        creds.password = o.password;
        if (creds.password.empty()) {
            fmt::print("Password: ");
            std::fflush(stdout);
            {
                NoEcho no_echo;
                creds.password = read_line();
            }
            fmt::print("\n");
            if (creds.password.empty()) throw Error(ErrorKind::kUsage, "password required");
        }
        verify_login(endpoint, creds);
    }

    try {
        store.store(domain, creds);
    } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("saving credentials: {}", e.what()));
    }
    if (!store.helper_for(domain))
        fmt::print(stderr,
                   "WARNING! Your password will be stored unencrypted in {}.\n"
                   "Configure a credential helper to remove this warning. See\n"
                   "https://docs.docker.com/engine/reference/commandline/login/"
                   "#credentials-store\n\n",
                   store.config_file().string());
    fmt::print("Login Succeeded\n");
}

void run_logout(const std::string& server) {
    const std::string domain = registry::domain_of_server(server);
    // docker logout names Docker Hub by its server address, others by host.
    const std::string shown = registry::server_address_of(domain);
    registry::CredentialStore store;
    if (!store.has_entry(domain)) {
        fmt::print("Not logged in to {}\n", shown);
        return;
    }
    fmt::print("Removing login credentials for {}\n", shown);
    try {
        store.erase(domain);
    } catch (const Error& e) {
        fmt::print(stderr, "WARNING: could not erase credentials: {}\n", e.what());
    }
}

}  // namespace

void add_login_commands(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<LoginOptions>();
    auto* login = app.add_subcommand(
        "login",
        "Log in to a registry (default: Docker Hub); credentials go to the Docker "
        "client's config.json or its credential helper");
    login->add_option("-u,--username", opts->user, "Username");
    login->add_option("-p,--password", opts->password, "Password");
    login->add_flag("--password-stdin", opts->password_stdin, "Take the password from stdin");
    login->add_option("server", opts->server, "Registry server (default: docker.io)");
    login->callback([&global, opts] { run_login(global, *opts); });

    auto server = std::make_shared<std::string>();
    auto* logout = app.add_subcommand("logout", "Log out from a registry (default: Docker Hub)");
    logout->add_option("server", *server, "Registry server (default: docker.io)");
    logout->callback([server] { run_logout(*server); });
}

}  // namespace strata::cli
