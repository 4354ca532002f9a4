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
        for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
            loc_ = ::newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(0));
            if (loc_ != static_cast<locale_t>(0)) break;
        }
        if (loc_ != static_cast<locale_t>(0)) old_ = ::uselocale(loc_);
    }
    ~ScopedUtf8Locale() {
        if (loc_ != static_cast<locale_t>(0)) {
            ::uselocale(old_);
            ::freelocale(loc_);
        }
    }
    ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
    ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

  private:
    locale_t loc_ = static_cast<locale_t>(0);
    locale_t old_ = static_cast<locale_t>(0);
};

}  // namespace strata::store
