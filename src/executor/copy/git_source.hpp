// Git sources (docs/build.md, "Git contexts"): a build context or a named
// context given as a Git URL, as BuildKit reads one —
//   https://host/repo.git#ref:subdir, git://host/repo, git@host:repo,
//   ssh://host/repo, github.com/owner/repo (https), and the query form
//   ...repo.git?ref=R&subdir=D (also tag=, branch=, checksum=/commit=,
//   keep-git-dir, submodules=false).
// fetch_git() runs the system's git: a shallow fetch of the one commit, its
// submodules, the files checked out into a new directory (without .git
// unless asked for). git runs with the caller's environment (credentials,
// ssh agent and config are the user's, as for `docker build` with the
// classic CLI), never prompts, and refuses file:// remotes and submodules,
// so a repository cannot pull files of the machine in.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/temp_dir.hpp"

namespace strata::executor {

struct GitRef {
    std::string remote;    // what git fetches from ("github.com/x" becomes https://github.com/x)
    std::string ref;       // a branch, tag, full ref or full commit; empty: the default branch
    std::string subdir;    // inside the repository; empty: its root
    std::string checksum;  // a commit (or its prefix) the ref must resolve to; empty: none
    bool keep_git_dir = false;
    bool submodules = true;
    std::string shown;  // the URL as given, its password replaced by "xxxxx"
};

// BuildKit's ParseGitRef: nullopt when `text` is no Git URL (a local path, an
// HTTP URL whose path does not end in ".git", a file:// URL); Error(kUsage)
// for a Git URL whose fragment or query is wrong, in BuildKit's words.
std::optional<GitRef> parse_git_ref(std::string_view text);

struct GitCheckout {
    TempDir dir;                 // everything fetched; removed with the checkout
    std::filesystem::path root;  // the subdir's directory inside it
    std::string commit;
};

// Fetches and checks out `ref` under a new directory in `tmp_parent`.
// `log` gets git's output lines as they are known. Error(kNotFound) for a
// ref the repository does not have or a missing subdir, Error(kUsage) for a
// subdir outside the repository, Error(kSystem) when git fails (its own
// words included) or is not installed.
GitCheckout fetch_git(const GitRef& ref, const std::filesystem::path& tmp_parent,
                      const std::function<void(std::string_view)>& log);

}  // namespace strata::executor
