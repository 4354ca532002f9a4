#include "sandbox/device_filter.hpp"

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "base/error.hpp"

namespace strata::sandbox {

const std::vector<DeviceRule>& default_device_rules() {
    static const std::vector<DeviceRule> rules = {
        {'c', kAnyDeviceNumber, kAnyDeviceNumber, "m"},  // mknod of any node, but no use of it
        {'b', kAnyDeviceNumber, kAnyDeviceNumber, "m"},
        {'c', 1, 3, "rwm"},                   // /dev/null
        {'c', 1, 8, "rwm"},                   // /dev/random
        {'c', 1, 7, "rwm"},                   // /dev/full
        {'c', 5, 0, "rwm"},                   // /dev/tty
        {'c', 1, 5, "rwm"},                   // /dev/zero
        {'c', 1, 9, "rwm"},                   // /dev/urandom
        {'c', 136, kAnyDeviceNumber, "rwm"},  // /dev/pts/*
        {'c', 5, 2, "rwm"},                   // /dev/ptmx
        {'c', 10, 200, "rwm"},                // /dev/net/tun
    };
    return rules;
}

std::string device_rule_line(const DeviceRule& rule) {
    auto number = [](int64_t n) {
        return n == kAnyDeviceNumber ? std::string("*") : std::to_string(n);
    };
    return fmt::format("{} {}:{} {}", rule.type, number(rule.major), number(rule.minor),
                       rule.access);
}

namespace {

// Registers of the program (r1 holds the context on entry).
constexpr uint8_t kR0 = 0, kR1 = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

bpf_insn load_u32(uint8_t dst, int16_t offset) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, kR1, offset, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
// "if dst != imm goto +off"; the offset is filled in once the rule's end is known.
bpf_insn jne_imm(uint8_t dst, int32_t imm) {
    return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

uint32_t access_bits(std::string_view access) {
    uint32_t bits = 0;
    for (char c : access) {
        if (c == 'r')
            bits |= BPF_DEVCG_ACC_READ;
        else if (c == 'w')
            bits |= BPF_DEVCG_ACC_WRITE;
        else if (c == 'm')
            bits |= BPF_DEVCG_ACC_MKNOD;
        else
            throw Error(ErrorKind::kInternal,
                        fmt::format("device rule access '{}': not r, w or m", access));
    }
    return bits;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

int bpf(int cmd, bpf_attr& attr) {
    return static_cast<int>(::syscall(SYS_bpf, cmd, &attr, sizeof(attr)));
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& allow) {
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, with
    // access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*.
    std::vector<bpf_insn> prog = {
        load_u32(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
        load_u32(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
        mov32_reg(kAccess, kType),
        alu32_imm(BPF_RSH, kAccess, 16),
        alu32_imm(BPF_AND, kType, 0xffff),
    };
    for (const DeviceRule& rule : allow) {
        std::vector<size_t> to_next;  // jumps that leave this rule when it does not match
        if (rule.type == 'c' || rule.type == 'b') {
            to_next.push_back(prog.size());
            prog.push_back(
                jne_imm(kType, rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
        } else if (rule.type != 'a') {
            throw Error(ErrorKind::kInternal,
                        fmt::format("device rule type '{}': not c, b or a", rule.type));
        }
        const uint32_t bits = access_bits(rule.access);
        if (bits != kAllAccess) {
            // Some requested access outside the rule's → no match.
            prog.push_back(mov32_reg(kR1, kAccess));
            prog.push_back(alu32_imm(BPF_AND, kR1, static_cast<int32_t>(~bits & kAllAccess)));
            to_next.push_back(prog.size());
            prog.push_back(jne_imm(kR1, 0));
        }
        if (rule.major != kAnyDeviceNumber) {
            to_next.push_back(prog.size());
            prog.push_back(jne_imm(kMajor, static_cast<int32_t>(rule.major)));
        }
        if (rule.minor != kAnyDeviceNumber) {
            to_next.push_back(prog.size());
            prog.push_back(jne_imm(kMinor, static_cast<int32_t>(rule.minor)));
        }
        prog.push_back(mov64_imm(kR0, 1));
        prog.push_back(exit_insn());
        for (size_t at : to_next)
            prog[at].off = static_cast<int16_t>(prog.size() - at - 1);
    }
    prog.push_back(mov64_imm(kR0, 0));
    prog.push_back(exit_insn());
    return prog;
}

UniqueFd load_device_filter(const std::vector<DeviceRule>& allow) {
    const std::vector<bpf_insn> prog = device_filter_program(allow);
    static const char license[] = "Apache-2.0";
    std::string log(64 * 1024, '\0');
    auto load = [&](bool with_log) {
        bpf_attr attr{};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.expected_attach_type = BPF_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<uint64_t>(prog.data());
        attr.insn_cnt = static_cast<uint32_t>(prog.size());
        attr.license = reinterpret_cast<uint64_t>(license);
        std::strncpy(attr.prog_name, "strata_devices", sizeof(attr.prog_name) - 1);
        if (with_log) {
            attr.log_buf = reinterpret_cast<uint64_t>(log.data());
            attr.log_size = static_cast<uint32_t>(log.size());
            attr.log_level = 1;
        }
        return bpf(BPF_PROG_LOAD, attr);
    };
    int fd = load(false);
    if (fd < 0) {
        const int err = errno;
        if (err == EINVAL || err == EACCES) load(true);  // once more, for the verifier's reasons
        log.resize(std::strlen(log.c_str()));
        throw Error(ErrorKind::kSystem,
                    fmt::format("bpf BPF_PROG_LOAD of the cgroup device program ({} instructions): "
                                "{}{}{}",
                                prog.size(), std::strerror(err), log.empty() ? "" : "\n", log));
    }
    return UniqueFd(fd);
}

void attach_device_filter(int cgroup_dir_fd, int program_fd, std::string_view cgroup_path) {
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(program_fd);
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attr) != 0)
        throw system_error("bpf BPF_PROG_ATTACH (BPF_CGROUP_DEVICE) to", cgroup_path);
}

}  // namespace strata::sandbox
