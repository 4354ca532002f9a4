#include "sandbox/pty.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "base/fd_passing.hpp"

namespace strata::sandbox {

void resize_pty(int master, unsigned short rows, unsigned short cols) {
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (::ioctl(master, TIOCSWINSZ, &ws) != 0)
        throw system_error("set the window size (TIOCSWINSZ) of", "the container's terminal");
}

UniqueFd receive_fd(int socket) {
    const int fd = strata::receive_fd(socket);
    if (fd < 0 && errno != 0)
        throw system_error("recvmsg (the terminal from strata-init) on", "its socket");
    return UniqueFd(fd);
}

}  // namespace strata::sandbox
