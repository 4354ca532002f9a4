// The container's pseudo-terminal seen from strata: strata-init makes it
// inside the container (on the container's own devpts, so that the command's
// `tty` is /dev/pts/N there) and hands the master back over a unix socket
// with SCM_RIGHTS, as runc does through its --console-socket.
#pragma once

#include "base/unique_fd.hpp"

namespace strata::sandbox {

// Sets the window size of a pseudo-terminal through its master
// (TIOCSWINSZ); the kernel sends SIGWINCH to the terminal's foreground
// process group. Throws Error.
void resize_pty(int master, unsigned short rows, unsigned short cols);

// One descriptor received on `socket` (SCM_RIGHTS), close-on-exec; an empty
// UniqueFd when the other end closed without sending one. Throws Error on a
// failed recvmsg.
UniqueFd receive_fd(int socket);

}  // namespace strata::sandbox
