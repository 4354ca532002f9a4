// strata-init: the command's process — capabilities, seccomp, rlimits,
// user, working directory, environment, exec.
#include "init.hpp"
#include "seccomp_load.hpp"

namespace strata::init {

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

uint64_t restrict_child(const json& spec) {
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
    // follows (read, setgroups, setuid, capset, open, chdir, execve).
    if (spec.contains("seccomp_fd")) {
        std::string err;
        if (!load_seccomp_filter(spec.at("seccomp_fd").get<int>(), err))
            die("load the seccomp profile: " + err, 0);
    }
    return keep;
}

void run_child(const json& spec, const User& user) {
    exec_child(spec, user, restrict_child(spec));
}

void exec_child(const json& spec, const User& user, uint64_t keep) {
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

// uid, gid, the number of groups, the groups, then the home directory;
// the writer closes its end after it.
void send_user(int fd, const User& user) {
    std::string msg;
    const uint32_t head[3] = {user.uid, user.gid, static_cast<uint32_t>(user.groups.size())};
    msg.append(reinterpret_cast<const char*>(head), sizeof head);
    for (gid_t g : user.groups) {
        const uint32_t v = g;
        msg.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    msg += user.home;
    for (size_t off = 0; off < msg.size();) {
        const ssize_t w = ::write(fd, msg.data() + off, msg.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;  // the child is gone: waiting for it says why
        off += static_cast<size_t>(w);
    }
}

bool receive_user(int fd, User& user) {
    std::string msg;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;
        msg.append(buf, static_cast<size_t>(n));
    }
    uint32_t head[3];
    if (msg.size() < sizeof head) return false;  // init could not set the container up
    std::memcpy(head, msg.data(), sizeof head);
    const size_t groups_end = sizeof head + size_t{head[2]} * sizeof(uint32_t);
    if (msg.size() < groups_end) return false;
    user.uid = head[0];
    user.gid = head[1];
    user.groups.clear();
    for (size_t off = sizeof head; off < groups_end; off += sizeof(uint32_t)) {
        uint32_t g;
        std::memcpy(&g, msg.data() + off, sizeof g);
        user.groups.push_back(g);
    }
    user.home = msg.substr(groups_end);
    return true;
}

// Docker's RLIMIT_NOFILE; where strata may not raise the hard limit (no
// CAP_SYS_RESOURCE, itself in a container) the one it has.
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

}  // namespace strata::init
