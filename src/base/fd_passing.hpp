// A descriptor sent over a unix socket (SCM_RIGHTS) with one byte of data,
// or the byte alone for "none". Used by strata and by strata-init (which
// compiles this file in), so neither needs the other's error types.
#pragma once

namespace strata {

// Sends `fd` (or, when it is negative, the byte alone); never raises
// SIGPIPE. False with errno set when sendmsg fails.
bool send_fd(int socket, int fd);

// The descriptor sent (close-on-exec); -1 with errno 0 when the byte came
// alone or the other end closed first, -1 with errno set when recvmsg
// failed.
int receive_fd(int socket);

}  // namespace strata
