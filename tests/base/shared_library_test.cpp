// SharedLibrary: load failures and missing symbols name the library and what
// to do; load_library_once runs its loader once and repeats its error.
#include "base/shared_library.hpp"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace {

std::string error_of(void (*f)()) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(SharedLibrary, AMissingLibrarySaysWhatToInstall) {
    const auto msg = error_of([] { SharedLibrary("libstrata-none.so.9", "nothing", "pkg-x"); });
    EXPECT_NE(msg.find("cannot load nothing: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("libstrata-none.so.9"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(apt-get install pkg-x)"), std::string::npos) << msg;
}

TEST(SharedLibrary, BindsSymbolsAndNamesAMissingOne) {
    const SharedLibrary libc("libc.so.6", "libc", "libc6");
    size_t (*strlen_fn)(const char*) = nullptr;
    libc.bind(strlen_fn, "strlen");
    ASSERT_NE(strlen_fn, nullptr);
    EXPECT_EQ(strlen_fn("four"), 4u);
    const auto msg = error_of([] {
        const SharedLibrary l("libc.so.6", "libc", "libc6");
        void (*f)() = nullptr;
        l.bind(f, "no_such_symbol_here", "a newer libc");
    });
    EXPECT_EQ(msg, "libc.so.6 has no symbol no_such_symbol_here (a newer libc)");
}

int loads = 0;
int failing_load() {
    ++loads;
    throw Error(ErrorKind::kSystem, "broken");
}

TEST(SharedLibrary, LoadOnceRepeatsTheFirstError) {
    for (int i = 0; i < 3; ++i) {
        const auto msg = error_of([] { load_library_once<int, &failing_load>(); });
        EXPECT_NE(msg.find("broken"), std::string::npos) << msg;
    }
    EXPECT_EQ(loads, 1);
}

}  // namespace
}  // namespace strata
