// A descriptor sent over a unix socket (SCM_RIGHTS) with one byte of data,
// or the byte alone for "none"; or a message with several (the zygote's
// requests, zygote_protocol.hpp). Used by strata and by strata-init (which
// compiles this file in), so neither needs the other's error types.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace strata {

// Sends `fd` (or, when it is negative, the byte alone); never raises
// SIGPIPE. False with errno set when sendmsg fails.
bool send_fd(int socket, int fd);

// The descriptor sent (close-on-exec); -1 with errno 0 when the byte came
// alone or the other end closed first, -1 with errno set when recvmsg
// failed.
int receive_fd(int socket);

// The most descriptors one message carries.
constexpr size_t kMaxPassedFds = 128;

// Sends `len` bytes and `nfds` (at most kMaxPassedFds) descriptors in one
// message; never raises SIGPIPE. False with errno set when sendmsg fails.
bool send_message(int socket, const void* data, size_t len, const int* fds, size_t nfds);

// One message: its length (0 when the other end closed), its bytes in
// `data` and its descriptors (close-on-exec) in `fds`, their count in
// `nfds`. -1 with errno set when recvmsg failed, EMSGSIZE when the bytes or
// the descriptors did not fit (those that came are closed).
ssize_t receive_message(int socket, void* data, size_t len, int* fds, size_t max_fds, size_t* nfds);

}  // namespace strata
