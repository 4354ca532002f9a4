#include "base/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "base/error.hpp"

namespace strata {

namespace {

template <typename F>
void bind(void* lib, F& fn, const char* name) {
    void* sym = ::dlsym(lib, name);
    if (!sym) throw Error(ErrorKind::kSystem, std::string("libcurl.so.4 has no symbol ") + name);
    fn = reinterpret_cast<F>(sym);
}

CurlLibrary load() {
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char* why = ::dlerror();
        throw Error(ErrorKind::kSystem,
                    std::string("cannot load libcurl (needed for downloads): ") +
                        (why ? why : "dlopen failed") + " (apt-get install libcurl4)");
    }
    // Never dlclose'd: handles and callbacks may outlive any scope here.
    CurlLibrary c{};
    bind(lib, c.easy_init, "curl_easy_init");
    bind(lib, c.easy_setopt, "curl_easy_setopt");
    bind(lib, c.easy_perform, "curl_easy_perform");
    bind(lib, c.easy_getinfo, "curl_easy_getinfo");
    bind(lib, c.easy_cleanup, "curl_easy_cleanup");
    bind(lib, c.easy_strerror, "curl_easy_strerror");
    bind(lib, c.url, "curl_url");
    bind(lib, c.url_set, "curl_url_set");
    bind(lib, c.url_get, "curl_url_get");
    bind(lib, c.url_cleanup, "curl_url_cleanup");
    bind(lib, c.free, "curl_free");
    bind(lib, c.slist_append, "curl_slist_append");
    bind(lib, c.slist_free_all, "curl_slist_free_all");
    CURLcode (*global_init)(long) = nullptr;
    bind(lib, global_init, "curl_global_init");
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        throw Error(ErrorKind::kSystem, "curl_global_init failed");
    return c;
}

}  // namespace

const CurlLibrary& curl_library() {
    static std::once_flag once;
    static CurlLibrary lib;
    static std::string failure;
    std::call_once(once, [] {
        try {
            lib = load();
        } catch (const Error& e) {
            failure = e.what();
        }
    });
    if (!failure.empty()) throw Error(ErrorKind::kSystem, failure);
    return lib;
}

}  // namespace strata
