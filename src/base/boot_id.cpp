#include "base/boot_id.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace strata {

const std::string& boot_id() {
    static const std::string id = [] {
        std::string s;
        UniqueFd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
        if (!fd) return s;
        char buf[64];
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) s.assign(buf, static_cast<size_t>(n));
        while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
            s.pop_back();
        return s;
    }();
    return id;
}

}  // namespace strata
