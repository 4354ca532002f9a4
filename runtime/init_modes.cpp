// strata-init's two other ways in: exec into a running container, and
// chroot isolation (no overlay).
#include "init.hpp"

namespace strata::init {

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
        make_etc_stubs();
        do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_dev("");
        if (::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    nullptr) == 0)
            ::close(sys_fd);
        else
            attach_tree(sys_fd, "/sys");
        finish_mounts(hosts_fd, resolv_fd, user_mounts, spec);
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

}  // namespace strata::init
