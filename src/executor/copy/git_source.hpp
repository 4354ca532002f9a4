// Fetching a Git source (a build context, a named context; the URL's syntax
// is frontend/git_url's): the system's git makes a shallow fetch of the one
// commit, its submodules, the files checked out into a new directory
// (without .git unless asked for). git runs with the caller's environment
// (credentials, ssh agent and config are the user's, as for `docker build`
// with the classic CLI), never prompts, and refuses file:// and ext::
// remotes and submodules, so a repository cannot pull files of the machine
// in. A password or token in the URL never reaches a log or an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/temp_dir.hpp"
#include "frontend/git_url.hpp"

namespace strata::executor {

struct GitCheckout {
    TempDir dir;                 // everything fetched; removed with the checkout
    std::filesystem::path root;  // the subdir's directory inside it
    std::string commit;
    int64_t commit_time = 0;  // the committer's, in seconds since 1970
};

// Fetches and checks out `ref` under a new directory in `tmp_parent`.
// `log` gets git's output lines as they are known. Error(kNotFound) for a
// ref the repository does not have or a missing subdir, Error(kUsage) for a
// subdir outside the repository, Error(kSystem) when git fails (its own
// words included) or is not installed.
GitCheckout fetch_git(const frontend::GitRef& ref, const std::filesystem::path& tmp_parent,
                      const std::function<void(std::string_view)>& log);

// The commit `ref` names now, asked of the remote without fetching (`git
// ls-remote`; none for a full commit), run in `cwd`: what an ADD <git url>'s
// cache key holds, so that a cached step costs one round trip.
std::string resolve_git_commit(const frontend::GitRef& ref, const std::filesystem::path& cwd);

// ADD <git url>: the key of the source `url` with the step's --keep-git-dir,
// and its checkout (git's output dropped; a --checksum is checked by the
// caller).
std::string git_checkout_key(const std::string& url, bool keep_git_dir);
GitCheckout fetch_git_url(const std::string& url, bool keep_git_dir,
                          const std::filesystem::path& tmp_parent);

}  // namespace strata::executor
