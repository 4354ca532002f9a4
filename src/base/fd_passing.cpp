#include "base/fd_passing.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata {

bool send_fd(int socket, int fd) {
    const char byte = fd >= 0 ? 'F' : 'N';
    return send_message(socket, &byte, 1, &fd, fd >= 0 ? 1 : 0);
}

int receive_fd(int socket) {
    char byte = 0;
    int fd = -1;
    size_t n = 0;
    if (receive_message(socket, &byte, 1, &fd, 1, &n) < 0) return -1;
    errno = 0;
    return n == 1 ? fd : -1;
}

bool send_message(int socket, const void* data, size_t len, const int* fds, size_t nfds) {
    if (nfds > kMaxPassedFds) {
        errno = EINVAL;
        return false;
    }
    iovec iov{const_cast<void*>(data), len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    for (;;) {
        if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0) return true;
        if (errno != EINTR) return false;
    }
}

ssize_t receive_message(int socket, void* data, size_t len, int* fds, size_t max_fds,
                        size_t* nfds) {
    *nfds = 0;
    iovec iov{data, len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    bool lost = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < max_fds)
                fds[(*nfds)++] = fd;
            else {
                ::close(fd);
                lost = true;
            }
        }
    }
    if (lost) {
        for (size_t i = 0; i < *nfds; ++i)
            ::close(fds[i]);
        *nfds = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}

}  // namespace strata
