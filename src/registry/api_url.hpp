// URLs of the distribution API (/v2/<name>/manifests/<ref>, …/blobs/…) and
// the Location headers registries answer uploads with.
#pragma once

#include <string>
#include <string_view>

#include "registry/endpoint.hpp"

namespace strata::registry {

// Error(kUsage) unless `repo` is a repository path as the distribution spec
// allows it ("library/busybox": lowercase components joined by '/').
void check_repository(std::string_view repo);

// "https://host/v2/" (with the endpoint's path prefix).
std::string api_root_url(const Endpoint& endpoint);
// "https://host/v2/<repo>/<suffix>", e.g. suffix "manifests/latest".
std::string repository_url(const Endpoint& endpoint, std::string_view repo,
                           std::string_view suffix);

// A Location header resolved against the URL of the request it answered:
// absolute URLs as they are, "/v2/…" on the request's scheme and host,
// "//host/…" on its scheme; the query string (upload state) is kept.
std::string resolve_location(std::string_view request_url, std::string_view location);

// `url` with "key=value" added to its query ('?' or '&'), value
// percent-encoded.
std::string add_query(std::string_view url, std::string_view key, std::string_view value);

// "host[:port]" of an http(s) URL, lowercased; "" when there is none.
std::string url_authority(std::string_view url);

// `url` without its query string and fragment: for messages, as signed
// storage redirects carry credentials there.
std::string without_query(std::string_view url);

}  // namespace strata::registry
