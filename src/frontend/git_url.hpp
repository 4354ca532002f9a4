// Git URLs as BuildKit reads them (dfgitutil.ParseGitRef): a build context,
// a named context or an ADD source given as
//   https://host/repo.git#ref:subdir, git://host/repo, git@host:repo,
//   ssh://host/repo, github.com/owner/repo (https), and the query form
//   ...repo.git?ref=R&subdir=D (also tag=, branch=, checksum=/commit=,
//   keep-git-dir, submodules=false).
// Syntax only; executor/copy/git_source fetches.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::frontend {

struct GitRef {
    std::string remote;    // what git fetches from ("github.com/x" becomes https://github.com/x)
    std::string ref;       // a branch, tag, full ref or full commit; empty: the default branch
    std::string subdir;    // inside the repository; empty: its root
    std::string checksum;  // a commit (or its prefix) the ref must resolve to; empty: none
    bool keep_git_dir = false;
    bool submodules = true;
    // "github.com/owner/repo": also a fine local path, so never a Git source
    // of ADD or COPY (BuildKit's IndistinguishableFromLocal).
    bool indistinguishable_from_local = false;
    std::string shown;  // the URL as given, a password or an HTTP user name as "xxxxx"
};

// nullopt when `text` is no Git URL (a local path, an HTTP URL whose path
// does not end in ".git", a file:// URL); Error(kUsage) for a Git URL whose
// fragment or query is wrong, in BuildKit's words, and for a ref that starts
// with '-'.
std::optional<GitRef> parse_git_ref(std::string_view text);

// Whether an ADD or COPY source is a Git URL (also one parse_git_ref
// refuses), "github.com/..." excepted: that one is a path, as in BuildKit.
bool is_git_url(std::string_view text);

// urlutil.RedactCredentials, and more: the password of
// scheme://user:password@host becomes "xxxxx", and so does a lone user name
// of an HTTP(S) URL, which is where a token goes. An ssh user stays.
std::string redact_url_credentials(std::string url);

}  // namespace strata::frontend
