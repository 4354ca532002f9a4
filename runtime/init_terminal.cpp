// strata-init: the pseudo-terminal ("tty"), made on the container's devpts,
// its master sent to strata, its slave the command's controlling terminal.
#include "base/fd_passing.hpp"
#include "init.hpp"

namespace strata::init {

int g_tty_slave = -1;

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
    if (!strata::send_fd(socket, master)) die("send the terminal to strata");
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

}  // namespace strata::init
