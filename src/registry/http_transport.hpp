// One HTTP exchange on libcurl, as the distribution client needs it: any
// method, a body read by position (so that a retry can send it again), the
// response streamed to a sink or collected, the final response's status and
// headers. TLS comes from the Endpoint (extra CAs beside the system's,
// client certificates, skip_tls_verify).
//
// Easy handles are kept in a pool and reused, so a connection (and its TLS
// session) to a registry serves many requests; HTTP/2 is used where the
// server offers it over TLS.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/endpoint.hpp"

namespace strata::registry {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"

    // Request body: `body_size` bytes read by `read_body(offset, buf, n)`,
    // which returns how many it put in buf (0 only at the end). No
    // read_body: no body (POST/PUT/PATCH then send Content-Length: 0).
    uint64_t body_size = 0;
    std::function<size_t(uint64_t offset, char* buf, size_t n)> read_body;

    // Follow redirects (blob GETs: registries send them to storage). curl
    // sends our Authorization header to the original host only.
    bool follow_redirects = false;

    // Streams the body of a 2xx response (other statuses' bodies are
    // collected into HttpResponse::body for the error message); throwing stops the transfer and the
    // exception reaches perform()'s caller. No sink: the body is collected
    // into HttpResponse::body, at most `max_body` bytes (then an error).
    std::function<void(const char* data, size_t n)> on_body;
    size_t max_body = 16u << 20;
    // Called with the response's status and headers before its first body
    // byte (e.g. to check a 206's Content-Range); may throw.
    std::function<void(long status, const std::vector<std::pair<std::string, std::string>>&)>
        on_headers;
};

struct HttpResponse {
    long status = 0;  // 0 when the exchange failed before a status arrived
    // The last response of a redirect chain; names lowercased.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;           // when the request had no on_body
    std::string effective_url;  // after redirects

    // Set when the transfer failed (connection refused, TLS, timeout, cut
    // off): curl's CURLcode and its text.
    int curl_code = 0;
    std::string curl_error;
    bool failed() const { return curl_code != 0; }

    // The first value of a header (name lowercase), nullopt when absent.
    std::optional<std::string> header(std::string_view name) const;
    std::vector<std::string> header_all(std::string_view name) const;
};

struct TransportOptions {
    long connect_timeout_s = 30;
    // A transfer slower than 1 byte/s for this long is cut (and retried).
    long stall_timeout_s = 60;
    std::string user_agent = "strata";
};

// Classifies a failed exchange (HttpResponse::curl_code).
bool is_tls_failure(int curl_code);
bool is_connect_failure(int curl_code);

class HttpTransport {
  public:
    explicit HttpTransport(TransportOptions options = {});
    ~HttpTransport();
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    // Thread-safe. A transfer failure is reported in the response
    // (failed()), not thrown; what the sinks or body reader throw is
    // rethrown. TLS settings come from `endpoint` (also for requests to
    // other hosts on its behalf, e.g. its token server, as Docker does).
    HttpResponse perform(const Endpoint& endpoint, const HttpRequest& request);

  private:
    struct Handle;
    std::unique_ptr<Handle> acquire();
    void release(std::unique_ptr<Handle> h);
    // The CA bundle for an endpoint with extra CAs: the system's bundle
    // followed by the endpoint's files (CURLOPT_CAINFO would replace the
    // system's); built once per list of files.
    std::shared_ptr<const std::string> ca_bundle(const TlsFiles& tls);

    TransportOptions options_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Handle>> idle_;
    std::map<std::string, std::shared_ptr<const std::string>> bundles_;
};

}  // namespace strata::registry
