// ADD <http(s) URL>: downloads with libcurl into a file, hashing as it goes.
//
// As BuildKit: the file name is the last element of the URL's path
// ("__unnamed__" when there is none), the file mode is 0600, the mtime is the
// response's Last-Modified when present, redirects are followed (http and
// https only), and any status but 2xx is an error. `--checksum=<algo>:<hex>`
// (sha256, sha384, sha512) is verified; a mismatch is an error naming both
// digests and the URL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace strata::executor {

// True for http:// and https:// sources (ADD only).
bool is_url_source(std::string_view source);

// The name BuildKit gives a downloaded file: path.Base of the URL's decoded
// path, or "__unnamed__".
std::string url_file_name(std::string_view url);

struct FetchOptions {
    std::string checksum;         // "sha256:<hex>" etc.; empty = no check
    long connect_timeout_s = 30;  // per connection attempt
    long stall_timeout_s = 60;    // abort when no byte arrives for this long
    long total_timeout_s = 0;     // 0 = no overall limit
    // How errors name the download; empty: "ADD <url>". The URL in errors
    // never shows a password (frontend::redact_url_credentials).
    std::string what;
};

struct FetchedUrl {
    std::string url;
    std::string file_name;       // url_file_name(url)
    std::filesystem::path file;  // the downloaded bytes
    std::string sha256;          // "sha256:<hex>" of the content (for cache keys)
    uint64_t size = 0;
    std::optional<int64_t> last_modified;  // seconds since the epoch
};

// Downloads `url` into a new file in `dir` (which must exist). Throws
// strata::Error: kUsage for a bad URL or checksum, kNotFound for HTTP 404,
// kSystem for other HTTP and network failures, kCorrupt for a checksum
// mismatch (the file is removed then).
FetchedUrl fetch_url(const std::string& url, const std::filesystem::path& dir,
                     const FetchOptions& options = {});

// Checks an earlier download against `checksum` (as fetch_url does);
// kCorrupt naming both digests on a mismatch.
void verify_checksum(const FetchedUrl& fetched, const std::string& checksum);

}  // namespace strata::executor
