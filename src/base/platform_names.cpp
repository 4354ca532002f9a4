#include "base/platform_names.hpp"

namespace strata {

void normalize_architecture(std::string& a, std::string& v) {
    if (a == "i386" || a == "i686" || a == "x86") {
        a = "386";
        v.clear();
    } else if (a == "x86_64" || a == "x86-64" || a == "amd64") {
        a = "amd64";
        if (v == "v1") v.clear();
    } else if (a == "aarch64" || a == "arm64") {
        a = "arm64";
        if (v == "8" || v == "v8") v.clear();
    } else if (a == "armhf") {
        a = "arm";
        v = "v7";
    } else if (a == "armel") {
        a = "arm";
        v = "v6";
    } else if (a == "arm") {
        if (v.empty() || v == "7") v = "v7";
        if (v == "5" || v == "6" || v == "8") v = "v" + v;
    }
}

}  // namespace strata
