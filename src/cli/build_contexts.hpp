// `strata build --build-context NAME=VALUE` (docs/build.md): named contexts
// as buildx passes them to BuildKit. VALUE is a local directory, a Git URL,
// an HTTP(S) URL (the downloaded file) or docker-image://REF; oci-layout://
// and target: sources are refused with a message that says so.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/git_url.hpp"
#include "planner/planner.hpp"

namespace strata::cli {

struct BuildContexts {
    std::map<std::string, planner::NamedContext> named;  // by key, for the planner
    std::map<std::string, std::filesystem::path> dirs;   // the local ones, by key
    std::map<std::string, frontend::GitRef> git;         // Git ones, by key: to fetch
    std::map<std::string, std::string> http;             // HTTP(S) ones, by key: to download

    void forget(const std::string& key);  // from dirs, git and http (a later NAME wins)
};

// The key a name is known by, as buildx and BuildKit normalize it: the
// familiar reference without ":latest" ("docker.io/library/alpine:latest"
// → "alpine"); nullopt for text that is no image reference.
std::optional<std::string> context_key(const std::string& name);

// Parses the flag's values in order (a later NAME wins); Error(kUsage) for
// a malformed one, a name that is no reference, a missing directory or a
// source strata cannot read. Fetches nothing.
BuildContexts parse_build_contexts(const std::vector<std::string>& specs);

}  // namespace strata::cli
