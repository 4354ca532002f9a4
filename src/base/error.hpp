// strata::Error — the one exception type that crosses layer boundaries.
//
// Every error carries a category (so the CLI can pick an exit code and tests
// can assert on the kind of failure) and a message that already names the
// thing that went wrong: a `file:line:col`, a path with the failed syscall
// and errno, a registry URL and status.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace strata {

enum class ErrorKind {
    kUsage,     // bad flag or argument on the command line
    kParse,     // bad Dockerfile, .dockerignore, JSON, tarball, ...
    kNotFound,  // an image, a blob, a file that should exist does not
    kConflict,  // e.g. rmi of an image still referenced by another name
    kCorrupt,   // digest mismatch, truncated data, broken store state
    kSystem,    // a syscall failed: message holds the operation, path and errno text
    kInternal,  // a bug in strata
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

  private:
    ErrorKind kind_;
};

// Builds a kSystem error from errno: "<op> '<path>': <strerror(errno)>".
[[nodiscard]] Error system_error(std::string_view op, std::string_view path, int err);
[[nodiscard]] Error system_error(std::string_view op, std::string_view path);  // uses errno

}  // namespace strata
