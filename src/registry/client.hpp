// RegistryClient — the distribution API verbs over one registry (and its
// mirrors, for pulls): manifests and blobs read and written, every byte
// read checked against its digest while it streams. Auth (bearer tokens,
// Basic), retries and TLS are below it (authenticator.hpp, retry_policy.hpp,
// http_transport.hpp); nothing here knows images or builds.
//
//   RegistryClient client(endpoint, lookup);
//   Manifest m = client.get_manifest("library/busybox", "latest", {kOciIndex, ...});
//   client.fetch_blob("library/busybox", layer_digest, layer_size, sink, progress);
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/endpoint.hpp"
#include "registry/http_transport.hpp"
#include "registry/retry_policy.hpp"
#include "registry/token_cache.hpp"
#include "store/digest.hpp"

namespace strata::registry {

// Blobs at least this big are uploaded in chunks (POST, PATCH…, PUT).
inline constexpr uint64_t kChunkedUploadThreshold = 32u << 20;
inline constexpr uint64_t kUploadChunkSize = 16u << 20;
// Docker refuses manifests bigger than this; so do we.
inline constexpr size_t kMaxManifestSize = 4u << 20;

struct ClientOptions {
    TransportOptions transport;
    RetryPolicy retry;
    uint64_t chunked_threshold = kChunkedUploadThreshold;
    uint64_t chunk_size = kUploadChunkSize;
    // Shared by clients that should reuse each other's tokens; one of its
    // own when null.
    std::shared_ptr<TokenCache> tokens;
    // How a retry waits (tests replace it); std::this_thread::sleep_for by default.
    std::function<void(std::chrono::milliseconds)> sleep;
};

struct Manifest {
    std::string bytes;
    std::string media_type;  // Content-Type, else the JSON's mediaType
    store::Digest digest;    // sha256 of bytes (checked against the reference and the header)
};

struct ManifestInfo {
    std::string media_type;
    std::optional<store::Digest> digest;  // Docker-Content-Digest, when the registry sent it
    uint64_t size = 0;
};

struct PingResult {
    enum class Status { kOk, kNeedsAuth, kError };
    Status status = Status::kError;
    long http_status = 0;
    std::string message;  // why, for kError
};

// Receives a blob's bytes in order, each byte once (a resumed download goes
// on where it broke). Throwing stops the download.
using BlobSink = std::function<void(const char* data, size_t n)>;
// Bytes done so far and the total (0 when unknown).
using ProgressCallback = std::function<void(uint64_t done, uint64_t total)>;

// What upload_blob sends: `size` bytes read by position, so that a retry
// can read them again.
struct BlobSource {
    uint64_t size = 0;
    std::function<size_t(uint64_t offset, char* buf, size_t n)> read_at;

    static BlobSource from_string(std::shared_ptr<const std::string> bytes);
    // pread on `fd`, which the caller keeps open during the upload.
    static BlobSource from_fd(int fd, uint64_t size);
};

class RegistryClient {
  public:
    RegistryClient(Endpoint endpoint, CredentialLookup credentials, ClientOptions options = {});
    // Pulls try each endpoint in order (mirrors first, as Docker does) and
    // fall back to the next on any failure; pushes go to the first endpoint
    // that is not a mirror.
    RegistryClient(std::vector<Endpoint> endpoints, CredentialLookup credentials,
                   ClientOptions options = {});
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    // GET /v2/ on the registry, without credentials.
    PingResult ping();

    // Error(kNotFound) "manifest unknown: NAME:TAG not found on HOST" on 404;
    // Error(kCorrupt) when the bytes do not match the digest asked for or
    // the Docker-Content-Digest header.
    Manifest get_manifest(std::string_view repo, std::string_view tag_or_digest,
                          const std::vector<std::string>& accept);
    // nullopt when the registry has no such manifest.
    std::optional<ManifestInfo> head_manifest(std::string_view repo, std::string_view tag_or_digest,
                                              const std::vector<std::string>& accept);

    // Streams the blob into `sink`, hashing every byte; a broken transfer
    // is resumed with Range where the server allows it, else restarted
    // without handing a byte to the sink twice. Error(kCorrupt) naming the
    // blob when its size or digest is not what was asked for.
    void fetch_blob(std::string_view repo, const store::Digest& digest,
                    std::optional<uint64_t> expected_size, const BlobSink& sink,
                    const ProgressCallback& progress = {});

    // HEAD: the blob's size, nullopt when the repository lacks it.
    std::optional<uint64_t> blob_exists(std::string_view repo, const store::Digest& digest);
    // Cross-repository mount: true when the registry mounted it (201);
    // false when it would not (202: upload it instead).
    bool mount_blob(std::string_view repo, const store::Digest& digest, std::string_view from_repo);
    // Monolithic (POST, PUT) below ClientOptions::chunked_threshold,
    // chunked (POST, PATCH…, PUT) above.
    void upload_blob(std::string_view repo, const store::Digest& digest, const BlobSource& source,
                     const ProgressCallback& progress = {});

    // PUT; returns the manifest's digest (checked against the registry's
    // Docker-Content-Digest and, when pushing by digest, the reference).
    store::Digest put_manifest(std::string_view repo, std::string_view tag_or_digest,
                               std::string_view media_type, std::string_view bytes);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// An insecure endpoint (Endpoint::http_fallback) with its scheme settled by
// Docker's rule: HTTPS without verification, plain HTTP when that cannot
// connect or shake hands (one GET /v2/). Other endpoints come back as they
// are. RegistryClient does this itself on first use.
Endpoint settle_scheme(Endpoint endpoint, const TransportOptions& options = {});

// What `strata login` checks: Error naming the host with a clear "refused"
// when the registry (or its token server) does not take `credentials`.
void check_login(const Endpoint& endpoint, const Credentials& credentials,
                 ClientOptions options = {});

}  // namespace strata::registry
