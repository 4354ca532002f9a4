// strata-init's state and the helpers every part of it uses: errors on the
// status pipe, mounts, files made inside the container, the loopback.
#include "init.hpp"

namespace strata::init {

int g_status_fd = 3;
bool g_rootless = false;
bool g_privileged = false;

void die(const std::string& what, int err, int code) {
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
              const char* data) {
    if (::mount(src, target.c_str(), type, flags, data) != 0)
        die(std::string("mount ") + (type ? type : "bind") + " on " + target);
}

// "stub:<path>" lines on the status pipe; errors are any other line.
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

}  // namespace strata::init
