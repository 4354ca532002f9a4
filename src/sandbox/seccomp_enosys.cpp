#include "sandbox/seccomp_enosys.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cerrno>
#include <cstddef>

#include "base/error.hpp"

namespace strata::sandbox {
namespace {

constexpr uint32_t kX32Bit = 0x40000000;

class Program {
  public:
    size_t size() const { return insns_.size(); }
    void add(uint16_t code, uint32_t k, uint8_t jt = 0, uint8_t jf = 0) {
        insns_.push_back(sock_filter{code, jt, jf, k});
    }
    sock_filter& at(size_t i) { return insns_.at(i); }
    std::string bytes() const {
        return std::string(reinterpret_cast<const char*>(insns_.data()),
                           insns_.size() * sizeof(sock_filter));
    }

  private:
    std::vector<sock_filter> insns_;
};

uint8_t short_jump(size_t from, size_t to) {
    const size_t skip = to - from - 1;
    if (to <= from || skip > 255)
        throw Error(ErrorKind::kInternal, "seccomp ENOSYS prefix: jump out of range");
    return static_cast<uint8_t>(skip);
}

// `jgt limit`: above it, ENOSYS; else on to the filter (jumps patched later).
void check(Program& p, uint32_t limit, std::vector<size_t>& to_filter) {
    p.add(BPF_JMP | BPF_JGT | BPF_K, limit, 0, 1);
    p.add(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    to_filter.push_back(p.size());
    p.add(BPF_JMP | BPF_JA, 0);
}

}  // namespace

std::string enosys_prefix(const std::vector<SyscallLimit>& limits) {
    std::vector<const SyscallLimit*> used;
    for (const SyscallLimit& l : limits)
        if (l.highest || l.highest_x32) used.push_back(&l);
    if (used.empty()) return {};
    Program p;
    std::vector<size_t> to_filter;  // `ja` instructions whose target is the filter
    p.add(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
    const size_t table = p.size();
    for (const SyscallLimit* l : used)
        p.add(BPF_JMP | BPF_JEQ | BPF_K, l->audit_arch);  // jt set below
    to_filter.push_back(p.size());
    p.add(BPF_JMP | BPF_JA, 0);  // another architecture: the filter decides
    for (size_t i = 0; i < used.size(); ++i) {
        const SyscallLimit& l = *used[i];
        p.at(table + i).jt = short_jump(table + i, p.size());
        p.add(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
        if (l.audit_arch != AUDIT_ARCH_X86_64) {
            check(p, *l.highest, to_filter);
            continue;
        }
        // x86-64: bit 30 says x32. Each kind against its own limit; one the
        // filter does not have goes on to the filter.
        const size_t split = p.size();
        p.add(BPF_JMP | BPF_JSET | BPF_K, kX32Bit);
        if (l.highest_x32) {
            check(p, *l.highest_x32, to_filter);
        } else {
            to_filter.push_back(p.size());
            p.add(BPF_JMP | BPF_JA, 0);
        }
        p.at(split).jf = short_jump(split, p.size());
        if (l.highest) {
            check(p, *l.highest, to_filter);
        } else {
            to_filter.push_back(p.size());
            p.add(BPF_JMP | BPF_JA, 0);
        }
    }
    const size_t end = p.size();
    for (size_t at : to_filter)
        p.at(at).k = static_cast<uint32_t>(end - at - 1);
    return p.bytes();
}

}  // namespace strata::sandbox
