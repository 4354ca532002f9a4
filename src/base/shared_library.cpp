#include "base/shared_library.hpp"

#include <dlfcn.h>

namespace strata {

SharedLibrary::SharedLibrary(const char* soname, const std::string& what,
                             const std::string& package)
    : handle_(::dlopen(soname, RTLD_NOW | RTLD_LOCAL)), soname_(soname) {
    if (handle_) return;
    const char* why = ::dlerror();
    throw Error(ErrorKind::kSystem, "cannot load " + what + ": " + (why ? why : "dlopen failed") +
                                        " (apt-get install " + package + ")");
}

void* SharedLibrary::address(const char* symbol, const char* missing_hint) const {
    void* sym = ::dlsym(handle_, symbol);
    if (!sym)
        throw Error(ErrorKind::kSystem,
                    soname_ + " has no symbol " + symbol +
                        (missing_hint ? std::string(" (") + missing_hint + ")" : std::string()));
    return sym;
}

}  // namespace strata
