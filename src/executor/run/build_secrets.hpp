// `strata build --secret` and `--ssh`: where the values of
// `RUN --mount=type=secret` and the agents of `RUN --mount=type=ssh` come
// from, with buildx's flag syntax and BuildKit's rules (docs/build.md
// "Secrets and SSH").
//
// A secret's value is read from its file or variable only when a RUN step
// that mounts it actually runs, and held in memory only: it never reaches
// the store, a temporary file, a cache key, a record or a message.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace strata::executor {

// Reads an environment variable; nullopt when it is not set (set but empty
// is a value). The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// BuildKit's limit on one secret (MaxSecretSize).
inline constexpr size_t kMaxSecretSize = 500 * 1024;

// One --secret flag: id=ID[,src=FILE|,env=VAR][,type=file|env].
struct SecretSource {
    std::string id;
    std::string file;  // src= / source=
    std::string env;   // env=
    bool operator==(const SecretSource&) const = default;
};

// Parses a --secret value as buildx does (CSV fields; `type=env` turns
// src= into the variable's name). Throws Error(kUsage) naming the field's
// key only, never a value.
SecretSource parse_secret_flag(std::string_view spec);

// The secrets of one build, by id (a later --secret with the same id wins).
class SecretStore {
  public:
    SecretStore() = default;
    // Applies BuildKit's rules up front: an id with neither src= nor env=
    // is the variable of that name when it is set, else the file of that
    // name; a file must exist and be at most kMaxSecretSize. Throws
    // Error(kUsage) otherwise (naming the id and path).
    explicit SecretStore(const std::vector<SecretSource>& sources, EnvLookup env = process_env);

    bool has(const std::string& id) const { return sources_.count(id) != 0; }
    // The value of secret `id`, read now; nullopt when no --secret named it.
    std::optional<std::string> value(const std::string& id) const;
    // The source after the rules above (for messages and tests).
    const SecretSource* source(const std::string& id) const;

  private:
    std::map<std::string, SecretSource> sources_;
    EnvLookup env_;
};

// One --ssh flag: default | ID | ID=PATH[,PATH…] (agent socket or key files).
struct SshSource {
    std::string id;                  // "" means "default"
    std::vector<std::string> paths;  // empty: $SSH_AUTH_SOCK
    bool operator==(const SshSource&) const = default;
};

SshSource parse_ssh_flag(std::string_view spec);

// The ssh agents of one build, by id: a socket given (or $SSH_AUTH_SOCK)
// is used as it is; key files are loaded into an ssh-agent started for the
// build (`ssh-agent -D`, then `ssh-add`), which is stopped when this object
// goes away and killed with strata (PR_SET_PDEATHSIG) if strata dies first.
class SshAgents {
  public:
    SshAgents() = default;
    // Throws Error(kUsage) for a duplicate id, a missing path, an unset
    // $SSH_AUTH_SOCK, more than one socket or sockets mixed with keys;
    // Error(kSystem) when ssh-agent cannot be started or a key not loaded.
    explicit SshAgents(const std::vector<SshSource>& sources, EnvLookup env = process_env);
    SshAgents(SshAgents&&) noexcept;
    SshAgents& operator=(SshAgents&&) noexcept;
    ~SshAgents();

    // The host path of the agent socket for `id`; nullopt when no --ssh
    // gave it.
    std::optional<std::filesystem::path> socket(const std::string& id) const;

  private:
    struct Agent {  // an ssh-agent this build started
        pid_t pid = -1;
        std::optional<TempDir> dir;  // holds its socket (mode 0700)
        UniqueFd out;                // its stdout, kept open so that it never gets SIGPIPE
        std::filesystem::path socket;
    };
    void stop_all() noexcept;
    std::map<std::string, std::filesystem::path> sockets_;
    std::vector<Agent> started_;
};

}  // namespace strata::executor
