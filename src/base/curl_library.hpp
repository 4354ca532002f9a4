// libcurl, opened on first use. A build that never downloads anything (most
// of them, and every no-op rebuild) does not pay for loading libcurl and the
// two dozen libraries it pulls in: about 6 ms of dynamic linking per process
// start on the reference machine, a fifth of a no-op rebuild.
//
//   const CurlLibrary& c = curl_library();
//   CURL* h = c.easy_init();
//   c.easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:8080/x");
#pragma once

#include <curl/curl.h>

namespace strata {

struct CurlLibrary {
    CURL* (*easy_init)();
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    void (*easy_cleanup)(CURL*);
    void (*easy_reset)(CURL*);  // options back to defaults; keeps live connections
    const char* (*easy_strerror)(CURLcode);
    CURLU* (*url)();
    CURLUcode (*url_set)(CURLU*, CURLUPart, const char*, unsigned int);
    CURLUcode (*url_get)(const CURLU*, CURLUPart, char**, unsigned int);
    void (*url_cleanup)(CURLU*);
    void (*free)(void*);
    struct curl_slist* (*slist_append)(struct curl_slist*, const char*);
    void (*slist_free_all)(struct curl_slist*);
};

// Loads libcurl (libcurl.so.4) and runs curl_global_init, once per process;
// thread-safe. Throws strata::Error(kSystem) when it cannot be loaded.
const CurlLibrary& curl_library();

}  // namespace strata
