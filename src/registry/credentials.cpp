#include "registry/credentials.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "registry/registry_hosts.hpp"

namespace strata::registry {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keeps the file's key order on rewrite

namespace {

// A helper's Username that marks Secret as an identity token.
constexpr std::string_view kTokenUsername = "<token>";

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v =
            (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16;
        out += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
    }
    return out;
}

// Standard base64 with padding (Go's base64.StdEncoding); nullopt if malformed.
std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '=') {
            if (i + 2 < in.size() || (i + 1 < in.size() && in[i + 1] != '=')) return std::nullopt;
            break;
        }
        const char* p = std::char_traits<char>::find(kB64, 64, c);
        if (!p) return std::nullopt;
        acc = (acc << 6) | unsigned(p - kB64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(char((acc >> bits) & 0xff));
        }
    }
    return out;
}

std::string home_dir() {
    if (const char* h = std::getenv("HOME"); h && *h) return h;
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found &&
        found->pw_dir && *found->pw_dir)
        return found->pw_dir;
    return {};
}

Json read_config(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) return Json::object();
        throw system_error("open", file.string(), err);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
    Json doc;
    try {
        doc = Json::parse(text);
    } catch (const Json::parse_error& e) {
        // Not e.what(): it quotes the text around the error, which may be a secret.
        throw Error(ErrorKind::kParse,
                    fmt::format("{}: not valid JSON (at byte {}); fix the file or move it away",
                                file.string(), e.byte));
    }
    if (!doc.is_object())
        throw Error(ErrorKind::kParse,
                    fmt::format("{}: the file must hold a JSON object", file.string()));
    for (const char* key : {"auths", "credHelpers"}) {
        auto it = doc.find(key);
        if (it != doc.end() && !it->is_object() && !it->is_null())
            throw Error(ErrorKind::kParse,
                        fmt::format("{}: \"{}\" must be an object", file.string(), key));
    }
    return doc;
}

void write_config(const fs::path& dir, const Json& doc) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw system_error("mkdir", dir.string());
    }
    fs::path file = dir / "config.json";
    // A config.json that is a symlink (dotfile managers) is replaced at its target.
    if (fs::is_symlink(file, ec)) {
        auto target = fs::canonical(file, ec);
        if (!ec) file = target;
    }
    write_file_atomic(file, doc.dump(1, '\t') + "\n", 0600);
}

bool is_hub(std::string_view domain) {
    return canonical_domain(domain) == "docker.io";
}

// The "auths" keys that name `domain`, the exact key first (docker/cli's
// fileStore.Get: the key, else a key whose hostname is the domain). For
// Docker Hub, keys whose hostname is one of its names are also taken.
std::vector<std::string> matching_keys(const Json& doc, std::string_view domain) {
    std::vector<std::string> out;
    auto auths = doc.find("auths");
    if (auths == doc.end() || !auths->is_object()) return out;
    const std::string exact = server_address_of(domain);
    if (auths->contains(exact)) out.push_back(exact);
    std::vector<std::string> rest;
    for (const auto& [key, value] : auths->items()) {
        if (key == exact) continue;
        const std::string host = convert_to_hostname(key);
        const bool match = is_hub(domain) ? (host == "docker.io" || host == "index.docker.io" ||
                                             host == "registry-1.docker.io")
                                          : host == canonical_domain(domain);
        if (match) rest.push_back(key);
    }
    std::sort(rest.begin(), rest.end());
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

std::optional<std::string> helper_in(const Json& doc, std::string_view domain) {
    if (auto h = doc.find("credHelpers"); h != doc.end() && h->is_object()) {
        for (const std::string& key : {server_address_of(domain), canonical_domain(domain)}) {
            auto it = h->find(key);
            if (it != h->end() && it->is_string() && !it->get<std::string>().empty())
                return it->get<std::string>();
        }
    }
    if (auto s = doc.find("credsStore");
        s != doc.end() && s->is_string() && !s->get<std::string>().empty())
        return s->get<std::string>();
    return std::nullopt;
}

std::string field(const Json& entry, const char* key) {
    auto it = entry.find(key);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

fs::path default_docker_config_dir() {
    if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return d;
    const std::string home = home_dir();
    if (home.empty())
        throw Error(ErrorKind::kUsage,
                    "cannot find the home directory for the Docker client configuration: set "
                    "HOME or DOCKER_CONFIG");
    return fs::path(home) / ".docker";
}

std::string convert_to_hostname(std::string_view key) {
    if (key.starts_with("http://"))
        key.remove_prefix(7);
    else if (key.starts_with("https://"))
        key.remove_prefix(8);
    return std::string(key.substr(0, key.find('/')));
}

std::string domain_of_server(std::string_view server) {
    if (server.empty() || server == kHubServerAddress) return "docker.io";
    std::string host = convert_to_hostname(server);
    if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
    return host;
}

std::string server_address_of(std::string_view domain) {
    return is_hub(domain) ? std::string(kHubServerAddress) : std::string(domain);
}

CredentialStore::CredentialStore(fs::path config_dir, std::chrono::milliseconds helper_timeout)
    : dir_(std::move(config_dir)), timeout_(helper_timeout) {}

std::optional<std::string> CredentialStore::helper_for(std::string_view domain) const {
    return helper_in(read_config(config_file()), domain);
}

std::optional<Credentials> CredentialStore::get(std::string_view domain) const {
    const Json doc = read_config(config_file());
    const std::string key = server_address_of(domain);
    if (auto helper = helper_in(doc, domain)) {
        std::string out;
        try {
            out = run_credential_helper(*helper, "get", key, timeout_);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::kNotFound) return std::nullopt;
            throw;
        }
        Json reply;
        try {
            reply = Json::parse(out);
        } catch (const Json::parse_error&) {
            reply = nullptr;
        }
        if (!reply.is_object())
            throw Error(ErrorKind::kParse,
                        fmt::format("docker-credential-{} get for {}: the helper's answer is not "
                                    "the JSON object {{\"Username\",\"Secret\"}} it should be",
                                    *helper, key));
        Credentials c;
        const std::string user = field(reply, "Username"), secret = field(reply, "Secret");
        if (user == kTokenUsername) {
            c.identity_token = secret;
        } else {
            c.username = user;
            c.password = secret;
        }
        if (c.username.empty() && c.password.empty() && c.identity_token.empty())
            return std::nullopt;
        return c;
    }
    for (const auto& k : matching_keys(doc, domain)) {
        const Json& entry = doc["auths"][k];
        if (!entry.is_object()) continue;
        Credentials c;
        c.username = field(entry, "username");
        c.password = field(entry, "password");
        if (const std::string auth = field(entry, "auth"); !auth.empty()) {
            auto decoded = base64_decode(auth);
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos)
                throw Error(ErrorKind::kParse,
                            fmt::format("{}: the \"auth\" of \"auths\" entry \"{}\" is not base64 "
                                        "of user:password; run `strata login {}` again",
                                        config_file().string(), k, canonical_domain(domain)));
            c.username = decoded->substr(0, colon);
            c.password = decoded->substr(colon + 1);
            // Go's decodeAuth trims NULs from the password.
            while (!c.password.empty() && c.password.back() == '\0')
                c.password.pop_back();
        }
        c.identity_token = field(entry, "identitytoken");
        if (c.username.empty() && c.password.empty() && c.identity_token.empty()) continue;
        return c;
    }
    return std::nullopt;
}

void CredentialStore::store(std::string_view domain, const Credentials& creds) {
    Json doc = read_config(config_file());
    const std::string key = server_address_of(domain);
    if (!doc.contains("auths") || !doc["auths"].is_object()) doc["auths"] = Json::object();
    Json& auths = doc["auths"];
    Json entry = auths.contains(key) && auths[key].is_object() ? auths[key] : Json::object();
    for (const char* k : {"auth", "username", "password", "identitytoken", "registrytoken"})
        entry.erase(k);
    if (auto helper = helper_in(doc, domain)) {
        const bool token = !creds.identity_token.empty();
        const std::string& secret = token ? creds.identity_token : creds.password;
        const Json request = {{"ServerURL", key},
                              {"Username", token ? std::string(kTokenUsername) : creds.username},
                              {"Secret", secret}};
        run_credential_helper(*helper, "store", request.dump(), timeout_, secret);
        // docker login keeps an empty entry: the file still lists the registry.
    } else {
        // With an identity token Docker keeps "user:" and the token beside it.
        const std::string pass = creds.identity_token.empty() ? creds.password : std::string();
        entry["auth"] = base64_encode(creds.username + ":" + pass);
        if (!creds.identity_token.empty()) entry["identitytoken"] = creds.identity_token;
    }
    auths[key] = std::move(entry);
    write_config(dir_, doc);
}

void CredentialStore::erase(std::string_view domain) {
    Json doc = read_config(config_file());
    const auto keys = matching_keys(doc, domain);
    if (!keys.empty()) {
        for (const auto& k : keys)
            doc["auths"].erase(k);
        write_config(dir_, doc);
    }
    if (auto helper = helper_in(doc, domain)) {
        try {
            run_credential_helper(*helper, "erase", server_address_of(domain), timeout_);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound) throw;
        }
    }
}

bool CredentialStore::has_entry(std::string_view domain) const {
    return !matching_keys(read_config(config_file()), domain).empty();
}

CredentialLookup make_credential_lookup(fs::path config_dir, CredentialWarning warn) {
    struct State {
        State(fs::path dir, CredentialWarning w) : store(std::move(dir)), warn(std::move(w)) {}
        CredentialStore store;
        CredentialWarning warn;
        std::mutex mu;
        std::map<std::string, std::optional<Credentials>, std::less<>> answers;
    };
    auto state = std::make_shared<State>(std::move(config_dir), std::move(warn));
    return [state](std::string_view domain) -> std::optional<Credentials> {
        const std::string d = canonical_domain(domain);
        std::lock_guard lock(state->mu);
        if (auto it = state->answers.find(d); it != state->answers.end()) return it->second;
        std::optional<Credentials> c;
        try {
            c = state->store.get(d);
        } catch (const Error& e) {
            // As docker pull: a lookup that fails is an anonymous request.
            if (state->warn)
                state->warn(
                    fmt::format("cannot read the credentials for {}, going on without "
                                "them: {}",
                                d, e.what()));
        }
        state->answers.emplace(d, c);
        return c;
    };
}

}  // namespace strata::registry
