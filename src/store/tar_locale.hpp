// ScopedUtf8Locale — makes the calling thread's LC_CTYPE UTF-8 while tars are
// read or written.
//
// libarchive converts names between the "current locale" and the UTF-8 that
// PAX headers hold. Under the C locale (a daemon, CI) any non-ASCII file name
// fails that conversion. File names are bytes on Linux; with a UTF-8 thread
// locale (uselocale, so the rest of the process is untouched) UTF-8 names
// pass through unchanged, and libarchive falls back to raw bytes
// (hdrcharset=BINARY) for the rare name that is not UTF-8.
#pragma once

#include <locale.h>

namespace strata::store {

class ScopedUtf8Locale {
  public:
    ScopedUtf8Locale() {
        if (const locale_t loc = utf8_locale(); loc != static_cast<locale_t>(0))
            old_ = ::uselocale(loc);
    }
    ~ScopedUtf8Locale() {
        if (old_ != static_cast<locale_t>(0)) ::uselocale(old_);
    }
    ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
    ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

  private:
    // Made once per process and kept (a locale_t may be used by several
    // threads at once): loading it reads the locale's files, ~0.1 ms, which
    // every layer written or read paid again.
    static locale_t utf8_locale() {
        static const locale_t loc = [] {
            for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"})
                if (locale_t l = ::newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(0));
                    l != static_cast<locale_t>(0))
                    return l;
            return static_cast<locale_t>(0);
        }();
        return loc;
    }

    locale_t old_ = static_cast<locale_t>(0);
};

}  // namespace strata::store
