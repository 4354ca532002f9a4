#include "registry/http_transport.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <fstream>
#include <sstream>

#include "base/curl_library.hpp"
#include "base/error.hpp"

namespace strata::registry {

namespace {

constexpr size_t kMaxIdleHandles = 8;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_library().slist_free_all(l); }
};

// The state the callbacks of one transfer share.
struct Transfer {
    const HttpRequest* request = nullptr;
    HttpResponse* response = nullptr;
    bool headers_done = false;  // on_headers called for the final response
    bool too_big = false;
    std::exception_ptr error;
};

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * nmemb;
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        // A new response (after a redirect or a 100 Continue): start over.
        t->response->headers.clear();
        const size_t sp = line.find(' ');
        t->response->status = sp == std::string_view::npos
                                  ? 0
                                  : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
        return n;
    }
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos)
        t->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                          std::string(trim(line.substr(colon + 1))));
    return n;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * nmemb;
    const long status = t->response->status;
    try {
        // A redirect's own body is never handed over: only the final response's.
        if (t->request->follow_redirects && is_redirect(status)) return n;
        if (!t->headers_done) {
            t->headers_done = true;
            if (t->request->on_headers) t->request->on_headers(status, t->response->headers);
        }
        // Only a success's body is streamed; an error's is kept for the message.
        if (t->request->on_body && status >= 200 && status < 300) {
            t->request->on_body(data, n);
        } else {
            if (t->response->body.size() + n > t->request->max_body) {
                t->too_big = true;
                return 0;
            }
            t->response->body.append(data, n);
        }
        return n;
    } catch (...) {
        t->error = std::current_exception();
        return 0;  // curl stops with CURLE_WRITE_ERROR
    }
}

struct ReadState {
    Transfer* transfer = nullptr;
    uint64_t offset = 0;
};

size_t on_read_body(char* buf, size_t size, size_t nmemb, void* user) {
    auto* r = static_cast<ReadState*>(user);
    const HttpRequest& req = *r->transfer->request;
    const uint64_t left = req.body_size - r->offset;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * nmemb));
    if (want == 0) return 0;
    try {
        const size_t got = req.read_body(r->offset, buf, want);
        if (got == 0)
            throw Error(ErrorKind::kInternal, "request body ended at byte " +
                                                  std::to_string(r->offset) + " of " +
                                                  std::to_string(req.body_size));
        r->offset += got;
        return got;
    } catch (...) {
        r->transfer->error = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

// curl rewinds the body when it must send it again (a redirect, an auth
// round, a reused connection that was closed under it).
int on_seek(void* user, curl_off_t offset, int origin) {
    auto* r = static_cast<ReadState*>(user);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    r->offset = static_cast<uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::kSystem, "cannot read the CA certificate '" + path +
                                            "' (from the registry's certs.d directory)");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The system's CA bundle: where this libcurl looks by default, else the
// usual places of the distributions.
std::string system_ca_bundle() {
    const CurlLibrary& c = curl_library();
    std::vector<std::string> candidates;
    if (CURL* h = c.easy_init()) {
        char* path = nullptr;
        if (c.easy_getinfo(h, CURLINFO_CAINFO, &path) == CURLE_OK && path)
            candidates.push_back(path);
        c.easy_cleanup(h);
    }
    for (const char* p : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                          "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"})
        candidates.emplace_back(p);
    for (const std::string& p : candidates) {
        std::ifstream in(p, std::ios::binary);
        if (!in) continue;
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    return {};
}

}  // namespace

struct HttpTransport::Handle {
    CURL* curl = nullptr;
    ~Handle() {
        if (curl) curl_library().easy_cleanup(curl);
    }
};

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return std::nullopt;
}

std::vector<std::string> HttpResponse::header_all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
        if (k == name) out.push_back(v);
    return out;
}

bool is_tls_failure(int code) {
    switch (code) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_ENGINE_INITFAILED:
            return true;
        default:
            return false;
    }
}

bool is_connect_failure(int code) {
    return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
           code == CURLE_COULDNT_RESOLVE_PROXY;
}

HttpTransport::HttpTransport(TransportOptions options) : options_(std::move(options)) {}
HttpTransport::~HttpTransport() = default;

std::unique_ptr<HttpTransport::Handle> HttpTransport::acquire() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!idle_.empty()) {
            auto h = std::move(idle_.back());
            idle_.pop_back();
            return h;
        }
    }
    auto h = std::make_unique<Handle>();
    h->curl = curl_library().easy_init();
    if (!h->curl) throw Error(ErrorKind::kInternal, "curl_easy_init failed");
    return h;
}

void HttpTransport::release(std::unique_ptr<Handle> h) {
    curl_library().easy_reset(h->curl);  // keeps its connections for the next request
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(h));
}

std::shared_ptr<const std::string> HttpTransport::ca_bundle(const TlsFiles& tls) {
    std::string key;
    for (const std::string& f : tls.ca_files)
        key += f + '\n';
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = bundles_.find(key);
        if (it != bundles_.end()) return it->second;
    }
    std::string pem = system_ca_bundle();
    for (const std::string& f : tls.ca_files) {
        if (!pem.empty() && pem.back() != '\n') pem += '\n';
        pem += read_file(f);
    }
    auto shared = std::make_shared<const std::string>(std::move(pem));
    std::lock_guard<std::mutex> lock(mu_);
    bundles_[key] = shared;
    return shared;
}

HttpResponse HttpTransport::perform(const Endpoint& endpoint, const HttpRequest& request) {
    const CurlLibrary& c = curl_library();
    std::shared_ptr<const std::string> bundle;
    if (!endpoint.plain_http && !endpoint.skip_tls_verify && !endpoint.tls.ca_files.empty())
        bundle = ca_bundle(endpoint.tls);

    HttpResponse response;
    Transfer transfer;
    transfer.request = &request;
    transfer.response = &response;
    ReadState read_state{&transfer, 0};

    std::unique_ptr<Handle> handle = acquire();
    CURL* h = handle->curl;
    char errbuf[CURL_ERROR_SIZE] = {0};

    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&](const std::string& line) {
        curl_slist* l = c.slist_append(headers.get(), line.c_str());
        if (!l) throw Error(ErrorKind::kInternal, "curl_slist_append failed");
        (void)headers.release();
        headers.reset(l);
    };
    for (const std::string& line : request.headers)
        add_header(line);

    c.easy_setopt(h, CURLOPT_URL, request.url.c_str());
    c.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    c.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c.easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // 512 KiB receive buffer (curl's default is 16 KiB): a blob arrives in 30x
    // fewer poll+recv pairs (docs/performance.md, pull).
    c.easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
    c.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    c.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
    c.easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    c.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    c.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    c.easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    c.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    c.easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    if (request.follow_redirects) {
        c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        c.easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        // Never CURLOPT_UNRESTRICTED_AUTH: the registry's token stays with it.
    }

    // TLS
    if (endpoint.skip_tls_verify) {
        c.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        c.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (bundle) {
        curl_blob blob{const_cast<char*>(bundle->data()), bundle->size(), CURL_BLOB_NOCOPY};
        c.easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!endpoint.tls.client_pairs.empty()) {
        const auto& pair = endpoint.tls.client_pairs.front();
        c.easy_setopt(h, CURLOPT_SSLCERT, pair.cert.c_str());
        c.easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        c.easy_setopt(h, CURLOPT_SSLKEY, pair.key.c_str());
        c.easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }

    // Method and body
    const std::string& m = request.method;
    if (m == "HEAD") {
        c.easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (m == "POST" || m == "PUT" || m == "PATCH") {
        // Upload mode sends a Content-Length (0 without a body) for every
        // method; CUSTOMREQUEST names the method.
        c.easy_setopt(h, CURLOPT_UPLOAD, 1L);
        c.easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                      static_cast<curl_off_t>(request.read_body ? request.body_size : 0));
        c.easy_setopt(h, CURLOPT_READFUNCTION, on_read_body);
        c.easy_setopt(h, CURLOPT_READDATA, &read_state);
        c.easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        c.easy_setopt(h, CURLOPT_SEEKDATA, &read_state);
        if (m != "PUT") c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
        add_header("Expect:");  // no 100-continue round trip
    } else if (m != "GET") {
        c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    }
    c.easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode rc = c.easy_perform(h);
    char* effective = nullptr;
    if (c.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
        response.effective_url = effective;
    long status = 0;
    if (c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status != 0)
        response.status = status;
    release(std::move(handle));

    if (transfer.error) std::rethrow_exception(transfer.error);
    if (transfer.too_big)
        throw Error(ErrorKind::kCorrupt, request.method + " " + request.url +
                                             ": response larger than " +
                                             std::to_string(request.max_body) + " bytes");
    if (rc != CURLE_OK) {
        response.curl_code = static_cast<int>(rc);
        response.curl_error = errbuf[0] ? std::string(trim(errbuf)) : c.easy_strerror(rc);
    } else if (!transfer.headers_done && request.on_headers) {
        // No body at all (HEAD, 201, 204): the headers callback still runs.
        request.on_headers(response.status, response.headers);
    }
    return response;
}

}  // namespace strata::registry
