#include "executor/copy/git_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <vector>

#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "base/in_root.hpp"
#include "base/run_program.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace strata::executor {

namespace {

namespace fs = std::filesystem;

bool is_hex(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
}

// A full commit name: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
bool is_commit(std::string_view s) {
    return (s.size() == 40 || s.size() == 64) && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string percent_decoded(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s.substr(i + 1, 2))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

// urlutil.RedactCredentials: the password of scheme://user:password@host
// becomes "xxxxx"; so does a lone user name of an HTTP(S) URL, which is
// where a token goes (https://TOKEN@host/...). An ssh user stays.
std::string redacted(std::string url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const size_t start = scheme + 3;
    const size_t end = url.find_first_of("/?#", start);
    const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < start) return url;
    const size_t colon = url.find(':', start);
    if (colon != std::string::npos && colon < at)
        return url.replace(colon + 1, at - colon - 1, "xxxxx");
    std::string proto = url.substr(0, scheme);
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (proto == "http" || proto == "https") return url.replace(start, at - start, "xxxxx");
    return url;
}

void apply_query(GitRef& g, std::string_view query) {
    std::map<std::string, std::vector<std::optional<std::string>>> values;
    size_t start = 0;
    while (start <= query.size()) {
        const size_t amp = query.find('&', start);
        const std::string_view part = query.substr(
            start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        if (!part.empty()) {
            const size_t eq = part.find('=');
            const std::string key = percent_decoded(part.substr(0, eq));
            values[key].push_back(eq == std::string_view::npos
                                      ? std::nullopt
                                      : std::optional(percent_decoded(part.substr(eq + 1))));
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    auto one = [&](const std::string& key, bool bare_ok) -> std::optional<std::string> {
        const auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        if (it->second.size() > 1)
            throw Error(ErrorKind::kUsage, fmt::format("query \"{}\" has multiple values", key));
        const auto& v = it->second.front();
        if (!v || v->empty()) {
            if (bare_ok) return std::string();
            throw Error(ErrorKind::kUsage, fmt::format("query \"{}\" has no value", key));
        }
        return *v;
    };
    for (const auto& entry : values) {
        const std::string& key = entry.first;
        static const char* known[] = {"ref",      "tag",    "branch",       "subdir",
                                      "checksum", "commit", "keep-git-dir", "submodules"};
        if (std::none_of(std::begin(known), std::end(known),
                         [&](const char* k) { return key == k; }))
            throw Error(ErrorKind::kUsage, fmt::format("unexpected query \"{}\"", key));
    }
    auto set_ref = [&](const std::string& r) {
        if (!g.ref.empty() && g.ref != r)
            throw Error(ErrorKind::kUsage,
                        fmt::format("ref conflicts: \"{}\" vs \"{}\"", g.ref, r));
        g.ref = r;
    };
    const auto tag = one("tag", false), branch = one("branch", false), ref = one("ref", false);
    if (tag && branch) throw Error(ErrorKind::kUsage, "branch conflicts with tag");
    if (ref) set_ref(*ref);
    if (tag) set_ref(tag->rfind("refs/tags/", 0) == 0 ? *tag : "refs/tags/" + *tag);
    if (branch) set_ref(branch->rfind("refs/heads/", 0) == 0 ? *branch : "refs/heads/" + *branch);
    if (const auto subdir = one("subdir", false)) {
        if (!g.subdir.empty() && g.subdir != *subdir)
            throw Error(ErrorKind::kUsage,
                        fmt::format("subdir conflicts: \"{}\" vs \"{}\"", g.subdir, *subdir));
        g.subdir = *subdir;
    }
    auto checksum = one("checksum", false);
    if (const auto commit = one("commit", false)) checksum = commit;
    if (checksum) {
        if (!is_hex(*checksum))
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid checksum {} for Git URL, expected hex commit hash",
                                    *checksum));
        g.checksum = *checksum;
        if (g.ref.empty()) g.ref = *checksum;
    }
    if (const auto keep = one("keep-git-dir", true)) {
        const auto b = keep->empty() ? std::optional(true) : go::strconv::parse_bool(*keep);
        if (!b)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid keep-git-dir value: \"{}\"", *keep));
        g.keep_git_dir = *b;
    }
    if (const auto sub = one("submodules", true)) {
        const auto b = sub->empty() ? std::optional(true) : go::strconv::parse_bool(*sub);
        if (!b)
            throw Error(ErrorKind::kUsage, fmt::format("invalid submodules value: \"{}\"", *sub));
        g.submodules = *b;
    }
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
    Git(fs::path work, const GitRef& ref, const std::function<void(std::string_view)>& log)
        : work_(std::move(work)),
          remote_(ref.remote),
          shown_remote_(redacted(ref.remote)),
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

// BuildKit's order for a name that is not a commit: refs/<ref> as given,
// then a branch, then a tag (git checkout prefers branches as well).
std::optional<std::string> pick_ref(const std::string& ref, const std::string& listing) {
    std::map<std::string, std::string> refs;  // name → object
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

std::optional<GitRef> parse_git_ref(std::string_view text) {
    const std::string s(text);
    if (s.rfind("./", 0) == 0 || s.rfind("../", 0) == 0) return std::nullopt;
    const size_t hash = s.find('#');
    const std::string fragment = hash == std::string::npos ? "" : s.substr(hash + 1);
    std::string remote = s.substr(0, hash);
    const size_t q = remote.find('?');
    const std::string query = q == std::string::npos ? "" : remote.substr(q + 1);
    remote = remote.substr(0, q);

    static const std::regex scheme_re("^([a-zA-Z0-9]+)://([^/]*)(.*)$");
    // user@host:path (never an option: the user starts with a letter or digit).
    static const std::regex scp_re("^([a-zA-Z0-9][a-zA-Z0-9_-]*)@([a-zA-Z0-9.-]+):(.*)$");
    std::smatch m;
    if (remote.rfind("github.com/", 0) == 0) {
        remote = "https://" + remote;
    } else if (std::regex_match(remote, m, scheme_re)) {
        std::string scheme = m[1];
        std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (scheme == "http" || scheme == "https") {
            if (!std::string(m[3]).ends_with(".git")) return std::nullopt;
        } else if (scheme != "ssh" && scheme != "git") {
            return std::nullopt;
        }
    } else if (!std::regex_match(remote, m, scp_re)) {
        return std::nullopt;
    }

    GitRef g;
    g.remote = remote;
    g.shown = redacted(s);
    const size_t colon = fragment.find(':');
    g.ref = fragment.substr(0, colon);
    if (colon != std::string::npos) g.subdir = fragment.substr(colon + 1);
    if (!query.empty()) apply_query(g, query);
    if (g.ref.rfind('-', 0) == 0)
        throw Error(ErrorKind::kUsage, fmt::format("invalid refspec: {}", g.ref));
    return g;
}

GitCheckout fetch_git(const GitRef& ref, const fs::path& tmp_parent,
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
        const auto name = pick_ref(ref.ref, listing.out);
        if (!name)
            throw Error(ErrorKind::kNotFound,
                        fmt::format("repository does not contain ref {}, output: \"{}\"", ref.ref,
                                    trimmed(listing.out)));
        git.must({"fetch", "--depth=1", "--no-tags", "--force", "origin", *name}, fetch_failed);
        git.must({"checkout", "-q", "--detach", "FETCH_HEAD"}, "git checkout");
    }
    GitCheckout out{std::move(dir), work,
                    trimmed(git.must({"rev-parse", "HEAD"}, "git rev-parse").out)};
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

}  // namespace strata::executor
