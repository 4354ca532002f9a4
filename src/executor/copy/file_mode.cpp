#include "executor/copy/file_mode.hpp"

#include "base/error.hpp"

namespace strata::executor {

namespace {

constexpr uint32_t kSetId = 06000;
constexpr uint32_t kSticky = 01000;
constexpr uint32_t kStandard = 06777;  // set-id bits and rwx for all; not sticky
constexpr uint32_t kUmask = 022;
constexpr uint32_t kMask = ~kUmask & 07777;

uint32_t who_bits(char c) {
    switch (c) {
        case 'a':
            return kStandard;
        case 'u':
            return 04700;
        case 'g':
            return 02070;
        case 'o':
            return 00007;
        default:
            return 0;
    }
}

int shift_of(char cls) {
    return cls == 'u' ? 6 : cls == 'g' ? 3 : 0;
}

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
    throw Error(ErrorKind::kUsage,
                "invalid chmod parameter: '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

ModeSpec ModeSpec::parse(std::string_view text) {
    ModeSpec spec;
    if (text.empty()) invalid(text, "empty mode");
    spec.text_ = std::string(text);
    if (text[0] >= '0' && text[0] <= '9') {
        uint32_t v = 0;
        for (char c : text) {
            if (c < '0' || c > '7' || v > 07777) {
                throw Error(ErrorKind::kUsage,
                            "invalid chmod parameter: '" + std::string(text) +
                                "'. it should be octal string and between 0 and 07777");
            }
            v = v * 8 + static_cast<uint32_t>(c - '0');
        }
        if (v > 07777) {
            throw Error(ErrorKind::kUsage,
                        "invalid chmod parameter: '" + std::string(text) +
                            "'. it should be octal string and between 0 and 07777");
        }
        spec.octal_ = true;
        spec.octal_value_ = v;
        return spec;
    }

    size_t i = 0;
    const size_t n = text.size();
    auto emit = [&](char op, uint32_t who, uint32_t bits) {
        Action a;
        a.op = op;
        a.who = who;
        a.bits = bits;
        spec.actions_.push_back(a);
    };
    for (;;) {  // one clause: [who...] action...
        uint32_t who = 0;
        while (i < n && who_bits(text[i]) != 0)
            who |= who_bits(text[i++]);
        if (i >= n || (text[i] != '+' && text[i] != '-' && text[i] != '='))
            invalid(text, "expected '+', '-' or '=' at offset " + std::to_string(i));
        bool equal_done = false;
        for (;;) {  // one action: op [perm...]
            const char op = text[i++];
            if (op == '=') equal_done = false;
            who &= ~kSticky;
            uint32_t perm = 0, perm_x = 0;
            for (;; ++i) {
                const char c = i < n ? text[i] : '\0';
                if (c == 'r') {
                    perm |= 0444;
                } else if (c == 'w') {
                    perm |= 0222;
                } else if (c == 'x') {
                    perm |= 0111;
                } else if (c == 'X') {
                    if (op == '+') perm_x = 0111;
                } else if (c == 's') {
                    if (who == 0 || (who & ~00007u) != 0) perm |= kSetId;
                } else if (c == 't') {
                    if (who == 0 || (who & ~00007u) != 0) {
                        who |= kSticky;
                        perm |= kSticky;
                    }
                } else if (c == 'u' || c == 'g' || c == 'o') {
                    if (perm != 0) {
                        emit(op, who, perm);
                        perm = 0;
                    }
                    if (op == '=') equal_done = true;
                    if (perm_x != 0) {
                        emit('X', who, perm_x);
                        perm_x = 0;
                    }
                    Action a;
                    a.op = 'c';
                    a.who = who;
                    a.copy_from = c;
                    a.copy_op = op;
                    spec.actions_.push_back(a);
                } else {
                    if (perm != 0 || (op == '=' && !equal_done)) {
                        if (op == '=') equal_done = true;
                        emit(op, who, perm);
                        perm = 0;
                    }
                    if (perm_x != 0) emit('X', who, perm_x);
                    break;
                }
            }
            if (i >= n) return spec;
            if (text[i] == ',') {
                ++i;
                if (i >= n) invalid(text, "trailing ','");
                break;
            }
            if (text[i] != '+' && text[i] != '-' && text[i] != '=')
                invalid(text, std::string("unexpected '") + text[i] + "'");
        }
    }
}

uint32_t ModeSpec::apply(uint32_t mode, bool is_dir) const {
    if (empty()) return mode & 07777;
    if (octal_) return octal_value_;
    const uint32_t original = mode;
    for (const Action& a : actions_) {
        const uint32_t limited = a.who != 0 ? a.who & a.bits : kMask & a.bits;
        switch (a.op) {
            case '+':
                mode |= limited;
                break;
            case '-':
                mode &= ~limited;
                break;
            case '=':
                mode &= ~(a.who != 0 ? a.who : kStandard);
                mode |= limited;
                break;
            case 'X':
                if ((original & 0111) != 0 || is_dir) mode |= limited;
                break;
            case 'c': {
                const uint32_t value = (mode >> shift_of(a.copy_from)) & 07;
                const uint32_t limit = a.who != 0 ? 07777 : kMask;
                for (char cls : {'u', 'g', 'o'}) {
                    const uint32_t cls_read = cls == 'u' ? 0400 : cls == 'g' ? 0040 : 0004;
                    if (a.who != 0 && (a.who & cls_read) == 0) continue;
                    const int sh = shift_of(cls);
                    if (a.copy_op == '-' || a.copy_op == '=') {
                        const uint32_t clear = a.copy_op == '=' ? 07 : value;
                        mode &= ~((clear << sh) & limit);
                    }
                    if (a.copy_op == '+' || a.copy_op == '=') mode |= (value << sh) & limit;
                }
                break;
            }
            default:
                break;
        }
    }
    return mode & 07777;
}

}  // namespace strata::executor
