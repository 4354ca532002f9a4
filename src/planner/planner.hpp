// plan_build(): typed Dockerfile AST + build args + target → BuildPlan.
//
// Follows BuildKit's dockerfile2llb: global ARGs (before the first FROM)
// are visible to FROM lines only and inside a stage only after `ARG NAME`;
// --build-arg overrides declared defaults; ARG and ENV share one ordered
// environment per stage where the later assignment wins; the base image's
// Env is where a stage starts; undeclared proxy args reach RUN only; the
// platform args are global and need `ARG X` in a stage; ONBUILD triggers of
// the base run first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/instructions.hpp"
#include "planner/build_plan.hpp"

namespace strata::planner {

// The executor's side of image resolution: FROM IMAGE, COPY --from=IMAGE and
// RUN --mount=from=IMAGE. Throw strata::Error (kNotFound, …) when the image
// cannot be had; the planner adds the Dockerfile location.
class ImageResolver {
  public:
    virtual ~ImageResolver() = default;
    virtual BaseImage resolve(const std::string& ref, const Platform& platform) = 0;
};

// A `--build-context NAME=VALUE` (docs/build.md): what FROM NAME, COPY
// --from=NAME and RUN --mount=from=NAME read instead of the stage or image of
// that name.
struct NamedContext {
    enum class Kind { kLocal, kImage, kScratch };
    Kind kind = Kind::kLocal;  // kLocal: a directory the executor knows by the name
    std::string image;         // kImage: the reference after docker-image://
};

struct PlanOptions {
    std::string target;                             // --target; empty = last stage
    std::map<std::string, std::string> build_args;  // resolved (see resolve_build_args)
    bool no_cache = false;                          // --no-cache
    std::vector<std::string> no_cache_filter;       // --no-cache-filter STAGE (repeatable)
    Platform build_platform = host_platform();
    Platform target_platform = host_platform();
    std::string source_text;  // the Dockerfile's bytes, for error excerpts (optional)
    // `build --network`: the network of RUN steps that do not name one
    // ("" = the default; "host", "none"). Part of their cache keys.
    std::string default_network;
    // --build-context, by the name's key (context_key of the name given).
    std::map<std::string, NamedContext> named_contexts;
    // The key a reference is looked up by, as BuildKit's: the familiar form
    // without ":latest" ("docker.io/library/alpine:latest" → "alpine");
    // nullopt for text that is no reference. Unset: the text itself.
    std::function<std::optional<std::string>(const std::string&)> context_key;
    // SOURCE_DATE_EPOCH=context: the committer time of a Git build context;
    // nullopt for a local one, where "context" sets no epoch (as BuildKit).
    std::optional<int64_t> context_time;
};

// --build-arg values in command-line order ("K=V", or "K" to take K from
// the environment, as the docker CLI does: dropped when K is unset there).
// Later values win.
std::map<std::string, std::string> resolve_build_args(
    const std::vector<std::string>& cli_values,
    const std::function<std::optional<std::string>(const std::string&)>& getenv);

// The proxy args Docker passes to RUN without a declaration.
bool is_proxy_arg(std::string_view name);

// What BuildKit's ExecOp puts in a RUN's environment for the proxy build
// args: names matched without regard to case (when two spellings are given,
// the one sorting last wins, as in BuildKit), each value under both the upper-
// and the lower-case name, in the order HTTP, HTTPS, FTP, NO, ALL.
std::vector<EnvVar> proxy_env_from_build_args(const std::map<std::string, std::string>& args);

// Build args BuildKit itself reads (platform args, TARGETSTAGE, proxies,
// BUILDKIT_*, SOURCE_DATE_EPOCH): never reported as "not consumed".
bool is_builtin_arg(std::string_view name);

// Plans the build. Throws frontend::ParseError (located in the Dockerfile)
// for errors that belong to a line: undefined or forward stage references,
// cycles, bad substitutions, `${X:?msg}`, invalid --chmod, EXPOSE, STOPSIGNAL,
// platforms; strata::Error(kUsage) for an unknown --target.
BuildPlan plan_build(const frontend::Dockerfile& dockerfile, const PlanOptions& options,
                     ImageResolver& images);

}  // namespace strata::planner
