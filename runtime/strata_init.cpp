// strata-init — PID 1 of a container (a RUN step, `strata run`), and the
// process that enters a running one (`strata exec`).
//
// strata's sandbox (src/sandbox/) starts this program as the first process of
// fresh mount, PID, IPC, UTS and cgroup namespaces (and a network namespace
// unless the host's is used), inside the container's cgroup, with the
// descriptor of a JSON spec (a memfd) as its only argument. It
//
//   1. mounts the container: the overlay of the layers on the rootfs mount
//      point (upper = the directory that becomes the step's layer), /proc, a
//      small /dev (null, zero, full, random, urandom, tty, pts, shm, mqueue),
//      /sys read-only, /etc/hosts and /etc/resolv.conf read-only, the
//      mounts (bind sources resolved inside their own roots, never on the
//      host), secrets from memfds on a tmpfs, heredoc scripts under
//      /dev/pipes;
//   2. pivots into it and detaches the old root, masks and makes read-only
//      the /proc and /sys paths Docker does;
//   3. forks the command as the user (groups, uid, gid) with Docker's
//      capabilities in all five sets, Docker's seccomp profile, Docker's
//      RLIMIT_NOFILE, no descriptor of strata's but 0-2, the environment,
//      in its working directory (made when missing), stdin /dev/null or
//      the caller's 0-2, or a pseudo-terminal made here (below);
//   4. forwards every signal it can catch to it (all but SIGKILL, SIGSTOP,
//      SIGCHLD and the ones a fault raises), reaps every orphan, and exits
//      with the command's status (128 + the signal when it was killed).
//      Leaving PID 1 ends the namespace: the kernel kills whatever is left,
//      and the mounts go with the last process.
//
// Privileged ("privileged"): all capabilities, no seccomp, the host's device
// nodes made in /dev, /sys read-write, nothing masked. A read-only root
// ("read_only_root") is remounted read-only once everything is mounted.
//
// A terminal ("tty"): after the mounts, the master of a new pseudo-terminal
// is opened on the container's own devpts (/dev/pts/ptmx), its window size
// set, and the master sent to strata over the socket the spec names
// (SCM_RIGHTS, runc's --console-socket design); the command's child makes
// the slave its controlling terminal (setsid, TIOCSCTTY) and its 0, 1, 2.
//
// Exec mode ("exec"): no new namespaces; this process joins those of a
// running container through a pidfd (setns), enters its root (fchdir +
// chroot on /proc/PID/root, opened by strata), forks the command into its
// PID namespace and runs it exactly as above (user from the container's
// /etc/passwd, capabilities, seccomp, rlimits, cwd, environment), then
// forwards signals and exits with its status. The command gets SIGKILL when
// this process dies (it lives as long as the `strata exec` that made it).
//
// Setup errors are written to fd 3 (when open) as one line naming the
// operation and the path, and the exit status is 125; "command not found"
// is 127, "not executable" 126, as a shell would say.
//
// A separate, statically linked program with no dependency on the rest of
// strata: it runs after pivot_root, where nothing of the host is visible.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/in_root.hpp"
#include "seccomp_load.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

int g_status_fd = 3;
// Rootless: strata runs in a user namespace of its own (spec "rootless").
bool g_rootless = false;
// Docker's --privileged (spec "privileged").
bool g_privileged = false;

[[noreturn]] void die(const std::string& what, int err = errno, int code = 125) {
    std::string msg = what;
    if (err) msg += std::string(": ") + std::strerror(err);
    if (g_rootless && err == EPERM)
        msg +=
            " (refused in the user namespace of rootless strata; run strata as root, or see "
            "docs/run.md, \"Rootless\")";
    msg += "\n";
    if (::write(g_status_fd, msg.data(), msg.size()) < 0) {
        // No status pipe: say it on stderr instead.
        if (::write(2, msg.data(), msg.size()) < 0) {
        }
    }
    _exit(code);
}

void do_mount(const char* src, const std::string& target, const char* type, unsigned long flags,
              const char* data = nullptr) {
    if (::mount(src, target.c_str(), type, flags, data) != 0)
        die(std::string("mount ") + (type ? type : "bind") + " on " + target);
}

// --- the process user, resolved as runc does ---------------------------------

std::vector<std::vector<std::string>> read_colon_file(const std::string& path) {
    std::vector<std::vector<std::string>> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields;
        size_t i = 0;
        for (;;) {
            size_t j = line.find(':', i);
            fields.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
            if (j == std::string::npos) break;
            i = j + 1;
        }
        out.push_back(std::move(fields));
    }
    return out;
}

bool parse_id(const std::string& s, uint32_t& out) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const unsigned long long v = std::stoull(s);
    if (v > 0xFFFFFFFFull) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

struct User {
    uint32_t uid = 0, gid = 0;
    std::vector<gid_t> groups;
    std::string home = "/";
};

// USER user[:group] in the container's /etc/passwd and /etc/group: a name
// must be there; a numeric uid that is not runs with gid 0 and HOME "/";
// supplementary groups are those /etc/group lists the user name in.
User resolve_user(const std::string& spec) {
    User u;
    const size_t colon = spec.find(':');
    std::string name = spec.substr(0, colon);
    const std::string group = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
    if (name.empty()) name = "0";
    uint32_t uid = 0;
    const bool numeric = parse_id(name, uid);
    const auto passwd = read_colon_file("/etc/passwd");
    const std::vector<std::string>* entry = nullptr;
    for (const auto& f : passwd) {
        uint32_t a = 0, b = 0;
        if (f.size() < 4 || !parse_id(f[2], a) || !parse_id(f[3], b)) continue;
        if (numeric ? a == uid : f[0] == name) {
            entry = &f;
            break;
        }
    }
    if (!numeric && !entry)
        die("unable to find user " + name + ": no matching entries in passwd file", 0);
    if (entry) {
        parse_id((*entry)[2], u.uid);
        parse_id((*entry)[3], u.gid);
        if (entry->size() > 5 && !(*entry)[5].empty()) u.home = (*entry)[5];
    } else {
        u.uid = uid;
    }
    const auto groups = read_colon_file("/etc/group");
    if (!group.empty()) {
        uint32_t gid = 0;
        if (parse_id(group, gid)) {
            u.gid = gid;
        } else {
            bool found = false;
            for (const auto& f : groups) {
                if (f.size() >= 3 && f[0] == group && parse_id(f[2], gid)) {
                    u.gid = gid;
                    found = true;
                    break;
                }
            }
            if (!found)
                die("unable to find group " + group + ": no matching entries in group file", 0);
        }
    }
    if (entry) {
        for (const auto& f : groups) {
            uint32_t gid = 0;
            if (f.size() < 4 || !parse_id(f[2], gid) || gid == u.gid) continue;
            std::stringstream members(f[3]);
            for (std::string m; std::getline(members, m, ',');) {
                if (m == (*entry)[0]) {
                    u.groups.push_back(gid);
                    break;
                }
            }
        }
    }
    return u;
}

// Tells strata a mount point file this init made, to be removed from the
// layer afterwards ("stub:<path>" lines on the status pipe; errors are any
// other line).
void report_stub(const std::string& path) {
    const std::string line = "stub:" + path + "\n";
    if (g_status_fd != 2 && ::write(g_status_fd, line.data(), line.size()) < 0) {
    }
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// mkdir -p, each new element 0755 root (inside the container's view).
void make_dirs(const std::string& path) {
    std::string cur;
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) {
        if (part.empty()) continue;
        cur += "/" + part;
        if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + cur);
    }
}

void touch(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) die("create " + path);
    ::close(fd);
}

// The overlay: the new mount API appends lower layers one at a time (no
// limit on their number); older kernels get a mount(2) option string with
// paths relative to the layers' common directory, to stay under its 4 KiB.
void mount_overlay(const json& spec, const std::string& target) {
    const auto lowers = spec.at("lower").get<std::vector<std::string>>();
    const std::string upper = spec.value("upper", std::string());
    const std::string work = spec.value("work", std::string());
    int fsfd = static_cast<int>(::syscall(SYS_fsopen, "overlay", 1 /* FSOPEN_CLOEXEC */));
    if (fsfd >= 0) {
        auto set = [&](const char* key, const std::string& value) {
            return ::syscall(SYS_fsconfig, fsfd, 1 /* FSCONFIG_SET_STRING */, key, value.c_str(),
                             0) == 0;
        };
        bool ok = true;
        for (const auto& l : lowers)
            ok = ok && set("lowerdir+", l);
        if (!upper.empty()) ok = ok && set("upperdir", upper) && set("workdir", work);
        // Renames of lower directories must copy up, never leave a redirect
        // xattr that a layer tar cannot express.
        // (With `userxattr` the kernel takes only "nofollow", which means the
        // same: redirects are neither made nor followed.)
        set("redirect_dir", g_rootless ? "nofollow" : "off");
        set("metacopy", "off");
        // Rootless: overlay's own xattrs (whiteouts, opaque dirs) under
        // user.overlay.*, the only ones a user namespace may write (5.11+).
        if (g_rootless)
            ok = ok && ::syscall(SYS_fsconfig, fsfd, 0 /* FSCONFIG_SET_FLAG */, "userxattr",
                                 nullptr, 0) == 0;
        if (ok &&
            ::syscall(SYS_fsconfig, fsfd, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) == 0) {
            int mfd = static_cast<int>(::syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */, 0));
            if (mfd < 0) die("fsmount overlay");
            if (::syscall(SYS_move_mount, mfd, "", AT_FDCWD, target.c_str(),
                          4 /* MOVE_MOUNT_F_EMPTY_PATH */) != 0)
                die("move_mount overlay to " + target);
            ::close(mfd);
            ::close(fsfd);
            return;
        }
        ::close(fsfd);  // "lowerdir+" unknown (kernel < 6.8): the old way
    }
    std::string common = spec.value("layers_dir", std::string());
    std::string opts = "lowerdir=";
    for (size_t i = 0; i < lowers.size(); ++i) {
        std::string l = lowers[i];
        if (!common.empty() && l.rfind(common + "/", 0) == 0) l = l.substr(common.size() + 1);
        opts += (i ? ":" : "") + l;
    }
    if (!upper.empty()) opts += ",upperdir=" + upper + ",workdir=" + work;
    if (g_rootless) opts += ",userxattr";
    opts += g_rootless ? ",redirect_dir=nofollow" : ",redirect_dir=off";
    if (!common.empty() && ::chdir(common.c_str()) != 0) die("chdir " + common);
    if (::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) != 0) {
        opts.erase(opts.find(",redirect_dir="));
        do_mount("overlay", target, "overlay", 0, opts.c_str());
    }
    if (::chdir("/") != 0) die("chdir /");
}

struct DevNode {
    const char* name;
    unsigned maj, min;
};
constexpr DevNode kDevNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
// Rootless: a user namespace may not make device nodes (mknod is EPERM), so
// the host's are bound on empty files instead, as rootless runc and Podman
// do; taken before the pivot by take_host_devices().
int g_host_devices[std::size(kDevNodes)] = {-1, -1, -1, -1, -1, -1};
void attach_tree(int fd, const std::string& target);

void mount_dev(const std::string& root) {
    const std::string dev = root + "/dev";
    do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    for (size_t i = 0; i < std::size(kDevNodes); ++i) {
        const DevNode& n = kDevNodes[i];
        const std::string p = dev + "/" + n.name;
        if (g_rootless) {
            touch(p);
            attach_tree(g_host_devices[i], p);
            continue;
        }
        if (::mknod(p.c_str(), S_IFCHR | 0666, makedev(n.maj, n.min)) != 0) die("mknod " + p);
        if (::chmod(p.c_str(), 0666) != 0) die("chmod " + p);
    }
    for (const auto& [name, target] :
         std::vector<std::pair<std::string, std::string>>{{"fd", "/proc/self/fd"},
                                                          {"stdin", "/proc/self/fd/0"},
                                                          {"stdout", "/proc/self/fd/1"},
                                                          {"stderr", "/proc/self/fd/2"},
                                                          {"ptmx", "pts/ptmx"}}) {
        if (::symlink(target.c_str(), (dev + "/" + name).c_str()) != 0) die("symlink " + name);
    }
    for (const char* d : {"pts", "shm", "mqueue", "pipes"})
        if (::mkdir((dev + "/" + d).c_str(), 0755) != 0) die(std::string("mkdir /dev/") + d);
    if (::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5") != 0) {
        // Rootless with only the user's own gid mapped: there is no gid 5.
        if (!g_rootless || errno != EINVAL) die("mount devpts on " + dev + "/pts");
        do_mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620");
    }
    do_mount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=1777,size=65536k");
    if (::mount("mqueue", (dev + "/mqueue").c_str(), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) != 0) {
        // Optional (not every kernel has mqueue).
    }
}

// A detached copy of the mount tree at `path` (a bind mount not attached
// anywhere yet), read-only when asked: taken before the pivot, attached after
// it with attach_tree(), when the host's paths are gone. `path` is one of
// strata's own (the store, the scratch directory); `dirfd` with an empty path
// clones an already resolved descriptor.
int clone_tree_at(int dirfd, const std::string& path, bool read_only, const std::string& what) {
    unsigned flags = 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | 0x8000 /* AT_RECURSIVE */;
    if (path.empty()) flags |= 0x1000 /* AT_EMPTY_PATH */;
    const int fd = static_cast<int>(::syscall(SYS_open_tree, dirfd, path.c_str(), flags));
    if (fd < 0) die("open_tree " + what);
    if (read_only) {
        struct {
            uint64_t attr_set, attr_clr, propagation, userns_fd;
        } attr{0x1 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
        if (::syscall(SYS_mount_setattr, fd, "", 0x1000 /* AT_EMPTY_PATH */ | 0x8000, &attr,
                      sizeof attr) != 0)
            die("make the mount of " + what + " read-only");
    }
    return fd;
}

int clone_tree(const std::string& path, bool read_only) {
    return clone_tree_at(AT_FDCWD, path, read_only, path);
}

void attach_tree(int fd, const std::string& target) {
    if (::syscall(SYS_move_mount, fd, "", AT_FDCWD, target.c_str(),
                  4 /* MOVE_MOUNT_F_EMPTY_PATH */) != 0)
        die("mount on " + target);
    ::close(fd);
}

// Rootless: the host's device nodes, bound after the pivot by mount_dev().
void take_host_devices() {
    for (size_t i = 0; i < std::size(kDevNodes); ++i)
        g_host_devices[i] = clone_tree(std::string("/dev/") + kDevNodes[i].name, false);
}

// --- privileged: the host's device nodes -------------------------------------
// As Docker's --privileged gets them (containerd's HostDevices): every
// character and block device under the host's /dev, except those under pts,
// shm, fd, mqueue, .lxc, .lxd-mounts and .udev and the console, made with
// the same numbers, mode and owner in the container's /dev (rootless, where
// mknod is refused: the host's nodes bound, taken before the pivot).

struct HostDevice {
    std::string path;  // below /dev: "loop0", "net/tun"
    mode_t mode;
    dev_t rdev;
    uid_t uid;
    gid_t gid;
    int fd = -1;  // rootless: a detached bind of the host's node
};
std::vector<HostDevice> g_privileged_devices;

void collect_host_devices(const std::string& dir, const std::string& rel) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) die("list the host's devices in " + dir);
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string path = dir + "/" + name;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (name == "pts" || name == "shm" || name == "fd" || name == "mqueue" ||
                name == ".lxc" || name == ".lxd-mounts" || name == ".udev")
                continue;
            collect_host_devices(path, rel + name + "/");
        } else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && name != "console") {
            HostDevice dev{rel + name, st.st_mode, st.st_rdev, st.st_uid, st.st_gid};
            if (g_rootless) dev.fd = clone_tree(path, false);
            g_privileged_devices.push_back(std::move(dev));
        }
    }
    ::closedir(d);
}

// After mount_dev(): the nodes the container's /dev lacks (null, zero and
// the rest are there already; /dev/ptmx stays the container's own).
void make_host_devices() {
    for (auto& dev : g_privileged_devices) {
        const std::string p = "/dev/" + dev.path;
        if (exists(p)) {
            if (dev.fd >= 0) ::close(dev.fd);
            continue;
        }
        const size_t slash = p.rfind('/');
        make_dirs(p.substr(0, slash));
        if (dev.fd >= 0) {
            touch(p);
            attach_tree(dev.fd, p);
            continue;
        }
        const mode_t perm = dev.mode & 07777;
        if (::mknod(p.c_str(), (dev.mode & S_IFMT) | perm, dev.rdev) != 0) die("mknod " + p);
        if (::chown(p.c_str(), dev.uid, dev.gid) != 0 || ::chmod(p.c_str(), perm) != 0)
            die("set the owner and mode of " + p);
    }
    g_privileged_devices.clear();
}

// A new, detached mount of `type` (proc, sysfs) with `attrs` (MOUNT_ATTR_*);
// -1 with errno set when the kernel refuses it.
int new_detached_mount(const char* type, uint64_t attrs) {
    const int fsfd = static_cast<int>(::syscall(SYS_fsopen, type, 1 /* FSOPEN_CLOEXEC */));
    if (fsfd < 0) return -1;
    int mfd = -1;
    if (::syscall(SYS_fsconfig, fsfd, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) == 0)
        mfd = static_cast<int>(::syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */, attrs));
    const int err = errno;
    ::close(fsfd);
    errno = err;
    return mfd;
}

// The source of a bind mount: `path` (from the Dockerfile) resolved inside
// `root` (a directory of strata's: the build context, a cache directory, or
// the overlay of a stage's layers mounted just before) — `..` stops at the
// root, symlinks are followed inside it, magic links are refused — then
// cloned as a detached tree. When writes are to be discarded, the tree is the
// merged view of a throwaway overlay over the source.
int bind_source(const json& m) {
    const std::string root = m.at("root").get<std::string>();
    const std::string path = m.value("path", std::string());
    const std::string target = m.at("target").get<std::string>();
    strata::UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) die("open the root of the mount on " + target);
    strata::UniqueFd src =
        strata::open_in_root(root_fd.get(), path.empty() ? "/" : path, O_PATH | O_CLOEXEC);
    if (!src) {
        const int err = errno;
        die("mount source \"" + path + "\" for " + target +
                (err == ENOENT ? ": not found in the source" : ""),
            err == ENOENT ? 0 : err);
    }
    if (m.contains("discard")) {
        const json& d = m.at("discard");
        json o{{"lower", json::array({"/proc/self/fd/" + std::to_string(src.get())})},
               {"upper", d.at("upper")},
               {"work", d.at("work")}};
        const std::string merged = d.at("merged").get<std::string>();
        mount_overlay(o, merged);
        return clone_tree(merged, false);
    }
    return clone_tree_at(src.get(), "", m.value("readonly", true), "the source of " + target);
}

// A secret: its bytes, read from the memfd strata passed, written to a file
// on a tmpfs that exists only in this mount namespace, then cloned to be
// bound on the target. It is never on a disk.
int secret_source(const json& m) {
    const std::string dir = m.at("tmp").get<std::string>();
    do_mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=1m");
    const int in = m.at("fd").get<int>();
    const std::string file = dir + "/secret";
    const int out = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) die("create the secret file");
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read the secret");
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            const ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
            if (w <= 0) die("write the secret file");
            off += w;
        }
    }
    ::close(in);
    if (::fchown(out, m.value("uid", 0u), m.value("gid", 0u)) != 0 ||
        ::fchmod(out, m.value("mode", 0400u)) != 0)
        die("set the owner and mode of the secret file");
    ::close(out);
    return clone_tree(file, true);
}

// A mount's target inside the container: absolute, `..` cleaned away.
// Targets inside /proc are refused (as runc refuses them): a mount there
// could hide the masks.
std::string mount_target(const json& m) {
    const std::string t = strata::clean_in_root(m.at("target").get<std::string>());
    if (t == "/proc" || t.rfind("/proc/", 0) == 0)
        die("mount target " + t + " is inside /proc, which is not allowed", 0);
    return t;
}

// The real path of `path` in the container, for the stub report: a
// symlinked parent is resolved (inside the container: this runs after the
// pivot), so that strata removes the file that was made.
std::string real_path_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    char buf[PATH_MAX];
    if (!::realpath(parent.c_str(), buf)) return path;
    const std::string p = buf;
    return (p == "/" ? "" : p) + path.substr(slash);
}

// Before the pivot: each mount's target cleaned, and its source taken as a
// detached tree (bind sources resolved inside their roots, secrets on a
// tmpfs, sockets as they are), to be attached by mount_user() after it.
void take_mount_sources(json& mounts) {
    for (auto& m : mounts) {
        m["target"] = mount_target(m);
        const std::string type = m.at("type").get<std::string>();
        if (type == "bind")
            m["fd"] = bind_source(m);
        else if (type == "secret")
            m["fd"] = secret_source(m);
        else if (type == "socket")
            m["fd"] = clone_tree(m.at("source").get<std::string>(), false);
        else if (type != "tmpfs")
            die("unknown mount type " + type, 0);
    }
}

void mount_user(const json& m) {
    const std::string type = m.at("type").get<std::string>();
    const std::string target = m.at("target").get<std::string>();
    if (type == "tmpfs") {
        make_dirs(target);
        char mode[32];
        std::snprintf(mode, sizeof mode, "mode=%o",
                      m.contains("mode") ? m.at("mode").get<unsigned>() : 01777u);
        std::string opts = mode;
        if (m.contains("size")) opts += ",size=" + std::to_string(m.at("size").get<uint64_t>());
        do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str());
        return;
    }
    // A directory or a file to bind: make the mount point of the same kind.
    const int fd = m.at("fd").get<int>();
    struct stat st {};
    if (::fstat(fd, &st) != 0) die("stat mount source for " + target);
    if (S_ISDIR(st.st_mode)) {
        make_dirs(target);
    } else {
        const std::string parent = target.substr(0, target.rfind('/'));
        if (!parent.empty()) make_dirs(parent);
        if (!exists(target)) {
            touch(target);
            report_stub(real_path_of(target));
        }
    }
    attach_tree(fd, target);
}

void write_file(const std::string& path, const std::string& content, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) die("create " + path);
    for (size_t off = 0; off < content.size();) {
        ssize_t w = ::write(fd, content.data() + off, content.size() - off);
        if (w <= 0) die("write " + path);
        off += static_cast<size_t>(w);
    }
    if (::fchmod(fd, mode) != 0) die("chmod " + path);
    ::close(fd);
}

void loopback_up() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("get flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("bring up lo");
    ::close(s);
}

// Docker's masked paths (runc's defaults, plus what Docker adds): files are
// covered by /dev/null, directories by an empty read-only tmpfs; a path the
// kernel does not have is skipped, any other failure fails the container.
void mask_paths() {
    if (g_privileged) return;  // Docker's --privileged masks nothing
    for (const char* p :
         {"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
          "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}) {
        struct stat st {};
        if (::stat(p, &st) != 0) {
            if (errno == ENOENT) continue;
            die(std::string("stat ") + p);
        }
        if (S_ISDIR(st.st_mode))
            do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0");
        else
            do_mount("/dev/null", p, nullptr, MS_BIND);
    }
    // Read-only as Docker makes them.
    for (const char* p :
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
        struct stat st {};
        if (::stat(p, &st) != 0) {
            if (errno == ENOENT) continue;
            die(std::string("stat ") + p);
        }
        do_mount(p, p, nullptr, MS_BIND | MS_REC);
        do_mount(nullptr, p, nullptr,
                 MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
}

uint64_t permitted_capabilities() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) die("capget");
    return data[0].permitted | (uint64_t{data[1].permitted} << 32);
}

// The highest capability number this kernel knows.
int last_capability() {
    int last = 63;
    if (std::FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "r")) {
        if (std::fscanf(f, "%d", &last) != 1) last = 63;
        std::fclose(f);
    }
    return last;
}

// Every capability not in `keep` leaves the bounding set, so the command
// (root or not) can never gain it.
void drop_bounding(uint64_t keep, int last) {
    for (int cap = 0; cap <= last; ++cap) {
        if (keep & (uint64_t{1} << cap)) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            die("drop capability " + std::to_string(cap));
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        die("clear the ambient capabilities");
}

// The other sets after the switch to the user, as Docker sets them: root
// gets `keep` as effective and permitted; any other user none (what execve
// gives a non-root user, and what the kernel already did at setuid);
// inheritable and ambient are empty for both (CVE-2022-24769).
void set_capabilities(uint64_t keep, bool root) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    const uint64_t eff = root ? keep : 0;
    data[0].effective = data[0].permitted = static_cast<uint32_t>(eff);
    data[1].effective = data[1].permitted = static_cast<uint32_t>(eff >> 32);
    if (::syscall(SYS_capset, &hdr, data) != 0) die("capset");
}

// The command, found on the PATH of its own environment (as exec does in
// Docker: the PATH the image and Dockerfile set, not strata's).
std::string resolve_command(const std::string& cmd, const std::vector<std::string>& env) {
    if (cmd.find('/') != std::string::npos) return cmd;
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : env)
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    std::stringstream ss(path);
    std::string dir;
    std::string found_not_exec;
    while (std::getline(ss, dir, ':')) {
        const std::string p = (dir.empty() ? "." : dir) + "/" + cmd;
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
        if (::access(p.c_str(), X_OK) == 0) return p;
        if (found_not_exec.empty()) found_not_exec = p;
    }
    return found_not_exec;
}

void run_child(const json& spec, const User& user) {
    const auto argv_s = spec.at("argv").get<std::vector<std::string>>();
    auto env_s = spec.at("env").get<std::vector<std::string>>();
    bool has_home = false;
    for (const auto& e : env_s)
        has_home = has_home || e.rfind("HOME=", 0) == 0;
    if (!has_home) env_s.push_back("HOME=" + user.home);
    const auto& groups_v = user.groups;
    const uid_t uid = user.uid;
    const gid_t gid = user.gid;
    const std::string cwd = spec.value("cwd", std::string("/"));
    uint64_t keep = 0;
    for (const auto& c : spec.value("caps", json::array()))
        keep |= uint64_t{1} << c.get<int>();
    // Names strata knows that this kernel does not (privileged asks for all).
    const int last = last_capability();
    if (last < 63) keep &= (uint64_t{1} << (last + 1)) - 1;
    // Privileged: every capability strata has (it may lack some itself,
    // e.g. run inside a container).
    if (g_privileged) keep &= permitted_capabilities();

    // Nothing of strata's reaches the command: every descriptor but 0-2 is
    // closed at exec (the status pipe stays usable until then).
    ::syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
    ::umask(022);  // as runc: never the umask of whoever started strata
    drop_bounding(keep, last);
    if (spec.value("no_new_privileges", false) && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("set no_new_privs");
    // The seccomp filter goes on while this process is still root with every
    // capability (no no_new_privs needed, so setuid programs keep working in
    // the container, as with runc's default); the profile allows what
    // follows (setgroups, setuid, capset, execve).
    if (spec.contains("seccomp_fd")) {
        std::string err;
        if (!load_seccomp_filter(spec.at("seccomp_fd").get<int>(), err))
            die("load the seccomp profile: " + err, 0);
    }
    // Rootless with only the user's own ids mapped: the kernel denies
    // setgroups (user_namespaces(7)), and other ids do not exist.
    const std::string unmapped =
        g_rootless ? ": not mapped in the user namespace of rootless strata (only your own ids "
                     "are: add subordinate ids for your user to /etc/subuid and /etc/subgid)"
                   : "";
    if (::setgroups(groups_v.size(), groups_v.data()) != 0) {
        if (!g_rootless || errno != EPERM) die("setgroups");
        if (!groups_v.empty()) die("set the supplementary groups" + unmapped, 0);
    }
    if (::setgid(gid) != 0) {
        const int err = errno;
        die("setgid " + std::to_string(gid) + (err == EINVAL ? unmapped : ""), err);
    }
    if (::setuid(uid) != 0) {
        const int err = errno;
        die("setuid " + std::to_string(uid) + (err == EINVAL ? unmapped : ""), err);
    }
    set_capabilities(keep, uid == 0);
    if (::chdir(cwd.c_str()) != 0) die("chdir to the working directory " + cwd);

    std::vector<char*> argv, envp;
    for (const auto& a : argv_s)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env_s)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string path = resolve_command(argv_s.at(0), env_s);
    if (path.empty())
        die("exec: \"" + argv_s[0] + "\": executable file not found in $PATH", 0, 127);
    if (spec.contains("exec")) {
        // An exec'd command lives as long as the process that entered the
        // container for it (and so the `strata exec` behind it). Set last:
        // a change of credentials clears it. Its parent is outside this PID
        // namespace (getppid() says 0) until it dies.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die("set the parent death signal");
        if (::getppid() != 0) _exit(137);
    }
    ::execve(path.c_str(), argv.data(), envp.data());
    die("exec " + path, errno, errno == ENOENT ? 127 : 126);
}

pid_t g_child = -1;

void forward(int sig) {
    if (g_child > 0) ::kill(g_child, sig);
}

// Signals init does not forward: those it cannot catch, SIGCHLD (its own
// business: reaping), and those a fault of init's own raises (forwarding and
// returning would fault again), as tini leaves them.
bool forwarded(int sig) {
    switch (sig) {
        case SIGKILL:
        case SIGSTOP:
        case SIGCHLD:
        case SIGSEGV:
        case SIGBUS:
        case SIGILL:
        case SIGFPE:
        case SIGTRAP:
        case SIGSYS:
            return false;
        default:
            return true;
    }
}

// --- the terminal ("tty") ------------------------------------------------------

int g_tty_slave = -1;

void send_fd(int socket, int fd) {
    char byte = 't';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0)
        if (errno != EINTR) die("send the terminal to strata");
}

// A pseudo-terminal on the container's devpts (mounted with newinstance,
// ptmxmode=0666, so this is the container's /dev/pts/N); the master goes to
// strata, the slave (opened through the master, no path lookup) to the
// command.
void make_terminal(const json& tty) {
    const int socket = tty.at("socket").get<int>();
    const int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) die("open the container's /dev/pts/ptmx for a terminal");
    int unlock = 0;
    if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) die("unlock the terminal (TIOCSPTLCK)");
    winsize ws{};
    ws.ws_row = tty.value("rows", static_cast<unsigned short>(0));
    ws.ws_col = tty.value("cols", static_cast<unsigned short>(0));
    if ((ws.ws_row || ws.ws_col) && ::ioctl(master, TIOCSWINSZ, &ws) != 0)
        die("set the terminal's window size");
    g_tty_slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (g_tty_slave < 0) die("open the terminal's slave (TIOCGPTPEER)");
    send_fd(socket, master);
    ::close(master);
    ::close(socket);
}

// In the command's child: the terminal becomes its controlling terminal and
// its 0, 1, 2, owned by its user (as runc leaves it; the group stays tty).
void attach_terminal(uid_t uid) {
    if (::setsid() < 0) die("setsid");
    if (::ioctl(g_tty_slave, TIOCSCTTY, 0) != 0) die("make the terminal the controlling one");
    if (::fchown(g_tty_slave, uid, static_cast<gid_t>(-1)) != 0 && !g_rootless)
        die("give the terminal to uid " + std::to_string(uid));
    for (int fd = 0; fd <= 2; ++fd)
        if (::dup2(g_tty_slave, fd) < 0) die("dup2 the terminal");
    ::close(g_tty_slave);
}

// --- chroot isolation (spec "chroot") ----------------------------------------
// Where the sandbox cannot be made (an unprivileged pod): no overlay; the
// root is strata's private copy of the layers, entered by pivot_root when a
// mount namespace is allowed, else by chroot(2), in whichever namespaces
// strata found allowed. With a mount
// namespace ("mounts") the same /proc, /dev, /sys, /etc/hosts,
// /etc/resolv.conf and --mount mounts as the sandbox; without one nothing is
// mounted (strata wrote the device nodes and heredoc scripts into the copy).
// Without a PID namespace this init is not PID 1: it is made a child
// subreaper, and kills what is left when the command ends (kill_orphans).

int g_task_dir = -1;  // /proc/self/task/<init>, opened before the chroot

void apply_rlimit_nofile(const json& spec) {
    if (!spec.contains("rlimit_nofile")) return;
    const auto l = spec.at("rlimit_nofile").get<std::vector<long>>();
    rlimit r{static_cast<rlim_t>(l.at(0)), static_cast<rlim_t>(l.at(1))};
    rlimit cur{};
    if (::setrlimit(RLIMIT_NOFILE, &r) != 0) {
        if (errno != EPERM || ::getrlimit(RLIMIT_NOFILE, &cur) != 0) die("setrlimit RLIMIT_NOFILE");
        r.rlim_max = std::min(r.rlim_max, cur.rlim_max);
        r.rlim_cur = std::min(r.rlim_cur, r.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &r) != 0) die("setrlimit RLIMIT_NOFILE");
    }
}

// Exec mode: into the namespaces of the running container that `pidfd`
// names, all at once (setns with a pidfd, Linux 5.8), then into its root
// (the descriptor of its /proc/PID/root: also right for a container made by
// chroot isolation, whose root is no mount namespace's).
void setup_exec(const json& spec) {
    const json& e = spec.at("exec");
    const int pidfd = e.at("pidfd").get<int>();
    const int root = e.at("root").get<int>();
    if (::setns(pidfd, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET |
                           CLONE_NEWCGROUP) != 0)
        die("setns into the container's namespaces" +
            std::string(errno == EINVAL ? " (a pidfd needs Linux 5.8 or later)" : ""));
    if (::fchdir(root) != 0 || ::chroot(".") != 0 || ::chdir("/") != 0)
        die("enter the container's root");
    ::close(pidfd);
    ::close(root);
}

bool has_effective_cap(int cap) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) return false;
    return (data[cap / 32].effective >> (cap % 32)) & 1;
}

void setup_chroot(json& spec) {
    const json c = spec.at("chroot");
    const bool mounts = c.value("mounts", false);
    const std::string root = spec.at("rootfs").get<std::string>();
    if (!c.value("pid", false)) {
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) die("become a child subreaper");
        const std::string task = "/proc/self/task/" + std::to_string(::getpid());
        g_task_dir = ::open(task.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    int hosts_fd = -1, resolv_fd = -1, sys_fd = -1;
    json user_mounts = json::array();
    if (mounts) {
        do_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
        for (const auto& o : spec.value("overlays", json::array()))
            mount_overlay(o, o.at("target").get<std::string>());
        hosts_fd = clone_tree(spec.at("hosts").get<std::string>(), true);
        resolv_fd = clone_tree(spec.at("resolv").get<std::string>(), true);
        // sysfs can only be mounted with a network namespace of one's own
        // (or as root of the initial user namespace): the host's, read-only.
        sys_fd = clone_tree("/sys", true);
        user_mounts = spec.value("mounts", json::array());
        take_mount_sources(user_mounts);
    }
    if (mounts) {
        // A mount namespace of its own: pivot_root into the copy (bound on
        // itself to be a mount), which a root step cannot climb out of as
        // it can out of a chroot.
        do_mount(root.c_str(), root, nullptr, MS_BIND | MS_REC);
        if (::chdir(root.c_str()) != 0) die("chdir " + root);
        if (::syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root " + root);
        if (::umount2(".", MNT_DETACH) != 0) die("detach the old root");
    } else if (::chroot(root.c_str()) != 0) {
        die("chroot " + root);
    }
    if (::chdir("/") != 0) die("chdir /");
    // As in the sandbox, /dev, /proc and /sys stay in the layer.
    for (const char* d : {"/dev", "/proc", "/sys"})
        make_dirs(d);
    if (mounts) {
        for (const char* f : {"/etc/hosts", "/etc/resolv.conf"}) {
            if (exists(f)) continue;
            make_dirs("/etc");
            touch(f);
            report_stub(real_path_of(f));
        }
        do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_dev("");
        if (::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    nullptr) == 0)
            ::close(sys_fd);
        else
            attach_tree(sys_fd, "/sys");
        attach_tree(hosts_fd, "/etc/hosts");
        attach_tree(resolv_fd, "/etc/resolv.conf");
        for (const auto& m : user_mounts)
            mount_user(m);
        for (const auto& f : spec.value("files", json::array()))
            write_file(f.at("path").get<std::string>(), f.at("content").get<std::string>(),
                       f.value("mode", 0755u));
        mask_paths();
    }
    if (c.value("uts", false)) {
        const std::string hostname = spec.value("hostname", std::string("buildkitsandbox"));
        if (::sethostname(hostname.data(), hostname.size()) != 0) die("sethostname");
    }
    if (c.value("net", false) && spec.value("network", std::string("host")) == "none")
        loopback_up();
    apply_rlimit_nofile(spec);
    make_dirs(spec.value("cwd", std::string("/")));
    // Without CAP_SYS_ADMIN the kernel loads a seccomp filter only under
    // no_new_privs (seccomp(2)).
    if (!has_effective_cap(CAP_SYS_ADMIN)) spec["no_new_privileges"] = true;
}

// Without a PID namespace: what the command left running (daemons,
// orphans, reparented to this subreaper) is killed and reaped.
void kill_orphans() {
    if (g_task_dir < 0) return;
    for (int round = 0; round < 1000; ++round) {
        const int fd = ::openat(g_task_dir, "children", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf - 1);
        ::close(fd);
        if (n <= 0) return;
        buf[n] = '\0';
        bool any = false;
        for (char* p = buf; *p;) {
            char* end = nullptr;
            const long pid = std::strtol(p, &end, 10);
            if (end == p) break;
            if (pid > 0) {
                ::kill(static_cast<pid_t>(pid), SIGKILL);
                any = true;
            }
            p = end;
        }
        if (!any) return;
        int status = 0;
        while (::waitpid(-1, &status, 0) > 0) {
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::string(argv[1]).find_first_not_of("0123456789") != std::string::npos) {
        std::fprintf(stderr, "usage: strata-init SPEC-FD (started by strata's sandbox)\n");
        return 125;
    }
    struct stat st {};
    if (::fstat(g_status_fd, &st) != 0)
        g_status_fd = 2;
    else
        ::fcntl(g_status_fd, F_SETFD, FD_CLOEXEC);  // closed when the command execs
    json spec;
    {
        // A memfd: secrets and the environment never touch a disk.
        const int fd = std::atoi(argv[1]);
        std::string text;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die("read the spec");
            if (n == 0) break;
            text.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        try {
            spec = json::parse(text);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }
    g_privileged = spec.value("privileged", false);
    // A session of its own (strata run/exec): the caller's terminal signals
    // strata, which forwards, not the container behind its back.
    if (spec.value("new_session", false) && ::setsid() < 0) die("setsid");
    if (spec.contains("exec")) {
        try {
            g_rootless = spec.value("rootless", false);
            setup_exec(spec);
            apply_rlimit_nofile(spec);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    } else if (spec.contains("chroot")) {
        try {
            setup_chroot(spec);  // chroot isolation: no overlay
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    } else
        try {
            g_rootless = spec.value("rootless", false);
            const std::string root = spec.at("rootfs").get<std::string>();
            do_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
            mount_overlay(spec, root);
            // Overlays for --mount sources (a stage's layers, a writable bind).
            for (const auto& o : spec.value("overlays", json::array()))
                mount_overlay(o, o.at("target").get<std::string>());
            // What to bind in, taken as detached trees before the host
            // disappears and attached after the pivot, so that every target
            // resolves inside the container (an image's symlinks cannot point a
            // mount or a stub at the host) and every source inside its own root.
            const int hosts_fd = clone_tree(spec.at("hosts").get<std::string>(), true);
            const int resolv_fd = clone_tree(spec.at("resolv").get<std::string>(), true);
            // Rootless: in a user namespace the kernel mounts a new proc or
            // sysfs only while one is fully visible in the mount namespace
            // ("mount_too_revealing"), so they are made here, before the pivot
            // takes the host's away. sysfs moreover needs a network namespace
            // the user namespace owns: with the host's network the host's /sys
            // is bound read-only instead (as rootless runc and Podman do).
            constexpr uint64_t kNoSuidDevExec = 0x2 | 0x4 | 0x8;  // MOUNT_ATTR_NOSUID|NODEV|NOEXEC
            int proc_fd = -1, sys_fd = -1;
            if (g_rootless) {
                proc_fd = new_detached_mount("proc", kNoSuidDevExec);
                if (proc_fd < 0) die("mount proc (for the container's PID namespace)");
                sys_fd = new_detached_mount(
                    "sysfs", kNoSuidDevExec | (g_privileged ? 0 : 0x1 /* MOUNT_ATTR_RDONLY */));
                if (sys_fd < 0 && errno != EPERM) die("mount sysfs");
                if (sys_fd < 0) sys_fd = clone_tree("/sys", !g_privileged);
                take_host_devices();
            }
            if (g_privileged) collect_host_devices("/dev", "");
            json mounts = spec.value("mounts", json::array());
            take_mount_sources(mounts);

            if (::chdir(root.c_str()) != 0) die("chdir " + root);
            if (::syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root " + root);
            if (::umount2(".", MNT_DETACH) != 0) die("detach the old root");
            if (::chdir("/") != 0) die("chdir /");

            // Mount points the image lacks. As in Docker 20.10's BuildKit,
            // /dev, /proc and /sys stay in the layer; the /etc/hosts and
            // /etc/resolv.conf files made here are removed again by strata.
            for (const char* d : {"/dev", "/proc", "/sys"})
                make_dirs(d);
            for (const char* f : {"/etc/hosts", "/etc/resolv.conf"}) {
                if (exists(f)) continue;
                make_dirs("/etc");
                touch(f);
                report_stub(real_path_of(f));
            }
            if (proc_fd >= 0)
                attach_tree(proc_fd, "/proc");
            else
                do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
            mount_dev("");
            make_host_devices();  // privileged
            if (sys_fd >= 0)
                attach_tree(sys_fd, "/sys");
            else if (::mount("sysfs", "/sys", "sysfs",
                             (g_privileged ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             nullptr) != 0)
                die("mount sysfs on /sys");
            attach_tree(hosts_fd, "/etc/hosts");
            attach_tree(resolv_fd, "/etc/resolv.conf");
            for (const auto& m : mounts)
                mount_user(m);
            for (const auto& f : spec.value("files", json::array()))
                write_file(f.at("path").get<std::string>(), f.at("content").get<std::string>(),
                           f.value("mode", 0755u));
            mask_paths();
            const std::string hostname = spec.value("hostname", std::string("buildkitsandbox"));
            if (::sethostname(hostname.data(), hostname.size()) != 0) die("sethostname");
            if (spec.value("network", std::string("host")) != "host") loopback_up();
            if (spec.contains("rlimit_nofile")) {
                // Docker's values; where strata may not raise the hard limit
                // (no CAP_SYS_RESOURCE, itself in a container) the one it has.
                const auto l = spec.at("rlimit_nofile").get<std::vector<long>>();
                rlimit r{static_cast<rlim_t>(l.at(0)), static_cast<rlim_t>(l.at(1))};
                rlimit cur{};
                if (::setrlimit(RLIMIT_NOFILE, &r) != 0) {
                    if (errno != EPERM || ::getrlimit(RLIMIT_NOFILE, &cur) != 0)
                        die("setrlimit RLIMIT_NOFILE");
                    r.rlim_max = std::min(r.rlim_max, cur.rlim_max);
                    r.rlim_cur = std::min(r.rlim_cur, r.rlim_max);
                    if (::setrlimit(RLIMIT_NOFILE, &r) != 0) die("setrlimit RLIMIT_NOFILE");
                }
            }
            make_dirs(spec.value("cwd", std::string("/")));  // BuildKit makes a missing cwd
            // --read-only: everything is mounted and made; the root's own
            // mount becomes read-only (as runc does it: a bind remount),
            // the mounts on it keep theirs.
            if (spec.value("read_only_root", false))
                do_mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    const User user = resolve_user(spec.value("user", std::string()));
    if (spec.contains("tty")) {
        try {
            make_terminal(spec.at("tty"));
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }

    // The command: stdin /dev/null, the caller's descriptors or the
    // terminal; strata reads stdout/stderr or the terminal's master.
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &old);
    g_child = ::fork();
    if (g_child < 0) die("fork");
    if (g_child == 0) {
        // Dispositions strata's caller may have set to "ignore" survive exec:
        // the command gets the defaults (`yes | head` must see SIGPIPE).
        for (int sig = 1; sig < NSIG; ++sig)
            if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        if (g_tty_slave >= 0) {
            attach_terminal(user.uid);
        } else if (spec.value("stdin_null", true)) {
            int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (null >= 0) ::dup2(null, 0);
        }
        try {
            run_child(spec, user);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }
    if (g_status_fd != 2) ::close(g_status_fd);  // the child keeps it until exec (CLOEXEC)
    if (g_tty_slave >= 0) ::close(g_tty_slave);
    // Every signal init can catch goes on to the command: `strata kill -s
    // USR1`, an image's StopSignal, SIGWINCH. (glibc refuses its own two
    // real-time signals: skipped.)
    for (int sig = 1; sig < NSIG; ++sig) {
        if (!forwarded(sig)) continue;
        struct sigaction sa {};
        sa.sa_handler = forward;
        sa.sa_flags = SA_RESTART;
        ::sigaction(sig, &sa, nullptr);
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    for (;;) {
        int status = 0;
        pid_t p = ::waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR) continue;
            return 125;
        }
        if (p != g_child) continue;  // an orphan: reaped
        kill_orphans();              // chroot isolation without a PID namespace
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
}
