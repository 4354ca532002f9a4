#include "executor/copy/url_fetch.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "base/curl_library.hpp"
#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/unique_fd.hpp"
#include "frontend/git_url.hpp"

namespace strata::executor {

namespace {

struct CurlDeleter {
    void operator()(CURL* c) const { curl_library().easy_cleanup(c); }
};
struct CurlUrlDeleter {
    void operator()(CURLU* u) const { curl_library().url_cleanup(u); }
};
struct MdDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdDeleter>;

std::string hex(const unsigned char* p, unsigned n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

MdCtx new_md(const EVP_MD* md) {
    MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        throw Error(ErrorKind::kInternal, "cannot initialise a digest");
    return ctx;
}

std::string finish_md(EVP_MD_CTX* ctx) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestFinal_ex(ctx, buf, &n) != 1)
        throw Error(ErrorKind::kInternal, "cannot finish a digest");
    return hex(buf, n);
}

struct Expected {
    std::string algorithm;  // "sha256", ...
    std::string hex;
    const EVP_MD* md = nullptr;
};

Expected parse_checksum(std::string_view text) {
    Expected e;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos)
        throw Error(ErrorKind::kUsage, "invalid checksum '" + std::string(text) +
                                           "': expected <algorithm>:<hex>, e.g. sha256:...");
    e.algorithm = std::string(text.substr(0, colon));
    e.hex = std::string(text.substr(colon + 1));
    size_t want = 0;
    if (e.algorithm == "sha256") {
        e.md = EVP_sha256();
        want = 64;
    } else if (e.algorithm == "sha384") {
        e.md = EVP_sha384();
        want = 96;
    } else if (e.algorithm == "sha512") {
        e.md = EVP_sha512();
        want = 128;
    } else {
        throw Error(ErrorKind::kUsage, "invalid checksum '" + std::string(text) +
                                           "': unsupported algorithm '" + e.algorithm + "'");
    }
    bool ok = e.hex.size() == want;
    for (char c : e.hex)
        ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok)
        throw Error(ErrorKind::kUsage, "invalid checksum '" + std::string(text) + "': expected " +
                                           std::to_string(want) + " lowercase hex digits");
    return e;
}

struct Sink {
    int fd = -1;
    EVP_MD_CTX* sha256 = nullptr;
    EVP_MD_CTX* check = nullptr;
    uint64_t size = 0;
    int write_errno = 0;
};

size_t on_data(char* data, size_t size, size_t nmemb, void* user) {
    auto* s = static_cast<Sink*>(user);
    const size_t n = size * nmemb;
    for (size_t off = 0; off < n;) {
        ssize_t w = ::write(s->fd, data + off, n - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            s->write_errno = errno;
            return 0;  // makes curl stop with CURLE_WRITE_ERROR
        }
        off += static_cast<size_t>(w);
    }
    EVP_DigestUpdate(s->sha256, data, n);
    if (s->check) EVP_DigestUpdate(s->check, data, n);
    s->size += n;
    return n;
}

// Removes the download unless disarmed.
struct FileGuard {
    std::filesystem::path path;
    ~FileGuard() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

}  // namespace

bool is_url_source(std::string_view source) {
    return source.starts_with("http://") || source.starts_with("https://");
}

std::string url_file_name(std::string_view url) {
    std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_library().url());
    if (!u) return "__unnamed__";
    const std::string s(url);
    if (curl_library().url_set(u.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK)
        return "__unnamed__";
    char* path = nullptr;
    if (curl_library().url_get(u.get(), CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK ||
        !path)
        return "__unnamed__";
    std::string p(path);
    curl_library().free(path);
    std::string base = go::path::base(p);
    if (base == "." || base == "/" || base.empty()) return "__unnamed__";
    return base;
}

FetchedUrl fetch_url(const std::string& url, const std::filesystem::path& dir,
                     const FetchOptions& options) {
    const std::string shown = frontend::redact_url_credentials(url);
    if (!is_url_source(url)) throw Error(ErrorKind::kUsage, "not an http(s) URL: " + shown);
    const std::string what = options.what.empty() ? "ADD " + shown : options.what;
    std::optional<Expected> expected;
    if (!options.checksum.empty()) expected = parse_checksum(options.checksum);

    std::string tmpl = (dir / "download-XXXXXX").string();
    UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
    if (!fd) throw system_error("create temporary file in", dir.string());
    FileGuard guard{tmpl};

    MdCtx sha = new_md(EVP_sha256());
    MdCtx check;
    if (expected) check = new_md(expected->md);
    Sink sink{fd.get(), sha.get(), check.get(), 0, 0};

    std::unique_ptr<CURL, CurlDeleter> curl(curl_library().easy_init());
    if (!curl) throw Error(ErrorKind::kInternal, "curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* c = curl.get();
    curl_library().easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_library().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_library().easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_library().easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_library().easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_library().easy_setopt(c, CURLOPT_FILETIME, 1L);
    curl_library().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_library().easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    curl_library().easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_library().easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
    if (options.total_timeout_s > 0)
        curl_library().easy_setopt(c, CURLOPT_TIMEOUT, options.total_timeout_s);
    curl_library().easy_setopt(c, CURLOPT_USERAGENT, "strata");
    curl_library().easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_library().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_library().easy_setopt(c, CURLOPT_WRITEDATA, &sink);

    CURLcode rc = curl_library().easy_perform(c);
    if (rc != CURLE_OK) {
        if (rc == CURLE_WRITE_ERROR && sink.write_errno != 0)
            throw system_error("write download of " + shown + " to", tmpl, sink.write_errno);
        std::string why = errbuf[0] ? errbuf : curl_library().easy_strerror(rc);
        throw Error(ErrorKind::kSystem, what + ": download failed: " + why);
    }
    long status = 0;
    curl_library().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300)
        throw Error(status == 404 ? ErrorKind::kNotFound : ErrorKind::kSystem,
                    what + ": invalid response status " + std::to_string(status));

    FetchedUrl out;
    out.url = url;
    out.file_name = url_file_name(url);
    out.size = sink.size;
    out.sha256 = "sha256:" + finish_md(sha.get());
    curl_off_t filetime = -1;
    if (curl_library().easy_getinfo(c, CURLINFO_FILETIME_T, &filetime) == CURLE_OK && filetime >= 0)
        out.last_modified = static_cast<int64_t>(filetime);
    if (expected) {
        std::string got = finish_md(check.get());
        if (got != expected->hex)
            throw Error(ErrorKind::kCorrupt, what + ": checksum mismatch: expected " +
                                                 expected->algorithm + ":" + expected->hex +
                                                 ", got " + expected->algorithm + ":" + got);
    }
    out.file = tmpl;
    guard.path.clear();
    return out;
}

void verify_checksum(const FetchedUrl& fetched, const std::string& checksum) {
    if (checksum.empty()) return;
    Expected expected = parse_checksum(checksum);
    UniqueFd fd(::open(fetched.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", fetched.file.string());
    MdCtx md = new_md(expected.md);
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", fetched.file.string());
        }
        if (n == 0) break;
        EVP_DigestUpdate(md.get(), buf, static_cast<size_t>(n));
    }
    std::string got = finish_md(md.get());
    if (got != expected.hex)
        throw Error(ErrorKind::kCorrupt, "ADD " + frontend::redact_url_credentials(fetched.url) +
                                             ": checksum mismatch: expected " + expected.algorithm +
                                             ":" + expected.hex + ", got " + expected.algorithm +
                                             ":" + got);
}

}  // namespace strata::executor
