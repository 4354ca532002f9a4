// A shared library strata loads at run time instead of linking it (libcurl
// for downloads, libzstd's threaded build for zstd layers): opened once,
// never unloaded (handles and callbacks may outlive any scope), and every
// error names the library and what to install.
#pragma once

#include <mutex>
#include <string>

#include "base/error.hpp"

namespace strata {

class SharedLibrary {
  public:
    // dlopen(soname). Error(kSystem): "cannot load WHAT: <dlerror>
    // (apt-get install PACKAGE)".
    SharedLibrary(const char* soname, const std::string& what, const std::string& package);

    // Points `fn` at `symbol`. Error(kSystem) naming the library and the
    // symbol, followed by `missing_hint` when given.
    template <typename F>
    void bind(F& fn, const char* symbol, const char* missing_hint = nullptr) const {
        fn = reinterpret_cast<F>(address(symbol, missing_hint));
    }

  private:
    void* address(const char* symbol, const char* missing_hint) const;

    void* handle_ = nullptr;
    std::string soname_;
};

// The table Load() returns, made once per process; when it failed, every
// call throws the same error again.
template <typename T, T (*Load)()>
const T& load_library_once() {
    static std::once_flag once;
    static T table;
    static std::string failure;
    std::call_once(once, [] {
        try {
            table = Load();
        } catch (const Error& e) {
            failure = e.what();
        }
    });
    if (!failure.empty()) throw Error(ErrorKind::kSystem, failure);
    return table;
}

}  // namespace strata
