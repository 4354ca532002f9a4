// WWW-Authenticate challenges (RFC 7235) as registries send them:
//
//   Bearer
//   realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//   Basic realm="Registry Realm"
//
// Parameter values may be quoted (with \-escapes) and hold commas; one header
// may carry several challenges.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace strata::registry {

struct Challenge {
    std::string scheme;                         // lowercased: "bearer", "basic"
    std::map<std::string, std::string> params;  // names lowercased, values unquoted

    // The value of a parameter, "" when absent.
    std::string param(const std::string& name) const;
};

// Every challenge in one WWW-Authenticate header value; malformed parts are
// skipped, never thrown.
std::vector<Challenge> parse_challenges(std::string_view header);

}  // namespace strata::registry
