#include "registry/client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/curl_library.hpp"
#include "base/error.hpp"
#include "registry/api_url.hpp"
#include "registry/authenticator.hpp"
#include "registry/registry_error.hpp"

namespace strata::registry {

namespace {

using Scopes = std::vector<std::string>;

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_retriable_transfer(int code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

bool is_retriable(const HttpResponse& r) {
    return r.failed() ? is_retriable_transfer(r.curl_code) : is_retriable_status(r.status);
}

// "127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app@sha256:…"
std::string display_name(const Endpoint& ep, std::string_view repo, std::string_view ref) {
    std::string out = ep.domain + "/" + std::string(repo);
    if (ref.empty()) return out;
    return out + (ref.find(':') != std::string_view::npos ? "@" : ":") + std::string(ref);
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const std::string& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string media_type_of(const HttpResponse& r, std::string_view bytes) {
    std::string ct = r.header("content-type").value_or("");
    ct = ct.substr(0, ct.find(';'));
    while (!ct.empty() && ct.back() == ' ')
        ct.pop_back();
    if (!ct.empty() && ct != "application/json" && ct != "text/plain" &&
        ct != "application/octet-stream")
        return ct;
    const nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
    if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string())
        return j["mediaType"].get<std::string>();
    return ct;
}

// The Docker-Content-Digest header, when it is a sha256 digest.
std::optional<store::Digest> header_digest(const HttpResponse& r) {
    auto h = r.header("docker-content-digest");
    return h ? store::Digest::try_parse(*h) : std::nullopt;
}

HttpRequest body_request(std::string method, std::string url, uint64_t size,
                         std::function<size_t(uint64_t, char*, size_t)> read) {
    HttpRequest q;
    q.method = std::move(method);
    q.url = std::move(url);
    q.body_size = size;
    q.read_body = std::move(read);
    return q;
}

}  // namespace

BlobSource BlobSource::from_string(std::shared_ptr<const std::string> bytes) {
    BlobSource s;
    s.size = bytes->size();
    s.read_at = [bytes](uint64_t off, char* buf, size_t n) {
        if (off >= bytes->size()) return size_t{0};
        const size_t k = std::min<size_t>(n, bytes->size() - static_cast<size_t>(off));
        std::copy_n(bytes->data() + off, k, buf);
        return k;
    };
    return s;
}

BlobSource BlobSource::from_fd(int fd, uint64_t size) {
    BlobSource s;
    s.size = size;
    s.read_at = [fd](uint64_t off, char* buf, size_t n) {
        for (;;) {
            const ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
            if (r >= 0) return static_cast<size_t>(r);
            if (errno != EINTR)
                throw system_error("read the blob to upload from", "fd " + std::to_string(fd));
        }
    };
    return s;
}

// Docker's rule for an insecure registry: HTTPS without verification, plain
// HTTP when that cannot even connect or shake hands (a registry that speaks
// HTTP only). One GET /v2/.
static void settle(HttpTransport& transport, Endpoint& ep) {
    if (!ep.http_fallback || ep.plain_http) return;
    HttpRequest q;
    q.url = api_root_url(ep);
    q.max_body = 1u << 20;
    const HttpResponse r = transport.perform(ep, q);
    if (r.failed() && (is_tls_failure(r.curl_code) || is_connect_failure(r.curl_code))) {
        ep.plain_http = true;
        ep.skip_tls_verify = false;
    }
    ep.http_fallback = false;
}

Endpoint settle_scheme(Endpoint endpoint, const TransportOptions& options) {
    HttpTransport transport(options);
    settle(transport, endpoint);
    return endpoint;
}

struct RegistryClient::Impl {
    std::vector<Endpoint> endpoints;
    ClientOptions options;
    HttpTransport transport;
    std::shared_ptr<TokenCache> tokens;
    Authenticator auth;
    // One per endpoint: the scheme of an insecure one is settled once.
    std::unique_ptr<std::once_flag[]> scheme_once;

    Impl(std::vector<Endpoint> eps, CredentialLookup lookup, ClientOptions opts)
        : endpoints(std::move(eps)),
          options(std::move(opts)),
          transport(options.transport),
          tokens(options.tokens ? options.tokens : std::make_shared<TokenCache>()),
          auth(transport, *tokens, std::move(lookup)),
          scheme_once(new std::once_flag[endpoints.size()]) {
        if (endpoints.empty())
            throw Error(ErrorKind::kInternal, "RegistryClient without an endpoint");
        if (!options.sleep)
            options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    }

    // Docker's rule for an insecure registry: HTTPS without checking the
    // certificate, and plain HTTP when that cannot even connect or shake
    // hands (a registry that speaks HTTP only). Settled with one GET /v2/,
    // the first time the endpoint is used, for the client's lifetime.
    Endpoint& at(size_t i) {
        Endpoint& ep = endpoints[i];
        std::call_once(scheme_once[i], [&] { settle(transport, ep); });
        return ep;
    }

    const Endpoint& push_endpoint() {
        for (size_t i = 0; i < endpoints.size(); ++i)
            if (!endpoints[i].mirror) return at(i);
        throw Error(ErrorKind::kUsage, "cannot push to " + endpoints.front().domain +
                                           ": only mirrors are configured for it");
    }

    void wait_before_retry(int attempt, const HttpResponse& r) {
        std::optional<std::chrono::seconds> after;
        if (!r.failed())
            if (auto h = r.header("retry-after")) after = parse_retry_after(*h);
        options.sleep(options.retry.delay(attempt, after));
    }

    // One request with auth and (when `retry`) retries: `build` makes the
    // request anew for each attempt. Returns the last answer; the caller
    // judges its status.
    HttpResponse send(std::string_view what, const Endpoint& ep, const Scopes& scopes,
                      const std::function<HttpRequest()>& build, bool retry = true) {
        bool auth_round = false;
        // Auth failures (the token server's answers) get the request's context.
        auto with_context = [&](auto&& f) {
            try {
                return f();
            } catch (const Error& e) {
                throw Error(e.kind(), std::string(what) + ": " + e.what());
            }
        };
        for (int attempt = 1;;) {
            HttpRequest req = build();
            // Our Authorization goes to the registry's host only, never to
            // the storage a Location points at.
            if (url_authority(req.url) == lower(ep.host))
                if (auto a = with_context([&] { return auth.authorization(ep, scopes); }))
                    req.headers.push_back("Authorization: " + *a);
            HttpResponse r = transport.perform(ep, req);
            if (!r.failed() && r.status == 401 && !auth_round) {
                auth_round = true;
                if (with_context([&] { return auth.on_unauthorized(ep, r, scopes); })) continue;
                return r;
            }
            if (!retry || attempt >= options.retry.max_attempts || !is_retriable(r)) return r;
            if (!r.failed())
                if (auto h = r.header("retry-after"))
                    if (auto s = parse_retry_after(*h); s && *s > options.retry.max_retry_after)
                        return r;
            wait_before_retry(attempt, r);
            ++attempt;
        }
    }

    // Runs `f` on each pull endpoint in turn until one succeeds; the last
    // endpoint's error is the one reported.
    template <class F>
    auto on_pull_endpoints(F&& f) {
        for (size_t i = 0;; ++i) {
            try {
                return f(at(i));
            } catch (const Error&) {
                if (i + 1 == endpoints.size()) throw;
            }
        }
    }

    Manifest get_manifest(const Endpoint& ep, std::string_view repo, std::string_view ref,
                          const std::vector<std::string>& accept) {
        const std::string name = display_name(ep, repo, ref);
        const std::string url = repository_url(ep, repo, "manifests/" + std::string(ref));
        const auto wanted = store::Digest::try_parse(ref);
        HttpResponse r =
            send("pull " + name, ep, {repository_scope(std::string(repo), false)}, [&] {
                HttpRequest q;
                q.url = url;
                if (!accept.empty()) q.headers.push_back("Accept: " + join(accept, ", "));
                q.max_body = kMaxManifestSize;
                return q;
            });
        if (r.failed()) throw transfer_error("pull " + name, ep, url, r);
        if (r.status == 404) {
            std::string msg =
                "manifest unknown: " + display_name(ep, repo, ref).substr(ep.domain.size() + 1) +
                " not found on " + ep.host;
            if (ep.domain != ep.host) msg += " (" + ep.domain + ")";
            throw Error(ErrorKind::kNotFound, msg);
        }
        if (r.status != 200) throw status_error("pull " + name, ep, r);
        Manifest m;
        m.digest = store::sha256_of(r.body);
        if (wanted && *wanted != m.digest)
            throw Error(ErrorKind::kCorrupt, "pull " + name + " from " + ep.host +
                                                 ": the manifest received hashes to " +
                                                 m.digest.str() + ", not the digest asked for");
        if (auto h = header_digest(r); h && *h != m.digest)
            throw Error(ErrorKind::kCorrupt,
                        "pull " + name + " from " + ep.host + ": the manifest received hashes to " +
                            m.digest.str() + " but the registry says " + h->str());
        m.media_type = media_type_of(r, r.body);
        m.bytes = std::move(r.body);
        return m;
    }

    std::optional<ManifestInfo> head_manifest(const Endpoint& ep, std::string_view repo,
                                              std::string_view ref,
                                              const std::vector<std::string>& accept) {
        const std::string name = display_name(ep, repo, ref);
        const std::string url = repository_url(ep, repo, "manifests/" + std::string(ref));
        HttpResponse r =
            send("look up " + name, ep, {repository_scope(std::string(repo), false)}, [&] {
                HttpRequest q;
                q.method = "HEAD";
                q.url = url;
                if (!accept.empty()) q.headers.push_back("Accept: " + join(accept, ", "));
                return q;
            });
        if (r.failed()) throw transfer_error("look up " + name, ep, url, r);
        if (r.status == 404) return std::nullopt;
        if (r.status != 200) throw status_error("look up " + name, ep, r);
        ManifestInfo info;
        info.media_type = media_type_of(r, "");
        info.digest = header_digest(r);
        if (auto len = r.header("content-length"))
            info.size = std::strtoull(len->c_str(), nullptr, 10);
        return info;
    }

    struct BlobDownload {
        store::Sha256 hash;
        uint64_t delivered = 0;
        bool ranges = false;
        std::exception_ptr sink_error;
    };

    // One endpoint's part of fetch_blob: true when its answer was complete.
    void fetch_blob_from(const Endpoint& ep, std::string_view repo, const store::Digest& digest,
                         std::optional<uint64_t> expected_size, const BlobSink& sink,
                         const ProgressCallback& progress, BlobDownload& d) {
        const std::string what = "pull blob " + digest.str() + " of " + display_name(ep, repo, "");
        const std::string url = repository_url(ep, repo, "blobs/" + digest.str());
        uint64_t skip = 0;  // bytes of this answer the sink already has
        HttpResponse r = send(what, ep, {repository_scope(std::string(repo), false)}, [&] {
            HttpRequest q;
            q.url = url;
            q.follow_redirects = true;
            skip = 0;
            const uint64_t from = d.delivered;
            if (from > 0 && d.ranges)
                q.headers.push_back("Range: bytes=" + std::to_string(from) + "-");
            q.on_headers = [&d, &skip, from, what](long status, const auto& headers) {
                for (const auto& [k, v] : headers)
                    if (k == "accept-ranges" && v.find("bytes") != std::string::npos)
                        d.ranges = true;
                if (status == 200) {
                    skip = from;  // the whole blob again: drop what we have
                } else if (status == 206) {
                    uint64_t start = UINT64_MAX;
                    for (const auto& [k, v] : headers)
                        if (k == "content-range" && v.starts_with("bytes "))
                            start = std::strtoull(v.c_str() + 6, nullptr, 10);
                    if (start > from)
                        throw Error(ErrorKind::kCorrupt, what + ": the server resumed at byte " +
                                                             std::to_string(start) + ", not " +
                                                             std::to_string(from));
                    skip = from - start;
                    d.ranges = true;
                }
            };
            q.on_body = [&, what](const char* data, size_t n) {
                if (skip > 0) {
                    const size_t k = static_cast<size_t>(std::min<uint64_t>(skip, n));
                    skip -= k;
                    data += k;
                    n -= k;
                    if (n == 0) return;
                }
                if (expected_size && d.delivered + n > *expected_size)
                    throw Error(ErrorKind::kCorrupt,
                                what + ": the registry sent more than the expected " +
                                    std::to_string(*expected_size) + " bytes");
                d.hash.update(data, n);
                try {
                    sink(data, n);
                } catch (...) {
                    d.sink_error = std::current_exception();
                    throw;
                }
                d.delivered += n;
                if (progress) progress(d.delivered, expected_size.value_or(0));
            };
            return q;
        });
        if (r.failed()) throw transfer_error(what, ep, url, r);
        if (r.status == 404)
            throw Error(ErrorKind::kNotFound, "blob unknown: " + digest.str() + " not found in " +
                                                  display_name(ep, repo, "") + " on " + ep.host);
        if (r.status != 200 && r.status != 206) throw status_error(what, ep, r);
    }

    void fetch_blob(std::string_view repo, const store::Digest& digest,
                    std::optional<uint64_t> expected_size, const BlobSink& sink,
                    const ProgressCallback& progress) {
        BlobDownload d;
        const Endpoint* used = nullptr;
        for (size_t i = 0; i < endpoints.size(); ++i) {
            used = &at(i);
            try {
                fetch_blob_from(at(i), repo, digest, expected_size, sink, progress, d);
                break;
            } catch (const Error&) {
                // The sink's own failure, or the last endpoint's, is final.
                if (d.sink_error || i + 1 == endpoints.size()) throw;
            }
        }
        const std::string what = "pull blob " + digest.str() + " of " +
                                 display_name(*used, repo, "") + " from " + used->host;
        if (expected_size && d.delivered != *expected_size)
            throw Error(ErrorKind::kCorrupt, what + ": received " + std::to_string(d.delivered) +
                                                 " bytes, expected " +
                                                 std::to_string(*expected_size));
        const store::Digest got = d.hash.finish();
        if (got != digest)
            throw Error(ErrorKind::kCorrupt, what + ": digest mismatch: the " +
                                                 std::to_string(d.delivered) +
                                                 " bytes received hash to " + got.str());
    }
};

RegistryClient::RegistryClient(Endpoint endpoint, CredentialLookup credentials,
                               ClientOptions options)
    : RegistryClient(std::vector<Endpoint>{std::move(endpoint)}, std::move(credentials),
                     std::move(options)) {}

RegistryClient::RegistryClient(std::vector<Endpoint> endpoints, CredentialLookup credentials,
                               ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoints), std::move(credentials),
                                   std::move(options))) {}

RegistryClient::~RegistryClient() = default;

PingResult RegistryClient::ping() {
    const Endpoint& ep = impl_->push_endpoint();
    HttpRequest q;
    q.url = api_root_url(ep);
    q.max_body = 1u << 20;
    const HttpResponse r = impl_->transport.perform(ep, q);
    PingResult out;
    out.http_status = r.status;
    if (r.failed()) {
        out.message = transfer_error("ping " + ep.domain, ep, q.url, r).what();
    } else if (r.status == 200) {
        out.status = PingResult::Status::kOk;
    } else if (r.status == 401) {
        out.status = PingResult::Status::kNeedsAuth;
    } else {
        out.message = status_error("ping " + ep.domain, ep, r).what();
    }
    return out;
}

Manifest RegistryClient::get_manifest(std::string_view repo, std::string_view ref,
                                      const std::vector<std::string>& accept) {
    return impl_->on_pull_endpoints(
        [&](const Endpoint& ep) { return impl_->get_manifest(ep, repo, ref, accept); });
}

std::optional<ManifestInfo> RegistryClient::head_manifest(std::string_view repo,
                                                          std::string_view ref,
                                                          const std::vector<std::string>& accept) {
    // A mirror lacking the manifest is not the answer: ask the next one.
    for (size_t i = 0; i < impl_->endpoints.size(); ++i) {
        const bool last = i + 1 == impl_->endpoints.size();
        try {
            auto info = impl_->head_manifest(impl_->at(i), repo, ref, accept);
            if (info || last) return info;
        } catch (const Error&) {
            if (last) throw;
        }
    }
    return std::nullopt;
}

void RegistryClient::fetch_blob(std::string_view repo, const store::Digest& digest,
                                std::optional<uint64_t> expected_size, const BlobSink& sink,
                                const ProgressCallback& progress) {
    impl_->fetch_blob(repo, digest, expected_size, sink, progress);
}

std::optional<uint64_t> RegistryClient::blob_exists(std::string_view repo,
                                                    const store::Digest& digest) {
    const Endpoint& ep = impl_->push_endpoint();
    const std::string url = repository_url(ep, repo, "blobs/" + digest.str());
    const std::string what = "look up blob " + digest.str() + " in " + display_name(ep, repo, "");
    HttpResponse r = impl_->send(what, ep, {repository_scope(std::string(repo), true)}, [&] {
        HttpRequest q;
        q.method = "HEAD";
        q.url = url;
        q.follow_redirects = true;
        return q;
    });
    if (r.failed()) throw transfer_error(what, ep, url, r);
    if (r.status == 404) return std::nullopt;
    if (r.status != 200) throw status_error(what, ep, r);
    auto len = r.header("content-length");
    return len ? std::strtoull(len->c_str(), nullptr, 10) : 0;
}

bool RegistryClient::mount_blob(std::string_view repo, const store::Digest& digest,
                                std::string_view from_repo) {
    const Endpoint& ep = impl_->push_endpoint();
    check_repository(from_repo);
    std::string url = add_query(repository_url(ep, repo, "blobs/uploads/"), "mount", digest.str());
    url = add_query(url, "from", from_repo);
    const std::string what = "mount blob " + digest.str() + " from " + std::string(from_repo) +
                             " into " + display_name(ep, repo, "");
    const Scopes scopes{repository_scope(std::string(repo), true),
                        repository_scope(std::string(from_repo), false)};
    HttpResponse r = impl_->send(what, ep, scopes, [&] {
        HttpRequest q;
        q.method = "POST";
        q.url = url;
        return q;
    });
    if (r.failed()) throw transfer_error(what, ep, url, r);
    if (r.status == 201) return true;
    if (r.status == 202) {
        // An upload session was opened instead; close it (best effort).
        if (auto loc = r.header("location")) {
            const std::string session = resolve_location(url, *loc);
            (void)impl_->send(
                what, ep, scopes,
                [&] {
                    HttpRequest q;
                    q.method = "DELETE";
                    q.url = session;
                    return q;
                },
                false);
        }
        return false;
    }
    throw status_error(what, ep, r);
}

void RegistryClient::upload_blob(std::string_view repo, const store::Digest& digest,
                                 const BlobSource& source, const ProgressCallback& progress) {
    Impl& im = *impl_;
    const Endpoint& ep = im.push_endpoint();
    const std::string what = "push blob " + digest.str() + " to " + display_name(ep, repo, "");
    const std::string start_url = repository_url(ep, repo, "blobs/uploads/");
    const Scopes scopes{repository_scope(std::string(repo), true)};
    const uint64_t size = source.size;
    auto read = [&](uint64_t base) {
        return [&, base](uint64_t off, char* buf, size_t n) {
            const size_t got = source.read_at(base + off, buf, n);
            if (progress) progress(base + off + got, size);
            return got;
        };
    };

    // One upload session; nullopt when done, else the answer that failed
    // in a way worth starting over for.
    auto session = [&]() -> std::optional<HttpResponse> {
        HttpResponse r = im.send(what, ep, scopes, [&] {
            HttpRequest q;
            q.method = "POST";
            q.url = start_url;
            return q;
        });
        auto judge = [&](const HttpResponse& resp, long want, const std::string& url) {
            if (!resp.failed() && resp.status == want) return true;
            if (is_retriable(resp)) return false;
            if (resp.failed()) throw transfer_error(what, ep, url, resp);
            throw status_error(what, ep, resp);
        };
        if (!judge(r, 202, start_url)) return r;
        auto loc = r.header("location");
        if (!loc)
            throw Error(ErrorKind::kSystem,
                        what + ": " + ep.host + " opened an upload without a Location");
        std::string location = resolve_location(start_url, *loc);
        if (size >= im.options.chunked_threshold) {
            for (uint64_t off = 0; off < size;) {
                const uint64_t n = std::min<uint64_t>(im.options.chunk_size, size - off);
                r = im.send(
                    what, ep, scopes,
                    [&] {
                        HttpRequest q = body_request("PATCH", location, n, read(off));
                        q.headers = {"Content-Type: application/octet-stream",
                                     "Content-Range: " + std::to_string(off) + "-" +
                                         std::to_string(off + n - 1)};
                        return q;
                    },
                    false);
                if (!judge(r, 202, location)) return r;
                loc = r.header("location");
                if (!loc)
                    throw Error(ErrorKind::kSystem,
                                what + ": " + ep.host + " answered a chunk without a Location");
                location = resolve_location(location, *loc);
                off += n;
            }
            const std::string put_url = add_query(location, "digest", digest.str());
            r = im.send(
                what, ep, scopes,
                [&] {
                    HttpRequest q;
                    q.method = "PUT";
                    q.url = put_url;
                    return q;
                },
                false);
            if (!judge(r, 201, put_url)) return r;
        } else {
            const std::string put_url = add_query(location, "digest", digest.str());
            r = im.send(
                what, ep, scopes,
                [&] {
                    HttpRequest q = body_request("PUT", put_url, size, read(0));
                    q.headers = {"Content-Type: application/octet-stream"};
                    return q;
                },
                false);
            if (!judge(r, 201, put_url)) return r;
        }
        if (auto h = header_digest(r); h && *h != digest)
            throw Error(ErrorKind::kCorrupt, what + ": the registry stored it as " + h->str());
        return std::nullopt;
    };

    for (int attempt = 1;; ++attempt) {
        std::optional<HttpResponse> failed = session();
        if (!failed) return;
        if (attempt >= im.options.retry.max_attempts) {
            if (failed->failed()) throw transfer_error(what, ep, start_url, *failed);
            throw status_error(what, ep, *failed);
        }
        im.wait_before_retry(attempt, *failed);
    }
}

store::Digest RegistryClient::put_manifest(std::string_view repo, std::string_view ref,
                                           std::string_view media_type, std::string_view bytes) {
    const Endpoint& ep = impl_->push_endpoint();
    const std::string name = display_name(ep, repo, ref);
    const std::string url = repository_url(ep, repo, "manifests/" + std::string(ref));
    const store::Digest digest = store::sha256_of(bytes);
    if (auto wanted = store::Digest::try_parse(ref); wanted && *wanted != digest)
        throw Error(ErrorKind::kUsage,
                    "push " + name + ": the manifest's digest is " + digest.str());
    HttpResponse r =
        impl_->send("push " + name, ep, {repository_scope(std::string(repo), true)}, [&] {
            HttpRequest q =
                body_request("PUT", url, bytes.size(), [bytes](uint64_t off, char* buf, size_t n) {
                    const size_t k = std::min<size_t>(n, bytes.size() - static_cast<size_t>(off));
                    std::copy_n(bytes.data() + off, k, buf);
                    return k;
                });
            q.headers = {"Content-Type: " + std::string(media_type)};
            return q;
        });
    if (r.failed()) throw transfer_error("push " + name, ep, url, r);
    if (r.status != 201 && r.status != 200) throw status_error("push " + name, ep, r);
    if (auto h = header_digest(r); h && *h != digest)
        throw Error(ErrorKind::kCorrupt, "push " + name + ": " + ep.host +
                                             " stored the manifest as " + h->str() + ", not " +
                                             digest.str());
    return digest;
}

void check_login(const Endpoint& endpoint, const Credentials& credentials, ClientOptions options) {
    HttpTransport transport(options.transport);
    const std::string what = "log in to " + endpoint.domain;
    HttpRequest q;
    q.url = api_root_url(endpoint);
    q.max_body = 1u << 20;
    HttpResponse r = transport.perform(endpoint, q);
    if (r.failed()) throw transfer_error(what, endpoint, q.url, r);
    if (r.status == 200) return;  // the registry wants no credentials
    if (r.status != 401) throw status_error(what, endpoint, r);

    std::optional<Challenge> bearer, basic;
    for (const std::string& h : r.header_all("www-authenticate"))
        for (Challenge& ch : parse_challenges(h)) {
            if (ch.scheme == "bearer" && !bearer) bearer = ch;
            if (ch.scheme == "basic" && !basic) basic = ch;
        }
    HttpRequest again = q;
    if (bearer) {
        const BearerToken t = fetch_bearer_token(transport, endpoint, *bearer, {}, credentials);
        again.headers.push_back("Authorization: Bearer " + t.token);
    } else if (basic) {
        again.headers.push_back("Authorization: " + basic_authorization(credentials));
    } else {
        throw Error(ErrorKind::kSystem, what + ": " + endpoint.host +
                                            " answered 401 without a challenge strata knows "
                                            "(Bearer or Basic)");
    }
    r = transport.perform(endpoint, again);
    if (r.failed()) throw transfer_error(what, endpoint, q.url, r);
    if (r.status == 401 || r.status == 403)
        throw Error(ErrorKind::kSystem,
                    what + ": " + endpoint.host + " refused the username or password for '" +
                        credentials.username + "' (HTTP " + std::to_string(r.status) + ")");
    if (r.status != 200) throw status_error(what, endpoint, r);
}

}  // namespace strata::registry
