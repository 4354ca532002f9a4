#include "containers/container_copy.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "base/temp_dir.hpp"
#include "containers/container_record.hpp"
#include "containers/image_layers.hpp"
#include "containers/volume_store.hpp"
#include "sandbox/user_namespace.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_writer.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

// --- a descriptor made by a child process ------------------------------------

void send_fd(int sock, int fd, const std::string& error) {
    char byte = fd >= 0 ? 'F' : 'E';
    struct iovec iov[2] = {{&byte, 1}, {const_cast<char*>(error.data()), error.size()}};
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = error.empty() ? 1 : 2;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

// Runs `make` in a forked child (its namespaces are its own business) and
// returns the descriptor it made. `make` returns a descriptor or throws.
// With `channel` the child then waits until `*channel` (the socket's other
// end) is closed, and `*helper` is its pid; otherwise it is waited for here.
UniqueFd fd_from_child(const std::function<int()>& make, std::string_view what,
                       UniqueFd* channel = nullptr, pid_t* helper = nullptr) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        throw system_error("socketpair", what);
    UniqueFd parent_end(sv[0]), child_end(sv[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) throw system_error("fork", what);
    if (pid == 0) {
        parent_end.reset();
        int code = 0;
        try {
            const int fd = make();
            send_fd(child_end.get(), fd, "");
            if (channel) {
                for (;;) {
                    char b;
                    const ssize_t r = ::read(child_end.get(), &b, 1);
                    if (r == 0 || (r < 0 && errno != EINTR)) break;
                }
            }
        } catch (const std::exception& e) {
            send_fd(child_end.get(), -1, e.what());
            code = 1;
        }
        ::_exit(code);
    }
    child_end.reset();
    char buf[4096];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    while ((n = ::recvmsg(parent_end.get(), &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    int status = 0;
    if (channel && n > 0 && buf[0] == 'F') {
        *channel = std::move(parent_end);
        *helper = pid;
    } else {
        parent_end.reset();
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    UniqueFd got;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
            got.reset(fd);
        }
    if (n > 0 && buf[0] == 'F' && got) return got;
    const std::string why = n > 1 ? std::string(buf + 1, static_cast<size_t>(n - 1))
                                  : fmt::format("the helper process ended with status {}", status);
    throw Error(ErrorKind::kSystem, fmt::format("{}: {}", what, why));
}

long fsconfig(int fd, unsigned cmd, const char* key, const char* value) {
    return ::syscall(SYS_fsconfig, fd, cmd, key, value, 0);
}

// In the child, for a stopped container's volumes and binds: the overlay
// (`mfd`: a detached mount, or the directory it is mounted on) attached
// inside a tmpfs of this private namespace, each bind mounted on its target
// there, the overlay's root opened. The child keeps the namespace (and so
// the binds) alive while the copy runs.
int attach_with_binds(int mfd, const std::vector<CopyBind>& binds, const fs::path& upper) {
    // The sources first: the tmpfs below may hide them.
    std::vector<UniqueFd> trees;
    for (const auto& b : binds) {
        UniqueFd tree(::open_tree(AT_FDCWD, b.source.c_str(),
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
        if (!tree) throw system_error("open_tree", b.source.string());
        if (b.read_only) {
            struct mount_attr attr {};
            attr.attr_set = MOUNT_ATTR_RDONLY;
            if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) !=
                0)
                throw system_error("make read-only", b.source.string());
        }
        trees.push_back(std::move(tree));
    }
    if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700") != 0)
        throw system_error("mount a private tmpfs on", "/tmp");
    if (::mkdir("/tmp/root", 0700) != 0) throw system_error("mkdir", "/tmp/root");
    if (::move_mount(mfd, "", AT_FDCWD, "/tmp/root", MOVE_MOUNT_F_EMPTY_PATH) != 0)
        throw system_error("attach the overlay of", upper.string());
    const int root = ::open("/tmp/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) throw system_error("open the overlay of", upper.string());
    for (size_t i = 0; i < binds.size(); ++i) {
        // The mount point, made in the container as the sandbox makes it.
        UniqueFd target = make_dirs_in_root(root, binds[i].target);
        if (!target) throw system_error("make the mount point", binds[i].target);
        if (::move_mount(trees[i].get(), "", target.get(), "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
            throw system_error("mount " + binds[i].source.string() + " on", binds[i].target);
    }
    return root;
}

// In the child: the overlay as a detached mount (fsopen/fsmount), else
// mounted on a scratch directory of this private namespace and opened.
int make_overlay(const std::vector<fs::path>& lower, const fs::path& upper, const fs::path& work,
                 bool user_xattr, const std::vector<CopyBind>& binds) {
    if (::unshare(CLONE_NEWNS) != 0) throw system_error("unshare", "a mount namespace");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw system_error("make private", "/");
    const int fsfd = static_cast<int>(::syscall(SYS_fsopen, "overlay", 1 /* FSOPEN_CLOEXEC */));
    if (fsfd >= 0) {
        bool ok = true;
        // "lowerdir+" adds below the ones given before: the topmost first.
        for (auto l = lower.rbegin(); ok && l != lower.rend(); ++l)
            ok = fsconfig(fsfd, 1 /* FSCONFIG_SET_STRING */, "lowerdir+", l->c_str()) == 0;
        ok = ok && fsconfig(fsfd, 1, "upperdir", upper.c_str()) == 0 &&
             fsconfig(fsfd, 1, "workdir", work.c_str()) == 0;
        // The sandbox's options (runtime/init_mounts.cpp, mount_overlay).
        fsconfig(fsfd, 1, "redirect_dir", user_xattr ? "nofollow" : "off");
        fsconfig(fsfd, 1, "metacopy", "off");
        if (user_xattr)
            ok = ok && fsconfig(fsfd, 0 /* FSCONFIG_SET_FLAG */, "userxattr", nullptr) == 0;
        if (ok && fsconfig(fsfd, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr) == 0) {
            const int mfd =
                static_cast<int>(::syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */, 0));
            if (mfd < 0) throw system_error("fsmount overlay of", upper.string());
            if (!binds.empty()) return attach_with_binds(mfd, binds, upper);
            const int root = ::openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (root < 0) throw system_error("open the overlay of", upper.string());
            return root;
        }
        const int err = errno;
        ::close(fsfd);
        if (err == EBUSY)
            throw Error(ErrorKind::kConflict,
                        fmt::format("the container's layer {} is in use by another mount (is "
                                    "the container starting?)",
                                    upper.string()));
    }
    // Kernels before 6.8 ("lowerdir+"): the mount(2) option string.
    std::string opts = "lowerdir=";
    for (auto l = lower.rbegin(); l != lower.rend(); ++l)
        opts += (l == lower.rbegin() ? "" : ":") + l->string();
    opts += ",upperdir=" + upper.string() + ",workdir=" + work.string();
    if (user_xattr) opts += ",userxattr";
    char target[] = "/tmp/strata-cp-XXXXXX";
    if (!::mkdtemp(target)) throw system_error("mkdtemp", target);
    if (::mount("overlay", target, "overlay", 0, opts.c_str()) != 0) {
        const int err = errno;
        ::rmdir(target);
        throw system_error("mount overlay of", upper.string(), err);
    }
    if (!binds.empty()) {
        const int mfd = ::open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0) throw system_error("open the overlay of", upper.string());
        return attach_with_binds(mfd, binds, upper);
    }
    const int root = ::open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const int err = errno;
    ::umount2(target, MNT_DETACH);  // the descriptor keeps the mount alive
    ::rmdir(target);
    if (root < 0) throw system_error("open the overlay of", upper.string(), err);
    return root;
}

int enter_root(pid_t pid) {
    const std::string ns = fmt::format("/proc/{}/ns/", pid);
    UniqueFd user(::open((ns + "user").c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd mnt(::open((ns + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
    if (!mnt) throw system_error("open", ns + "mnt");
    struct stat theirs {
    }, ours{};
    if (user && ::fstat(user.get(), &theirs) == 0 && ::stat("/proc/self/ns/user", &ours) == 0 &&
        theirs.st_ino != ours.st_ino && ::setns(user.get(), CLONE_NEWUSER) != 0)
        throw system_error("setns", ns + "user");
    if (::setns(mnt.get(), CLONE_NEWNS) != 0) throw system_error("setns", ns + "mnt");
    const int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) throw system_error("open", "the container's /");
    return root;
}

// --- paths ---------------------------------------------------------------------

bool ends_with_dot(std::string_view p) {
    return p == "." || p.ends_with("/.");
}

bool asserts_dir(std::string_view p) {
    return p.ends_with('/') || ends_with_dot(p);
}

std::string base_name(const std::string& clean) {
    const size_t slash = clean.rfind('/');
    return slash == std::string::npos ? clean : clean.substr(slash + 1);
}

// A host path without trailing slashes ("dir/" → "dir", "/" stays).
std::string trim_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/')
        p.pop_back();
    return p;
}

std::string proc_fd(int fd) {
    return fmt::format("/proc/self/fd/{}", fd);
}

void check_reachable(const std::string& path, const CopyOptions& opts) {
    const std::string clean = clean_in_root(path);
    for (const auto& target : opts.unreachable) {
        const std::string t = clean_in_root(target);
        if (clean == t || clean.starts_with(t == "/" ? t : t + "/"))
            throw Error(ErrorKind::kUsage,
                        fmt::format("{} is inside the volume or bind mount at {} of container "
                                    "{}, which is mounted only while it runs: start the "
                                    "container, or copy to or from the mount's source on the host",
                                    path, t, opts.container_name));
    }
}

[[noreturn]] void not_found_in_container(const std::string& path, const CopyOptions& opts) {
    throw Error(ErrorKind::kNotFound, fmt::format("Could not find the file {} in container {}",
                                                  path, opts.container_name));
}

// What is copied: the object itself, opened.
struct Source {
    UniqueFd fd;  // a directory O_RDONLY|O_DIRECTORY, anything else O_PATH
    struct stat st {};
    std::string base;  // its name in the archive when not renamed: "." for "DIR/."
    std::string shown;
    std::set<std::string> exclude;  // a directory's entries left out (relative)
};

Source finish_source(UniqueFd fd, bool want_dir, std::string base, std::string shown) {
    Source s;
    if (::fstat(fd.get(), &s.st) != 0) throw system_error("stat", shown);
    if (want_dir && !S_ISDIR(s.st.st_mode))
        throw Error(ErrorKind::kUsage, fmt::format("{}: not a directory", shown));
    if (S_ISDIR(s.st.st_mode)) {
        s.fd = UniqueFd(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!s.fd) throw system_error("open", shown);
    } else {
        s.fd = std::move(fd);
    }
    s.base = std::move(base);
    s.shown = std::move(shown);
    return s;
}

Source container_source(int root, const std::string& path, const CopyOptions& opts) {
    check_reachable(path, opts);
    const std::string clean = clean_in_root(path);
    const bool dot = ends_with_dot(path) || clean == "/";
    const bool follow = opts.follow_link || asserts_dir(path) || clean == "/";
    UniqueFd fd;
    if (follow) {
        fd = open_in_root(root, clean, O_PATH | O_CLOEXEC);
    } else {
        InRootParent parent = open_parent_in_root(root, clean, false);
        if (parent.dir)
            fd = UniqueFd(
                ::openat(parent.dir.get(), parent.leaf.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) not_found_in_container(path, opts);
        throw system_error("open", fmt::format("{} in container {}", path, opts.container_name));
    }
    Source s = finish_source(std::move(fd), asserts_dir(path), dot ? "." : base_name(clean),
                             fmt::format("{}:{}", opts.container_name, path));
    if (opts.live && S_ISDIR(s.st.st_mode))
        for (const char* p : {"/proc", "/sys"}) {
            const std::string pseudo = p;
            const std::string prefix = clean == "/" ? "/" : clean + "/";
            if (pseudo.starts_with(prefix)) s.exclude.insert(pseudo.substr(prefix.size()));
        }
    return s;
}

Source host_source(const std::string& path, bool follow_link) {
    const std::string trimmed = trim_slashes(path);
    const bool follow = follow_link || asserts_dir(path);
    UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
    if (!fd && errno == ENOTDIR)
        throw Error(ErrorKind::kUsage, fmt::format("{}: not a directory", path));
    if (!fd) throw system_error("lstat", path);
    std::string base = ends_with_dot(path) || trimmed == "/" ? "." : base_name(trimmed);
    if (base.empty() || base == "..") base = ".";
    return finish_source(std::move(fd), asserts_dir(path), base, path);
}

// Where it goes: the directory the archive is extracted into, and the name
// the copied entry takes there.
struct Dest {
    UniqueFd dir;  // O_RDONLY | O_DIRECTORY
    std::string name;
    std::string shown;
};

Dest place(UniqueFd existing, UniqueFd parent, const std::string& leaf, const Source& src,
           const std::string& path, const std::string& shown,
           const std::function<void()>& parent_missing) {
    Dest d;
    d.shown = shown;
    if (existing) {
        struct stat st {};
        if (::fstat(existing.get(), &st) != 0) throw system_error("stat", shown);
        if (S_ISDIR(st.st_mode)) {
            d.dir = UniqueFd(::openat(existing.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!d.dir) throw system_error("open", shown);
            d.name = src.base;
            return d;
        }
        if (asserts_dir(path))
            throw Error(ErrorKind::kUsage, fmt::format("{}: not a directory", shown));
        if (S_ISDIR(src.st.st_mode))
            throw Error(ErrorKind::kUsage,
                        fmt::format("cannot copy directory {} to the file {}", src.shown, shown));
    } else if (asserts_dir(path) && !S_ISDIR(src.st.st_mode)) {
        throw Error(ErrorKind::kNotFound,
                    fmt::format("{}: no such directory (a file is copied into an existing "
                                "directory only)",
                                shown));
    }
    if (!parent) parent_missing();
    d.dir = UniqueFd(::openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.dir) throw system_error("open the directory of", shown);
    d.name = leaf;
    return d;
}

Dest container_dest(int root, const std::string& path, const Source& src, const CopyOptions& opts) {
    check_reachable(path, opts);
    const std::string clean = clean_in_root(path);
    UniqueFd existing = open_in_root(root, clean, O_PATH | O_CLOEXEC);
    if (!existing && errno != ENOENT)
        throw system_error("open", fmt::format("{} in container {}", path, opts.container_name));
    InRootParent parent;
    if (!existing || clean != "/") parent = open_parent_in_root(root, clean, false);
    const std::string shown = fmt::format("{}:{}", opts.container_name, path);
    return place(std::move(existing), std::move(parent.dir), parent.leaf, src, path, shown, [&] {
        not_found_in_container(
            clean.substr(0, clean.rfind('/')).empty() ? "/" : clean.substr(0, clean.rfind('/')),
            opts);
    });
}

Dest host_dest(const std::string& path, const Source& src) {
    UniqueFd existing(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!existing && errno != ENOENT) throw system_error("stat", path);
    const std::string trimmed = trim_slashes(path);
    const size_t slash = trimmed.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : trimmed.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
    UniqueFd parent(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    return place(std::move(existing), std::move(parent), leaf, src, path, path,
                 [&] { throw system_error("stat", dir); });
}

// --- the archive ---------------------------------------------------------------

// Writes `src` as a tar whose entries are named `name` (and name/... for a
// directory) to `sink`.
void archive_source(const Source& src, const std::string& name, const fs::path& scratch_parent,
                    const store::ByteSink& sink) {
    store::LayerWriteOptions lw;
    lw.compression = store::Compression::kNone;
    if (S_ISDIR(src.st.st_mode)) {
        lw.name_prefix = name;
        lw.exclude = src.exclude;
        store::write_layer_to(proc_fd(src.fd.get()), sink, lw);
        return;
    }
    std::error_code ec;
    fs::create_directories(scratch_parent, ec);
    TempDir scratch = TempDir::create(scratch_parent, "cp-");
    std::vector<store::LayerFile> files;
    const struct stat& st = src.st;
    if (S_ISREG(st.st_mode)) {
        store::LayerFile f;
        f.name = name;
        f.st = st;
        f.st.st_nlink = 1;
        f.shown = src.shown;
        const int fd = src.fd.get();
        const std::string shown = src.shown;
        f.open = [fd, shown] {
            store::LayerFileSource s;
            s.data = UniqueFd(::open(proc_fd(fd).c_str(), O_RDONLY | O_CLOEXEC));
            if (!s.data) throw system_error("open", shown);
            s.xattrs = UniqueFd(::dup(s.data.get()));
            return s;
        };
        files.push_back(std::move(f));
    } else {
        // A symlink, device or fifo: made again in the scratch directory.
        const int dir = ::open(scratch.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        UniqueFd dirfd(dir);
        if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 256, '\0');
            const ssize_t n = ::readlinkat(src.fd.get(), "", target.data(), target.size());
            if (n < 0) throw system_error("readlink", src.shown);
            target.resize(static_cast<size_t>(n));
            if (::symlinkat(target.c_str(), dirfd.get(), name.c_str()) != 0)
                throw system_error("symlink", src.shown);
        } else if (::mknodat(dirfd.get(), name.c_str(), st.st_mode, st.st_rdev) != 0) {
            throw system_error("mknod (a copy of)", src.shown);
        }
        ::fchownat(dirfd.get(), name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        ::utimensat(dirfd.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    store::write_layer_to(scratch.path(), files, sink, lw);
    scratch.remove();
}

void send_all(int fd, const void* data, size_t n, std::string_view what) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        const ssize_t v = w < 0 && errno == ENOTSOCK ? ::write(fd, p, n) : w;
        if (v < 0) {
            if (errno == EINTR) continue;
            throw system_error("write", what);
        }
        p += v;
        n -= static_cast<size_t>(v);
    }
}

void extract(int tar_fd, const Dest& dest, bool same_owner) {
    store::ApplyOptions ao;
    ao.whiteouts = store::WhiteoutMode::kApply;
    ao.same_owner = same_owner;
    ao.compute_diff_id = false;
    store::apply_layer(tar_fd, proc_fd(dest.dir.get()), ao);
}

// Archives `src` under `dest.name` and extracts it into `dest.dir`, the two
// ends joined by a socket (the writer on a thread of its own).
void transfer(const Source& src, const Dest& dest, bool same_owner,
              const fs::path& scratch_parent) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw system_error("socketpair", "copy");
    UniqueFd reader(sv[0]), writer(sv[1]);
    std::exception_ptr failed;
    std::thread producer([&] {
        try {
            archive_source(src, dest.name, scratch_parent, [&](const void* d, size_t n) {
                send_all(writer.get(), d, n, "the copy stream");
            });
        } catch (...) {
            failed = std::current_exception();
        }
        ::shutdown(writer.get(), SHUT_WR);
    });
    std::exception_ptr extract_failed;
    try {
        extract(reader.get(), dest, same_owner);
    } catch (...) {
        extract_failed = std::current_exception();
        ::shutdown(reader.get(), SHUT_RDWR);
    }
    producer.join();
    if (failed) std::rethrow_exception(failed);
    if (extract_failed) std::rethrow_exception(extract_failed);
}

}  // namespace

ContainerRoot ContainerRoot::mount_overlay(const std::vector<fs::path>& lower,
                                           const fs::path& upper, const fs::path& work,
                                           bool user_xattr, const std::vector<CopyBind>& binds) {
    UniqueFd channel;
    pid_t helper = -1;
    UniqueFd fd = fd_from_child([&] { return make_overlay(lower, upper, work, user_xattr, binds); },
                                "mount the container's filesystem",
                                binds.empty() ? nullptr : &channel, &helper);
    ContainerRoot root(std::move(fd), false);
    root.channel_ = std::move(channel);
    root.helper_ = helper;
    return root;
}

ContainerRoot::ContainerRoot(ContainerRoot&& other) noexcept
    : fd_(std::move(other.fd_)),
      live_(other.live_),
      helper_(std::exchange(other.helper_, -1)),
      channel_(std::move(other.channel_)) {}

ContainerRoot::~ContainerRoot() {
    fd_.reset();
    channel_.reset();
    if (helper_ > 0)
        while (::waitpid(helper_, nullptr, 0) < 0 && errno == EINTR) {
        }
}

ContainerRoot ContainerRoot::enter(pid_t pid) {
    UniqueFd fd = fd_from_child([&] { return enter_root(pid); },
                                fmt::format("enter the mount namespace of process {}", pid));
    return ContainerRoot(std::move(fd), true);
}

std::optional<ContainerPath> split_container_path(std::string_view arg) {
    if (arg.starts_with('/')) return std::nullopt;
    const size_t colon = arg.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view container = arg.substr(0, colon);
    if (container.starts_with('.')) return std::nullopt;
    return ContainerPath{std::string(container), std::string(arg.substr(colon + 1))};
}

void copy_out(int root_fd, const std::string& src, const std::string& dest, int out_fd,
              const CopyOptions& opts) {
    const Source s = container_source(root_fd, src, opts);
    if (dest == "-") {
        archive_source(s, s.base, opts.scratch_parent,
                       [&](const void* d, size_t n) { send_all(out_fd, d, n, "standard output"); });
        return;
    }
    const Dest d = host_dest(dest, s);
    // Copied out, files belong to the caller unless -a keeps their owners.
    transfer(s, d, opts.archive, opts.scratch_parent);
}

void copy_in(int root_fd, const std::string& src, int in_fd, const std::string& dest,
             const CopyOptions& opts) {
    if (opts.read_only)
        throw Error(ErrorKind::kUsage,
                    fmt::format("container rootfs is marked read-only: cannot copy into "
                                "container {}",
                                opts.container_name));
    if (src == "-") {
        check_reachable(dest, opts);
        const std::string clean = clean_in_root(dest);
        UniqueFd dir = open_in_root(root_fd, clean, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!dir) {
            if (errno == ENOTDIR)
                throw Error(ErrorKind::kUsage,
                            fmt::format("destination \"{}:{}\" must be a directory",
                                        opts.container_name, dest));
            not_found_in_container(dest, opts);
        }
        Dest d;
        d.dir = std::move(dir);
        extract(in_fd, d, opts.archive);
        return;
    }
    const Source s = host_source(src, opts.follow_link);
    const Dest d = container_dest(root_fd, dest, s, opts);
    // Copied in, files belong to the container's root unless -a keeps theirs.
    transfer(s, d, opts.archive, opts.scratch_parent);
}

ContainerRoot open_container_root(store::ImageStore& store, const Container& c,
                                  std::vector<std::string>* unreachable) {
    if (c.state.status == Status::kRunning && c.state.pid > 0)
        return ContainerRoot::enter(c.state.pid);
    // Volumes made already and bind sources that are directories are mounted
    // for the copy; a volume made on first start, a file bind or a missing
    // source cannot be.
    std::vector<CopyBind> binds;
    VolumeStore volumes(store.root());
    for (const auto& m : c.spec.mounts) {
        std::optional<fs::path> source;
        if (m.type == MountSpec::Type::kVolume) {
            if (auto v = volumes.find(m.source)) source = v->mountpoint();
        } else if (m.type == MountSpec::Type::kBind) {
            source = m.source;
        } else {
            continue;  // no tmpfs while it is stopped: the copy goes to its layer, as Docker's
        }
        std::error_code ec;
        if (source && fs::is_directory(*source, ec))
            binds.push_back({*source, m.target, m.read_only});
        else if (unreachable)
            unreachable->push_back(m.target);
    }
    const auto image = store.image(store::Digest::parse(c.spec.image_manifest));
    if (!image)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("the image of container {} ({}) is no longer in the store",
                                c.short_id(), c.spec.image_name));
    const std::vector<fs::path> lower = image_layer_dirs(store, *image);
    std::error_code ec;
    fs::create_directories(c.work(), ec);
    return ContainerRoot::mount_overlay(lower, c.upper(), c.work(), sandbox::in_user_namespace(),
                                        binds);
}

}  // namespace strata::containers
