#include "registry/authenticator.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <exception>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "registry/api_url.hpp"
#include "registry/registry_error.hpp"

namespace strata::registry {

namespace {

constexpr std::chrono::seconds kMinimumTokenLifetime{60};

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string form_encode(std::string_view s) {
    std::string enc = add_query("", "x", s);  // "?x=<encoded>"
    return enc.substr(3);
}

// RFC 3339 as token servers write it: "2024-05-01T10:00:00Z", fractions and
// numeric offsets allowed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& s) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    size_t i = static_cast<size_t>(consumed);
    if (i < s.size() && s[i] == '.')
        for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));)
            ++i;
    long offset_s = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int hh = 0, mm = 0;
        if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
        offset_s = (s[i] == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
    } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
        return std::nullopt;
    }
    const time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(t - offset_s);
}

std::string describe_token_server(const Challenge& ch) {
    return without_query(ch.param("realm"));
}

}  // namespace

std::string repository_scope(const std::string& repo, bool push) {
    return "repository:" + repo + (push ? ":pull,push" : ":pull");
}

BearerToken parse_token_response(std::string_view body) {
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(ErrorKind::kParse, "the token server's answer is not a JSON object");
    BearerToken t;
    for (const char* field : {"token", "access_token"}) {
        auto it = j.find(field);
        if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
            t.token = it->get<std::string>();
            break;
        }
    }
    if (t.token.empty()) throw Error(ErrorKind::kParse, "the token server's answer holds no token");
    if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer())
        t.expires_in = std::chrono::seconds(it->get<long long>());
    if (t.expires_in < kMinimumTokenLifetime) t.expires_in = kMinimumTokenLifetime;
    if (auto it = j.find("issued_at"); it != j.end() && it->is_string())
        t.issued_at = parse_rfc3339(it->get<std::string>());
    return t;
}

std::string basic_authorization(const Credentials& c) {
    return "Basic " + base64(c.username + ":" + c.password);
}

BearerToken fetch_bearer_token(HttpTransport& transport, const Endpoint& endpoint,
                               const Challenge& challenge, const std::vector<std::string>& scopes,
                               const std::optional<Credentials>& credentials) {
    const std::string realm = challenge.param("realm");
    const std::string service = challenge.param("service");
    const std::string what =
        "get a token for " + endpoint.domain + " from " + describe_token_server(challenge);
    if (realm.empty() || realm.find("://") == std::string::npos)
        throw Error(ErrorKind::kParse,
                    endpoint.host + " asked for a bearer token without a valid realm URL");
    if (!endpoint.plain_http && !realm.starts_with("https://") && !endpoint.skip_tls_verify)
        throw Error(ErrorKind::kUsage, "refusing to " + what +
                                           ": the token server is not HTTPS (mark the registry "
                                           "insecure to allow it)");

    HttpResponse response;
    bool done = false;
    if (credentials && !credentials->identity_token.empty()) {
        // OAuth2 refresh-token grant (Docker's identity tokens).
        std::string form =
            "grant_type=refresh_token&refresh_token=" + form_encode(credentials->identity_token) +
            "&service=" + form_encode(service) + "&client_id=strata";
        std::string joined;
        for (const std::string& s : scopes)
            joined += (joined.empty() ? "" : " ") + s;
        if (!joined.empty()) form += "&scope=" + form_encode(joined);
        HttpRequest req;
        req.method = "POST";
        req.url = realm;
        req.headers = {"Content-Type: application/x-www-form-urlencoded"};
        req.body_size = form.size();
        req.read_body = [&form](uint64_t off, char* buf, size_t n) {
            const size_t k = std::min<size_t>(n, form.size() - static_cast<size_t>(off));
            std::copy_n(form.data() + off, k, buf);
            return k;
        };
        req.max_body = 1u << 20;
        response = transport.perform(endpoint, req);
        // Token servers without OAuth answer 404/405: fall back to GET.
        done = response.failed() || (response.status != 404 && response.status != 405);
    }
    if (!done) {
        std::string url = realm;
        if (!service.empty()) url = add_query(url, "service", service);
        for (const std::string& s : scopes)
            url = add_query(url, "scope", s);
        HttpRequest req;
        req.url = url;
        req.max_body = 1u << 20;
        if (credentials && !credentials->username.empty())
            req.headers.push_back("Authorization: " + basic_authorization(*credentials));
        response = transport.perform(endpoint, req);
    }
    if (response.failed()) throw transfer_error(what, endpoint, realm, response);
    if (response.status == 401 || response.status == 403) {
        std::string msg = what + ": HTTP " + std::to_string(response.status) + ": ";
        msg += credentials ? "the credentials for " + endpoint.domain +
                                 " were refused; run `strata login " + endpoint.domain + "`"
                           : "anonymous access refused; run `strata login " + endpoint.domain + "`";
        throw Error(ErrorKind::kSystem, msg);
    }
    if (response.status != 200) throw status_error(what, endpoint, response);
    try {
        return parse_token_response(response.body);
    } catch (const Error& e) {
        throw Error(ErrorKind::kParse, what + ": " + e.what());
    }
}

Authenticator::Authenticator(HttpTransport& transport, TokenCache& tokens, CredentialLookup lookup)
    : transport_(transport), tokens_(tokens), lookup_(std::move(lookup)) {}

std::optional<Credentials> Authenticator::credentials(const Endpoint& endpoint) {
    if (!lookup_) return std::nullopt;
    // A mirror has its own entry (by its host), never the registry's secret.
    return lookup_(endpoint.mirror ? endpoint.host : endpoint.domain);
}

std::string Authenticator::token_key(const Endpoint& endpoint, const Challenge& challenge,
                                     const std::vector<std::string>& scopes) const {
    return TokenCache::key(endpoint.host,
                           challenge.param("realm") + " " + challenge.param("service"), scopes);
}

std::string Authenticator::get_token(const Endpoint& endpoint, const Challenge& challenge,
                                     const std::vector<std::string>& scopes) {
    const std::string key = token_key(endpoint, challenge, scopes);
    if (auto t = tokens_.get(key)) return *t;
    std::promise<std::string> promise;
    std::shared_future<std::string> answer;
    bool fetcher = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (auto it = fetches_.find(key); it != fetches_.end()) {
            answer = it->second;
        } else {
            answer = promise.get_future().share();
            fetches_.emplace(key, answer);
            fetcher = true;
        }
    }
    if (fetcher) {
        try {
            BearerToken t =
                fetch_bearer_token(transport_, endpoint, challenge, scopes, credentials(endpoint));
            tokens_.put(key, t.token, t.expires_in, t.issued_at);
            promise.set_value(std::move(t.token));
        } catch (...) {
            promise.set_exception(std::current_exception());
        }
        std::lock_guard<std::mutex> lock(mu_);
        fetches_.erase(key);
    }
    return answer.get();  // this thread's fetch or another's; rethrows its error
}

std::optional<std::string> Authenticator::authorization(const Endpoint& endpoint,
                                                        const std::vector<std::string>& scopes) {
    Challenge ch;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = challenges_.find(endpoint.host);
        if (it == challenges_.end()) return std::nullopt;
        ch = it->second;
    }
    if (ch.scheme == "bearer") return "Bearer " + get_token(endpoint, ch, scopes);
    if (ch.scheme == "basic") {
        auto c = credentials(endpoint);
        if (c && !c->username.empty()) return basic_authorization(*c);
    }
    return std::nullopt;
}

bool Authenticator::on_unauthorized(const Endpoint& endpoint, const HttpResponse& response,
                                    const std::vector<std::string>& scopes) {
    std::optional<Challenge> chosen;
    for (const std::string& h : response.header_all("www-authenticate"))
        for (Challenge& ch : parse_challenges(h))
            if (!chosen && (ch.scheme == "bearer" || ch.scheme == "basic")) chosen = std::move(ch);
    // Bearer is preferred when a server offers both.
    for (const std::string& h : response.header_all("www-authenticate"))
        for (Challenge& ch : parse_challenges(h))
            if (ch.scheme == "bearer") chosen = std::move(ch);
    if (!chosen) return false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        challenges_[endpoint.host] = *chosen;
    }
    if (chosen->scheme == "bearer") {
        const std::string key = token_key(endpoint, *chosen, scopes);
        tokens_.forget(key);  // refused or never had: fetch anew
        const BearerToken t =
            fetch_bearer_token(transport_, endpoint, *chosen, scopes, credentials(endpoint));
        tokens_.put(key, t.token, t.expires_in, t.issued_at);
        return true;
    }
    auto c = credentials(endpoint);
    return c && !c->username.empty();
}

}  // namespace strata::registry
