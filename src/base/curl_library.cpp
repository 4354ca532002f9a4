#include "base/curl_library.hpp"

#include "base/error.hpp"
#include "base/shared_library.hpp"

namespace strata {

namespace {

CurlLibrary load() {
    const SharedLibrary lib("libcurl.so.4", "libcurl (needed for downloads)", "libcurl4");
    CurlLibrary c{};
    lib.bind(c.easy_init, "curl_easy_init");
    lib.bind(c.easy_setopt, "curl_easy_setopt");
    lib.bind(c.easy_perform, "curl_easy_perform");
    lib.bind(c.easy_getinfo, "curl_easy_getinfo");
    lib.bind(c.easy_cleanup, "curl_easy_cleanup");
    lib.bind(c.easy_reset, "curl_easy_reset");
    lib.bind(c.easy_strerror, "curl_easy_strerror");
    lib.bind(c.url, "curl_url");
    lib.bind(c.url_set, "curl_url_set");
    lib.bind(c.url_get, "curl_url_get");
    lib.bind(c.url_cleanup, "curl_url_cleanup");
    lib.bind(c.free, "curl_free");
    lib.bind(c.slist_append, "curl_slist_append");
    lib.bind(c.slist_free_all, "curl_slist_free_all");
    CURLcode (*global_init)(long) = nullptr;
    lib.bind(global_init, "curl_global_init");
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        throw Error(ErrorKind::kSystem, "curl_global_init failed");
    return c;
}

}  // namespace

const CurlLibrary& curl_library() {
    return load_library_once<CurlLibrary, &load>();
}

}  // namespace strata
