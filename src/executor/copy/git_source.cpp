#include "executor/copy/git_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "base/run_program.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace strata::executor {

namespace {

namespace fs = std::filesystem;

// A full commit name: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
bool is_commit(std::string_view s) {
    return (s.size() == 40 || s.size() == 64) && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// The caller's environment, with git told never to prompt and to speak C.
std::vector<std::string> git_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view kv(*e);
        if (kv.starts_with("GIT_TERMINAL_PROMPT=") || kv.starts_with("LC_ALL=")) continue;
        env.emplace_back(kv);
    }
    env.emplace_back("GIT_TERMINAL_PROMPT=0");
    env.emplace_back("LC_ALL=C");
    return env;
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

// The last lines of what git said, for an error.
std::string tail(const std::string& text) {
    std::string t = trimmed(text);
    size_t pos = t.size();
    for (int lines = 0; lines < 10 && pos != std::string::npos && pos > 0; ++lines)
        pos = t.rfind('\n', pos - 1);
    return pos == std::string::npos || pos == 0 ? t : t.substr(pos + 1);
}

class Git {
  public:
    Git(fs::path work, const frontend::GitRef& ref,
        const std::function<void(std::string_view)>& log)
        : work_(std::move(work)),
          remote_(ref.remote),
          shown_remote_(frontend::redact_url_credentials(ref.remote)),
          log_(log),
          env_(git_environment()) {}

    ProgramResult operator()(std::vector<std::string> args) const {
        ProgramRun run;
        run.program = "git";
        // No file:// remote or submodule (a repository naming a path of this
        // machine), no ext:: helper command.
        run.args = {"-c", "protocol.file.allow=never", "-c", "protocol.ext.allow=never"};
        run.args.insert(run.args.end(), args.begin(), args.end());
        run.env = env_;
        run.cwd = work_;
        ProgramResult r;
        try {
            r = run_program(run);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::kNotFound)
                throw Error(ErrorKind::kNotFound,
                            "a Git context needs git, which is not installed (not found in PATH; "
                            "Debian: apt-get install git)");
            throw;
        }
        // What git says may repeat the URL: never with its credentials.
        for (std::string* text : {&r.err, &r.out}) {
            if (remote_ != shown_remote_) {
                for (size_t p = text->find(remote_); p != std::string::npos;
                     p = text->find(remote_, p + shown_remote_.size()))
                    text->replace(p, remote_.size(), shown_remote_);
            }
        }
        for (const std::string* text : {&r.err, &r.out}) {
            size_t start = 0;
            while (start < text->size()) {
                const size_t end = text->find_first_of("\r\n", start);
                const std::string_view line = std::string_view(*text).substr(
                    start, end == std::string::npos ? std::string::npos : end - start);
                if (!trimmed(std::string(line)).empty()) log_(line);
                if (end == std::string::npos) break;
                start = end + 1;
            }
        }
        return r;
    }

    // Runs git; throws "<what>: git stderr: ..." when it fails.
    ProgramResult must(std::vector<std::string> args, const std::string& what) const {
        ProgramResult r = (*this)(std::move(args));
        if (!r.succeeded())
            throw Error(ErrorKind::kSystem, fmt::format("{}: git stderr:\n{}", what,
                                                        tail(r.err.empty() ? r.out : r.err)));
        return r;
    }

  private:
    fs::path work_;
    std::string remote_, shown_remote_;
    const std::function<void(std::string_view)>& log_;
    std::vector<std::string> env_;
};

// `git ls-remote` output: ref name → object.
std::map<std::string, std::string> parse_listing(const std::string& listing) {
    std::map<std::string, std::string> refs;
    size_t start = 0;
    while (start < listing.size()) {
        const size_t end = listing.find('\n', start);
        const std::string line =
            listing.substr(start, end == std::string::npos ? end : end - start);
        const size_t tab = line.find('\t');
        if (tab != std::string::npos) refs[line.substr(tab + 1)] = line.substr(0, tab);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return refs;
}

// BuildKit's order for a name that is not a commit: refs/<ref> as given,
// then a branch, then a tag (git checkout prefers branches as well).
std::optional<std::string> pick_ref(const std::string& ref,
                                    const std::map<std::string, std::string>& refs) {
    std::vector<std::string> candidates;
    if (ref.rfind("refs/", 0) == 0) {
        candidates = {ref};
    } else {
        candidates = {"refs/" + ref, "refs/heads/" + ref, "refs/tags/" + ref};
    }
    for (const std::string& c : candidates)
        if (refs.count(c)) return c;
    return std::nullopt;
}

[[noreturn]] void no_such_ref(const std::string& ref, const std::string& listing) {
    throw Error(
        ErrorKind::kNotFound,
        fmt::format("repository does not contain ref {}, output: \"{}\"", ref, trimmed(listing)));
}

// Every ".git" below `root` (the repository's and its submodules'): git
// never tracks such a name, so none is a file of the repository.
void remove_git_dirs(const fs::path& root) {
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        if (it->path().filename() == ".git") {
            found.push_back(it->path());
            it.disable_recursion_pending();
        }
    }
    for (const fs::path& p : found)
        remove_tree(p);
}

}  // namespace

GitCheckout fetch_git(const frontend::GitRef& ref, const fs::path& tmp_parent,
                      const std::function<void(std::string_view)>& log) {
    TempDir dir = TempDir::create(tmp_parent, "git-");
    const fs::path work = dir.path() / "checkout";
    fs::create_directory(work);
    if (::chmod(work.c_str(), 0755) != 0) throw system_error("chmod", work.string());
    const Git git(work, ref, log);
    const std::string fetch_failed = fmt::format("failed to fetch remote {}", ref.shown);

    std::vector<std::string> init = {"init", "-q"};
    if (ref.ref.size() == 64 && is_commit(ref.ref)) init.push_back("--object-format=sha256");
    git.must(init, "git init");
    git.must({"remote", "add", "--", "origin", ref.remote}, fetch_failed);
    if (ref.ref.empty()) {
        git.must({"fetch", "--depth=1", "--no-tags", "origin", "HEAD"},
                 fmt::format("error fetching default branch for repository {}", ref.shown));
        git.must({"checkout", "-q", "--detach", "FETCH_HEAD"}, "git checkout");
    } else if (is_commit(ref.ref)) {
        // A server may refuse an object no ref names: then everything.
        if (!git({"fetch", "--depth=1", "--no-tags", "origin", ref.ref}).succeeded())
            git.must({"fetch", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"},
                     fetch_failed);
        if (!git({"cat-file", "-e", ref.ref + "^{commit}"}).succeeded())
            throw Error(ErrorKind::kNotFound,
                        fmt::format("repository does not contain ref {}", ref.ref));
        git.must({"checkout", "-q", "--detach", ref.ref}, "git checkout");
    } else {
        const ProgramResult listing =
            git.must({"ls-remote", "origin", ref.ref, ref.ref + "^{}"}, fetch_failed);
        const auto name = pick_ref(ref.ref, parse_listing(listing.out));
        if (!name) no_such_ref(ref.ref, listing.out);
        git.must({"fetch", "--depth=1", "--no-tags", "--force", "origin", *name}, fetch_failed);
        git.must({"checkout", "-q", "--detach", "FETCH_HEAD"}, "git checkout");
    }
    GitCheckout out{std::move(dir), work,
                    trimmed(git.must({"rev-parse", "HEAD"}, "git rev-parse").out)};
    const std::string time =
        trimmed(git.must({"show", "-s", "--format=%ct", "HEAD"}, "git show").out);
    try {
        out.commit_time = std::stoll(time);
    } catch (const std::exception&) {
        throw Error(ErrorKind::kSystem, fmt::format("git show: not a commit time: \"{}\"", time));
    }
    if (!ref.checksum.empty() && out.commit.rfind(ref.checksum, 0) != 0)
        throw Error(ErrorKind::kUsage,
                    fmt::format("expected checksum to match {}, got {}", ref.checksum, out.commit));
    if (ref.submodules && fs::exists(work / ".gitmodules"))
        git.must({"submodule", "update", "--init", "--recursive", "--depth=1"},
                 fmt::format("failed to update submodules for {}", ref.shown));
    if (!ref.keep_git_dir) remove_git_dirs(work);

    const std::string subdir = ref.subdir.empty() ? "." : ref.subdir;
    if (subdir != "." && subdir != "/") {
        UniqueFd root(::open(work.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw system_error("open", work.string());
        UniqueFd sub = open_in_root(root.get(), subdir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                                    InRootEscape::kRefuse);
        if (!sub) {
            if (errno == EXDEV)
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("error setting git context, \"{}\" not within git root", subdir));
            if (errno == ENOTDIR)
                throw Error(ErrorKind::kUsage,
                            fmt::format("error setting git context, not a directory: {}", subdir));
            throw Error(ErrorKind::kNotFound, fmt::format("failed to open subdir {}", subdir));
        }
        std::error_code ec;
        out.root = fs::read_symlink("/proc/self/fd/" + std::to_string(sub.get()), ec);
        if (ec) throw system_error("readlink", subdir);
    }
    return out;
}

std::string resolve_git_commit(const frontend::GitRef& ref, const fs::path& cwd) {
    if (is_commit(ref.ref)) return ref.ref;
    const std::function<void(std::string_view)> quiet = [](std::string_view) {};
    const Git git(cwd, ref, quiet);
    if (ref.ref.empty()) {
        const ProgramResult r =
            git.must({"ls-remote", ref.remote, "HEAD"},
                     fmt::format("error fetching default branch for repository {}", ref.shown));
        const auto refs = parse_listing(r.out);
        const auto head = refs.find("HEAD");
        if (head == refs.end())
            throw Error(ErrorKind::kNotFound,
                        fmt::format("could not find default branch for repository: {}", ref.shown));
        return head->second;
    }
    const ProgramResult r = git.must({"ls-remote", ref.remote, ref.ref, ref.ref + "^{}"},
                                     fmt::format("failed to fetch remote {}", ref.shown));
    const auto refs = parse_listing(r.out);
    const auto name = pick_ref(ref.ref, refs);
    if (!name) no_such_ref(ref.ref, r.out);
    const auto peeled = refs.find(*name + "^{}");  // an annotated tag's commit
    return peeled != refs.end() ? peeled->second : refs.at(*name);
}

std::string git_checkout_key(const std::string& url, bool keep_git_dir) {
    return url + (keep_git_dir ? "\n--keep-git-dir" : "");
}

GitCheckout fetch_git_url(const std::string& url, bool keep_git_dir, const fs::path& tmp_parent) {
    std::optional<frontend::GitRef> ref = frontend::parse_git_ref(url);
    if (!ref) throw Error(ErrorKind::kInternal, "not a Git URL: " + url);
    ref->keep_git_dir = ref->keep_git_dir || keep_git_dir;
    return fetch_git(*ref, tmp_parent, [](std::string_view) {});
}

}  // namespace strata::executor
