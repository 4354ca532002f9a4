// The parts of strata-init (strata_init.cpp holds what it does, in order),
// shared between its files. A program of its own: nothing here is used by
// the rest of strata.
#pragma once

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

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace strata::init {

using nlohmann::json;

// --- init_base.cpp -----------------------------------------------------------

// Where setup errors and "stub:" lines go (fd 3, the status pipe; 2 when
// strata gave none).
extern int g_status_fd;
// Rootless: strata runs in a user namespace of its own (spec "rootless").
extern bool g_rootless;
// Docker's --privileged (spec "privileged").
extern bool g_privileged;

// Writes "what: strerror(err)" to the status pipe and exits with `code`.
[[noreturn]] void die(const std::string& what, int err = errno, int code = 125);
void do_mount(const char* src, const std::string& target, const char* type, unsigned long flags,
              const char* data = nullptr);
// Tells strata a mount point file this init made, to be removed from the
// layer afterwards.
void report_stub(const std::string& path);
bool exists(const std::string& path);
// mkdir -p, each new element 0755 root (inside the container's view).
void make_dirs(const std::string& path);
void touch(const std::string& path);
void write_file(const std::string& path, const std::string& content, mode_t mode);
void loopback_up();

// --- init_user.cpp -----------------------------------------------------------

struct User {
    uint32_t uid = 0, gid = 0;
    std::vector<gid_t> groups;
    std::string home = "/";
};
// USER user[:group] in the container's /etc/passwd and /etc/group.
User resolve_user(const std::string& spec);

// --- init_mounts.cpp ---------------------------------------------------------

void mount_overlay(const json& spec, const std::string& target);
void mount_dev(const std::string& root);
// A detached copy of the mount tree at `path`, attached after the pivot.
int clone_tree(const std::string& path, bool read_only);
void attach_tree(int fd, const std::string& target);
void take_host_devices();
void collect_host_devices(const std::string& dir, const std::string& rel);
void make_host_devices();
int new_detached_mount(const char* type, uint64_t attrs);
std::string real_path_of(const std::string& path);
void take_mount_sources(json& mounts);
void mount_user(const json& m);
void mask_paths();
// After the pivot: /etc/hosts and /etc/resolv.conf made as mount points
// where the image lacks them (reported as stubs, removed from the layer).
void make_etc_stubs();
// What every container gets last, in this order: /etc/hosts and
// /etc/resolv.conf bound (taken before the pivot), the --mount mounts, the
// spec's files (heredoc scripts), Docker's masked paths.
void finish_mounts(int hosts_fd, int resolv_fd, const json& mounts, const json& spec);

// --- init_process.cpp --------------------------------------------------------

// In the forked child: becomes the command (never returns) —
// restrict_child() then exec_child().
[[noreturn]] void run_child(const json& spec, const User& user);
// What the command's process can do before the container is mounted and
// its user known: descriptors, umask, the bounding set, no_new_privs, the
// seccomp filter. Returns the capabilities to keep.
uint64_t restrict_child(const json& spec);
// The rest: the user, the other capability sets, the working directory,
// the command found on its PATH, exec.
[[noreturn]] void exec_child(const json& spec, const User& user, uint64_t keep);
// The user's ids, resolved by init, sent to a child forked before them.
void send_user(int fd, const User& user);
bool receive_user(int fd, User& user);
void apply_rlimit_nofile(const json& spec);

// --- init_terminal.cpp -------------------------------------------------------

extern int g_tty_slave;
void make_terminal(const json& tty);
void attach_terminal(uid_t uid);

// --- init_modes.cpp ----------------------------------------------------------

void setup_exec(const json& spec);
void setup_chroot(json& spec);
void kill_orphans();

// --- init_zygote.cpp ---------------------------------------------------------
// `strata-init --zygote`: serves strata's requests on `socket`
// (base/zygote_protocol.hpp) until strata closes it, then returns 0. Each
// request's clone becomes a container's init: its descriptors in place, it
// returns through exit(run(kSpecFd)) as a freshly started init would.
int zygote_main(int socket, int (*run)(int spec_fd));

}  // namespace strata::init
