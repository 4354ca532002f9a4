// Where `strata build` reads its input (docs/build.md): CONTEXT is a
// directory, a Git URL, an HTTP(S) URL of a tarball or of a Dockerfile, or
// "-" for stdin; -f names the Dockerfile. Remote named contexts (Git, HTTP)
// are fetched here too, before the build starts, each as a vertex of its own.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/temp_dir.hpp"
#include "executor/copy/git_source.hpp"
#include "executor/progress.hpp"
#include "frontend/git_url.hpp"
#include "store/image_store.hpp"

namespace strata::cli {

// The build's context and Dockerfile, and what keeps them alive.
struct BuildInput {
    std::filesystem::path context_dir;
    // A directory strata made (stdin, a download, a checkout): removed after
    // the build, so never answered from the build summary or stat cache.
    bool context_is_temporary = false;
    // .dockerignore applies to local and stdin contexts only: BuildKit
    // applies none to a Git or HTTP context.
    bool context_dockerignore = true;
    std::optional<TempDir> temp_context;  // stdin or a download, unpacked
    std::optional<executor::GitCheckout> git;
    std::string shown;  // a remote context's URL (credentials as xxxxx); "<stdin>"
    std::string dockerfile_text;
    std::string dockerfile_name;
    std::filesystem::path dockerfile_path;  // empty when read from stdin
};

struct InputSpec {
    std::string context;        // the CONTEXT argument
    std::string file;           // -f: "", "-", a path
    bool keep_git_dir = false;  // BUILDKIT_CONTEXT_KEEP_GIT_DIR
};

// Reads CONTEXT and the Dockerfile; a remote context is fetched under the
// store's tmp/ as "[internal] load git source URL" or "[internal] load
// remote build context" (vertex ids from ++ids). Error(kUsage) for a missing
// path or Dockerfile, a download or fetch failure as its own error.
BuildInput read_build_input(const InputSpec& spec, store::ImageStore& store,
                            executor::ProgressSink& progress, int& ids);

// A named context fetched for the build: `dir` is what it reads; the rest
// keeps it alive.
struct FetchedContext {
    std::filesystem::path dir;
    std::optional<executor::GitCheckout> git;
    std::optional<TempDir> download;
};

FetchedContext fetch_git_context(const frontend::GitRef& ref, store::ImageStore& store,
                                 executor::ProgressSink& progress, int& ids);

// `--build-context NAME=https://…` that is no Git repository: as BuildKit,
// the download itself, as the file "context" (mode 0600, its Last-Modified
// time), is the context — not unpacked.
FetchedContext fetch_http_context(const std::string& name, const std::string& url,
                                  store::ImageStore& store, executor::ProgressSink& progress,
                                  int& ids);

}  // namespace strata::cli
