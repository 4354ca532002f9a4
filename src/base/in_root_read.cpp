#include "base/in_root_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "base/unique_fd.hpp"

namespace strata {

std::optional<std::string> read_file_in_root(int root_fd, std::string_view path,
                                             std::string_view what) {
    UniqueFd fd = open_in_root(root_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::nullopt;
        throw system_error("open", what);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw system_error("stat", what);
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw system_error("read", what);
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace strata
