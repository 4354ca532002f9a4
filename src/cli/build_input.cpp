#include "cli/build_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/in_root_read.hpp"
#include "base/unique_fd.hpp"
#include "executor/copy/copy.hpp"
#include "executor/copy/url_fetch.hpp"
#include "store/image_store_io.hpp"
#include "store/layer_reader.hpp"

namespace strata::cli {
namespace {

namespace fs = std::filesystem;

std::string read_stream(int fd, const std::string& what) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", what);
        }
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

bool is_http_url(const std::string& s) {
    return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// The Dockerfile of a context strata made (stdin, Git, HTTP): -f - is stdin
// and an absolute -f a local file (buildx reads those on the client); any
// other -f, or the default "Dockerfile" (with BuildKit's fallback to
// "dockerfile"), is read inside the context, never following a link out.
void read_dockerfile_in(const std::string& file, BuildInput& in) {
    if (file == "-") {
        in.dockerfile_text = read_stream(STDIN_FILENO, "standard input");
        in.dockerfile_name = "Dockerfile";
        return;
    }
    if (!file.empty() && fs::path(file).is_absolute()) {
        in.dockerfile_path = file;
        in.dockerfile_name = file;
        in.dockerfile_text = store::read_whole_file(file);
        return;
    }
    const std::string first = file.empty() ? std::string("Dockerfile") : file;
    std::vector<std::string> names{first};
    if (go::path::base(first) == "Dockerfile") {
        const fs::path dir = fs::path(first).parent_path();
        names.push_back(dir.empty() ? "dockerfile" : (dir / "dockerfile").string());
    }
    UniqueFd root(::open(in.context_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw system_error("open the build context", in.context_dir.string());
    for (const std::string& name : names) {
        if (auto text = read_file_in_root(root.get(), name, name)) {
            in.dockerfile_path = in.context_dir / name;
            in.dockerfile_name = name;
            in.dockerfile_text = std::move(*text);
            return;
        }
    }
    throw Error(ErrorKind::kUsage,
                fmt::format("failed to read dockerfile: {} is not a file in {}", first, in.shown));
}

// A file that holds a context: a tar (plain or compressed) is unpacked into
// a new directory of the store's tmp/ as the context, its entries kept
// inside it. Returns false, having done nothing, when it is no tar.
bool unpack_context(const fs::path& file, store::ImageStore& store, BuildInput& in) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", file.string());
    if (!executor::is_tar_archive(fd.get())) return false;
    in.temp_context = TempDir::create(store.tmp_dir(), "context-");
    in.context_dir = in.temp_context->path();
    store::ApplyOptions ao;
    ao.same_owner = false;  // context files land as root unless --chown says otherwise
    try {
        store::apply_layer(fd.get(), in.context_dir, ao);
    } catch (const Error& e) {
        throw Error(e.kind(),
                    fmt::format("reading the build context from {}: {}", in.shown, e.what()));
    }
    return true;
}

// Copies stdin to a file: the tar detection looks at it twice.
void spool_stdin(const fs::path& file) {
    UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) throw system_error("create", file.string());
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", "standard input");
        }
        if (n == 0) break;
        write_all(out.get(), buf, static_cast<size_t>(n), file.string());
    }
}

// `CONTEXT` is "-": stdin holds a tar of the context (any compression), or
// a Dockerfile alone (then the context is empty), as docker build allows.
void read_stdin_context(const InputSpec& spec, store::ImageStore& store, BuildInput& in) {
    if (spec.file == "-")
        throw Error(ErrorKind::kUsage,
                    "invalid argument: can't use stdin for both build context and dockerfile");
    in.shown = "<stdin>";
    in.context_is_temporary = true;
    TempDir spool = TempDir::create(store.tmp_dir(), "stdin-");
    const fs::path file = spool.path() / "input";
    spool_stdin(file);
    if (unpack_context(file, store, in)) return read_dockerfile_in(spec.file, in);
    if (!spec.file.empty())
        throw Error(ErrorKind::kUsage,
                    "the build context on stdin is not a tar archive, so -f cannot name a "
                    "Dockerfile inside it");
    in.temp_context = TempDir::create(store.tmp_dir(), "context-");
    in.context_dir = in.temp_context->path();
    in.dockerfile_text = store::read_whole_file(file);
    in.dockerfile_name = "Dockerfile";
}

// Downloads `url` into a new directory of the store's tmp/ as the file
// "context" (mode 0600, the response's Last-Modified as its time), as
// BuildKit's HTTP source with the file name "context".
TempDir download_context(const std::string& url, const std::string& vertex_name,
                         store::ImageStore& store, executor::ProgressSink& progress, int& ids) {
    const std::string shown = frontend::redact_url_credentials(url);
    executor::Vertex v(progress, ++ids, vertex_name);
    try {
        TempDir dir = TempDir::create(store.tmp_dir(), "download-");
        executor::FetchOptions fo;
        fo.what = "load build context " + shown;
        const executor::FetchedUrl got = executor::fetch_url(url, dir.path(), fo);
        const fs::path file = dir.path() / "context";
        if (::rename(got.file.c_str(), file.c_str()) != 0)
            throw system_error("rename", got.file.string());
        if (got.last_modified) {
            const timespec times[2] = {{*got.last_modified, 0}, {*got.last_modified, 0}};
            if (::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                throw system_error("set the time of", file.string());
        }
        v.log(fmt::format("{} bytes, {}", got.size, got.sha256));
        v.done();
        return dir;
    } catch (const Error& e) {
        v.failed(e.what());
        throw;
    }
}

// An HTTP(S) CONTEXT that is no Git repository, as BuildKit reads one: a
// tar (plain, gzip, bzip2, xz, zstd) is unpacked as the context; anything
// else is the Dockerfile, and the context holds just that file ("context").
void read_http_context(const InputSpec& spec, store::ImageStore& store,
                       executor::ProgressSink& progress, int& ids, BuildInput& in) {
    in.shown = frontend::redact_url_credentials(spec.context);
    in.context_is_temporary = true;
    in.context_dockerignore = false;
    TempDir download = download_context(spec.context, "[internal] load remote build context", store,
                                        progress, ids);
    const fs::path file = download.path() / "context";
    if (unpack_context(file, store, in)) return read_dockerfile_in(spec.file, in);
    if (!spec.file.empty() && spec.file != "-" && !fs::path(spec.file).is_absolute())
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} is no tar archive, so it is the Dockerfile: -f cannot name "
                                "another inside it",
                                in.shown));
    in.context_dir = download.path();
    in.temp_context = std::move(download);
    if (!spec.file.empty()) return read_dockerfile_in(spec.file, in);
    in.dockerfile_text = store::read_whole_file(file);
    in.dockerfile_name = in.shown;
}

// A local directory: its own Dockerfile (docker's CLI falls back to a
// lower-case "dockerfile") read inside it — the context may be a repository
// nobody reviewed; a Dockerfile the user named is their choice, read where
// it is.
void read_local_context(const InputSpec& spec, BuildInput& in) {
    in.context_dir = spec.context;
    if (spec.file == "-") {
        in.dockerfile_text = read_stream(STDIN_FILENO, "standard input");
        in.dockerfile_name = "Dockerfile";
        return;
    }
    if (spec.file.empty()) {
        UniqueFd root(::open(spec.context.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw system_error("open the build context", spec.context);
        for (const char* name : {"Dockerfile", "dockerfile"}) {
            if (auto text = read_file_in_root(root.get(), name, name)) {
                in.dockerfile_path = fs::path(spec.context) / name;
                in.dockerfile_name = in.dockerfile_path.lexically_normal().string();
                in.dockerfile_text = std::move(*text);
                return;
            }
        }
        throw Error(ErrorKind::kUsage,
                    fmt::format("unable to prepare context: unable to evaluate the Dockerfile "
                                "path: \"{}\" is not a file in the context",
                                (fs::path(spec.context) / "Dockerfile").string()));
    }
    const fs::path df = spec.file;
    std::error_code ec;
    if (!fs::is_regular_file(df, ec))
        throw Error(ErrorKind::kUsage,
                    fmt::format("unable to prepare context: unable to evaluate the Dockerfile "
                                "path: \"{}\" is not a file",
                                df.string()));
    in.dockerfile_path = df;
    in.dockerfile_name = df.lexically_normal().string();
    in.dockerfile_text = store::read_whole_file(df);
}

}  // namespace

FetchedContext fetch_git_context(const frontend::GitRef& ref, store::ImageStore& store,
                                 executor::ProgressSink& progress, int& ids) {
    executor::Vertex v(progress, ++ids, "[internal] load git source " + ref.shown);
    try {
        FetchedContext out;
        out.git.emplace(executor::fetch_git(ref, store.tmp_dir(),
                                            [&v](std::string_view line) { v.log(line); }));
        v.log(fmt::format("checked out {}", out.git->commit));
        v.done();
        out.dir = out.git->root;
        return out;
    } catch (const Error& e) {
        v.failed(e.what());
        throw;
    }
}

FetchedContext fetch_http_context(const std::string& name, const std::string& url,
                                  store::ImageStore& store, executor::ProgressSink& progress,
                                  int& ids) {
    FetchedContext out;
    out.download = download_context(
        url, fmt::format("[context {}] {}", name, frontend::redact_url_credentials(url)), store,
        progress, ids);
    out.dir = out.download->path();
    return out;
}

BuildInput read_build_input(const InputSpec& spec, store::ImageStore& store,
                            executor::ProgressSink& progress, int& ids) {
    BuildInput in;
    if (spec.context == "-") {
        read_stdin_context(spec, store, in);
        return in;
    }
    std::error_code ec;
    if (fs::is_directory(spec.context, ec)) {
        read_local_context(spec, in);
        return in;
    }
    if (auto git = frontend::parse_git_ref(spec.context)) {
        git->keep_git_dir = git->keep_git_dir || spec.keep_git_dir;
        FetchedContext fetched = fetch_git_context(*git, store, progress, ids);
        in.git = std::move(fetched.git);
        in.shown = git->shown;
        in.context_dir = in.git->root;
        in.context_is_temporary = true;
        in.context_dockerignore = false;
        read_dockerfile_in(spec.file, in);
        return in;
    }
    if (is_http_url(spec.context)) {
        read_http_context(spec, store, progress, ids, in);
        return in;
    }
    throw Error(ErrorKind::kUsage, fmt::format("unable to prepare context: path \"{}\" not found",
                                               frontend::redact_url_credentials(spec.context)));
}

}  // namespace strata::cli
