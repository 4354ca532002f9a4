#include "base/build_id.hpp"

#include <elf.h>
#include <link.h>

#include <cstring>

namespace strata {

namespace {

std::string read_build_id() {
    std::string id;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) -> int {
            auto& result = *static_cast<std::string*>(out);
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_NOTE) continue;
                const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
                const char* end = p + ph.p_memsz;
                while (p + sizeof(ElfW(Nhdr)) <= end) {
                    ElfW(Nhdr) n;
                    std::memcpy(&n, p, sizeof n);
                    const char* name = p + sizeof n;
                    const char* desc = name + ((n.n_namesz + 3) & ~3u);
                    const char* next = desc + ((n.n_descsz + 3) & ~3u);
                    if (next > end) break;
                    if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 &&
                        std::memcmp(name, "GNU", 4) == 0) {
                        result.assign(desc, n.n_descsz);
                        return 1;
                    }
                    p = next;
                }
            }
            return 1;  // the first object is the executable; stop after it
        },
        &id);
    return id;
}

}  // namespace

const std::string& binary_build_id() {
    static const std::string id = read_build_id();
    return id;
}

}  // namespace strata
