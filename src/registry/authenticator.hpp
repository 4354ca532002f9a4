// The Authorization a registry wants, learnt from its 401 challenges: a
// bearer token from its token server (anonymous, with the user's password,
// or with an identity token through the OAuth2 refresh-token grant, as
// Docker does), cached per host and scope set until it expires; or Basic
// auth with the user's password.
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth_challenge.hpp"
#include "registry/endpoint.hpp"
#include "registry/http_transport.hpp"
#include "registry/token_cache.hpp"

namespace strata::registry {

// "repository:NAME:pull" / "repository:NAME:pull,push"
std::string repository_scope(const std::string& repo, bool push);

// A token server's answer.
struct BearerToken {
    std::string token;
    std::chrono::seconds expires_in{60};
    std::optional<std::chrono::system_clock::time_point> issued_at;
};

// Parses a token server's JSON answer ("token" or "access_token",
// "expires_in" — at least 60 s, as Docker takes it — and "issued_at",
// RFC 3339). Error(kParse) without a token.
BearerToken parse_token_response(std::string_view body);

// Asks the token server a Bearer challenge names for a token with `scopes`
// (none: only checks the credentials, as `docker login` does). Error with
// a `strata login` hint when the server refuses the credentials.
BearerToken fetch_bearer_token(HttpTransport& transport, const Endpoint& endpoint,
                               const Challenge& challenge, const std::vector<std::string>& scopes,
                               const std::optional<Credentials>& credentials);

// "Basic base64(user:password)"
std::string basic_authorization(const Credentials& credentials);

class Authenticator {
  public:
    Authenticator(HttpTransport& transport, TokenCache& tokens, CredentialLookup lookup);

    // The Authorization header value for a request to `endpoint` needing
    // `scopes`, once the host has challenged us; nullopt before (the first
    // request goes out without one and its 401 teaches us the scheme).
    std::optional<std::string> authorization(const Endpoint& endpoint,
                                             const std::vector<std::string>& scopes);

    // After a 401: takes the response's challenge, drops the token that was
    // refused, and gets a new one. false when there is nothing new to try
    // (no challenge, Basic without credentials).
    bool on_unauthorized(const Endpoint& endpoint, const HttpResponse& response,
                         const std::vector<std::string>& scopes);

  private:
    std::optional<Credentials> credentials(const Endpoint& endpoint);
    std::string token_key(const Endpoint& endpoint, const Challenge& challenge,
                          const std::vector<std::string>& scopes) const;
    // The cached token, or one fetched: by one thread at a time per key
    // (the others wait for its answer), so that N uploads starting together
    // ask the token server once, not N times.
    std::string get_token(const Endpoint& endpoint, const Challenge& challenge,
                          const std::vector<std::string>& scopes);

    HttpTransport& transport_;
    TokenCache& tokens_;
    CredentialLookup lookup_;
    std::mutex mu_;
    std::map<std::string, Challenge> challenges_;  // by endpoint host
    // Tokens being fetched, by token key: the fetch's answer or error.
    std::map<std::string, std::shared_future<std::string>> fetches_;
};

}  // namespace strata::registry
