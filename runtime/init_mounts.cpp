// strata-init: the container's mounts — the overlay root, /dev, the bind
// trees taken before the pivot, the privileged host devices, --mount
// sources resolved inside their roots, and Docker's masked paths.
#include "base/in_root.hpp"
#include "base/overlay_mount.hpp"
#include "init.hpp"

namespace strata::init {

// The overlay: the new mount API appends lower layers one at a time (no
// limit on their number); older kernels get a mount(2) option string with
// paths relative to the layers' common directory, to stay under its 4 KiB.
// "volatile": the upper directory is scratch; kernels before 5.10 lack the
// option and get the mount without it.
void mount_overlay(const json& spec, const std::string& target) {
    const auto lowers = spec.at("lower").get<std::vector<std::string>>();
    const std::string upper = spec.value("upper", std::string());
    const std::string work = spec.value("work", std::string());
    const bool scratch_upper = !upper.empty() && spec.value("volatile", false);
    strata::OverlaySpec o;
    o.lowers = lowers;
    o.upper = upper;
    o.work = work;
    o.userxattr = g_rootless;
    o.scratch_upper = scratch_upper;
    const int mfd = strata::make_detached_overlay(o);
    if (mfd >= 0) {
        attach_tree(mfd, target);
        return;
    }
    // "lowerdir+" unknown (kernel < 6.8): the old way.
    std::string common = spec.value("layers_dir", std::string());
    std::string opts = "lowerdir=";
    for (size_t i = 0; i < lowers.size(); ++i) {
        std::string l = lowers[i];
        if (!common.empty() && l.rfind(common + "/", 0) == 0) l = l.substr(common.size() + 1);
        opts += (i ? ":" : "") + l;
    }
    if (!upper.empty()) opts += ",upperdir=" + upper + ",workdir=" + work;
    if (g_rootless) opts += ",userxattr";
    if (!common.empty() && ::chdir(common.c_str()) != 0) die("chdir " + common);
    // Refused options are dropped, the newest first (kernels that lack them).
    std::vector<std::string> optional = {g_rootless ? ",redirect_dir=nofollow"
                                                    : ",redirect_dir=off"};
    if (scratch_upper) optional.push_back(",volatile");
    for (;;) {
        std::string all = opts;
        for (const auto& o : optional)
            all += o;
        if (optional.empty()) {
            do_mount("overlay", target, "overlay", 0, all.c_str());
            break;
        }
        if (::mount("overlay", target.c_str(), "overlay", 0, all.c_str()) == 0) break;
        optional.pop_back();
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
               {"work", d.at("work")},
               {"volatile", true}};
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

void make_etc_stubs() {
    for (const char* f : {"/etc/hosts", "/etc/resolv.conf"}) {
        if (exists(f)) continue;
        make_dirs("/etc");
        touch(f);
        report_stub(real_path_of(f));
    }
}

void finish_mounts(int hosts_fd, int resolv_fd, const json& mounts, const json& spec) {
    attach_tree(hosts_fd, "/etc/hosts");
    attach_tree(resolv_fd, "/etc/resolv.conf");
    for (const auto& m : mounts)
        mount_user(m);
    for (const auto& f : spec.value("files", json::array()))
        write_file(f.at("path").get<std::string>(), f.at("content").get<std::string>(),
                   f.value("mode", 0755u));
    mask_paths();
}

}  // namespace strata::init
