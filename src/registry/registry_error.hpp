// The text of registry errors: what was asked (a reference or a
// repository), of which host, what came back (the HTTP status, the
// registry's errors[].code/message), and what to do about it. No token or
// password ever goes into one.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "registry/endpoint.hpp"
#include "registry/http_transport.hpp"

namespace strata::registry {

// "MANIFEST_UNKNOWN: manifest unknown; BLOB_UNKNOWN: …" from a distribution
// error body ({"errors":[{"code":…,"message":…}]}); "" when there is none.
std::string describe_error_body(std::string_view body);

// An HTTP error answer. `what` says what was asked:
// "pull 127.0.0.1:5000/app:1.0", "push blob sha256:… to 127.0.0.1:5000/app".
Error status_error(std::string_view what, const Endpoint& endpoint, const HttpResponse& response);

// A transfer that failed without an answer: refused, TLS, timeout, cut off.
Error transfer_error(std::string_view what, const Endpoint& endpoint, std::string_view url,
                     const HttpResponse& response);

}  // namespace strata::registry
