#include "sandbox/seccomp_profile.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/seccomp_enosys.hpp"

namespace strata::sandbox {
namespace {

using nlohmann::json;

// A profile error: "seccomp profile '<origin>': <field>: <what>".
[[noreturn]] void fail(std::string_view origin, std::string_view field, std::string_view what) {
    throw Error(ErrorKind::kParse,
                fmt::format("seccomp profile '{}': {}: {}", origin, field, what));
}

// Field readers. Absent and null are the same (Go's encoding/json leaves the
// zero value for both); a value of the wrong type is an error.
class Fields {
  public:
    explicit Fields(std::string_view origin) : origin_(origin) {}

    const json* find(const json& obj, const char* key) const {
        const auto it = obj.find(key);
        return it == obj.end() || it->is_null() ? nullptr : &*it;
    }
    std::optional<std::string> string(const json& obj, const char* key,
                                      const std::string& field) const {
        const json* v = find(obj, key);
        if (!v) return std::nullopt;
        if (!v->is_string()) fail(origin_, field, "must be a string");
        return v->get<std::string>();
    }
    std::optional<uint64_t> number(const json& obj, const char* key,
                                   const std::string& field) const {
        const json* v = find(obj, key);
        if (!v) return std::nullopt;
        if (!v->is_number_unsigned()) fail(origin_, field, "must be a non-negative integer");
        return v->get<uint64_t>();
    }
    std::vector<std::string> strings(const json& obj, const char* key,
                                     const std::string& field) const {
        std::vector<std::string> out;
        const json* v = find(obj, key);
        if (!v) return out;
        if (!v->is_array()) fail(origin_, field, "must be an array of strings");
        for (const auto& s : *v) {
            if (!s.is_string()) fail(origin_, field, "must be an array of strings");
            out.push_back(s.get<std::string>());
        }
        return out;
    }
    const json* array(const json& obj, const char* key, const std::string& field) const {
        const json* v = find(obj, key);
        if (v && !v->is_array()) fail(origin_, field, "must be an array");
        return v;
    }
    const json* object(const json& obj, const char* key, const std::string& field) const {
        const json* v = find(obj, key);
        if (v && !v->is_object()) fail(origin_, field, "must be an object");
        return v;
    }

    std::string_view origin() const { return origin_; }

  private:
    std::string_view origin_;
};

struct KernelVersion {
    int kernel = 0;
    int major = 0;
};

// moby reads "<kernel>.<major>" and ignores the rest: "6.1.0-18-amd64" is 6.1.
std::optional<KernelVersion> parse_kernel_version(const std::string& text) {
    KernelVersion v;
    if (std::sscanf(text.c_str(), "%d.%d", &v.kernel, &v.major) != 2) return std::nullopt;
    return v;
}

const KernelVersion& running_kernel() {
    static const KernelVersion version = [] {
        utsname uts{};
        if (uname(&uts) != 0) throw system_error("uname", "");
        const auto v = parse_kernel_version(uts.release);
        if (!v)
            throw Error(ErrorKind::kSystem,
                        fmt::format("cannot parse the kernel release \"{}\"", uts.release));
        return *v;
    }();
    return version;
}

bool at_least(const KernelVersion& k, const KernelVersion& min) {
    return k.kernel > min.kernel || (k.kernel == min.kernel && k.major >= min.major);
}

// The native architecture as libseccomp's token, as the profile's archMap
// names it ("SCMP_ARCH_X86_64"), and as Go names it in includes/excludes
// "arches" ("amd64": moby compares against GOARCH mapped this way).
struct NativeArch {
    uint32_t token;
    std::string_view profile_name;
    std::string_view go_name;
};

NativeArch native_arch() {
    struct Row {
        uint32_t token;
        std::string_view profile_name, go_name;
    };
    static constexpr std::array<Row, 14> rows = {{
        {SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64", "amd64"},
        {SCMP_ARCH_X86, "SCMP_ARCH_X86", "x86"},
        {SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", "arm64"},
        {SCMP_ARCH_ARM, "SCMP_ARCH_ARM", "arm"},
        {SCMP_ARCH_MIPS64, "SCMP_ARCH_MIPS64", "mips64"},
        {SCMP_ARCH_MIPS64N32, "SCMP_ARCH_MIPS64N32", "mips64n32"},
        {SCMP_ARCH_MIPSEL64, "SCMP_ARCH_MIPSEL64", "mipsel64"},
        {SCMP_ARCH_MIPSEL64N32, "SCMP_ARCH_MIPSEL64N32", "mips3l64n32"},  // moby's spelling
        {SCMP_ARCH_MIPSEL, "SCMP_ARCH_MIPSEL", "mipsle"},
        {SCMP_ARCH_PPC64, "SCMP_ARCH_PPC64", "ppc64"},
        {SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", "ppc64le"},
        {SCMP_ARCH_S390, "SCMP_ARCH_S390", "s390"},
        {SCMP_ARCH_S390X, "SCMP_ARCH_S390X", "s390x"},
        {SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", "riscv64"},
    }};
    const uint32_t token = seccomp_arch_native();
    for (const auto& r : rows)
        if (r.token == token) return {token, r.profile_name, r.go_name};
    return {token, "", ""};
}

// "SCMP_ARCH_X86" → libseccomp's token, 0 when unknown.
uint32_t arch_token(const std::string& profile_name) {
    std::string name = profile_name;
    if (name.rfind("SCMP_ARCH_", 0) == 0) name.erase(0, 10);
    for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return seccomp_arch_resolve_name(name.c_str());
}

uint32_t parse_action(const Fields& f, const std::string& name, std::optional<uint64_t> errno_ret,
                      const std::string& field) {
    // runc: ERRNO and TRACE return errnoRet, EPERM without it; errnoRet on
    // any other action is ignored.
    const auto ret = static_cast<uint32_t>(errno_ret.value_or(EPERM));
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY")
        fail(f.origin(), field,
             "SCMP_ACT_NOTIFY needs a seccomp agent, which strata does not have; use another "
             "action");
    fail(f.origin(), field,
         fmt::format("unknown action \"{}\" (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, "
                     "SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, "
                     "SCMP_ACT_TRACE or SCMP_ACT_LOG)",
                     name));
}

scmp_compare parse_op(const Fields& f, const std::string& name, const std::string& field) {
    static constexpr std::array<std::pair<std::string_view, scmp_compare>, 7> ops = {{
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    }};
    for (const auto& [n, op] : ops)
        if (n == name) return op;
    fail(f.origin(), field,
         fmt::format("unknown operator \"{}\" (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
                     "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)",
                     name));
}

// One `includes` or `excludes` object.
struct Condition {
    std::vector<std::string> caps;
    std::vector<std::string> arches;
    std::optional<KernelVersion> min_kernel;
};

Condition parse_condition(const Fields& f, const json* obj, const std::string& field) {
    Condition c;
    if (!obj) return c;
    c.caps = f.strings(*obj, "caps", field + ".caps");
    c.arches = f.strings(*obj, "arches", field + ".arches");
    if (auto mk = f.string(*obj, "minKernel", field + ".minKernel"); mk && !mk->empty()) {
        c.min_kernel = parse_kernel_version(*mk);
        if (!c.min_kernel)
            fail(f.origin(), field + ".minKernel",
                 fmt::format("invalid kernel version \"{}\", expected \"<kernel>.<major>\"", *mk));
    }
    return c;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// moby's selection: an entry is dropped when an excluded arch is ours, an
// excluded capability is held, or the kernel is at least excludes.minKernel;
// and when includes name arches that are not ours, capabilities that are not
// all held, or a kernel newer than ours.
bool entry_applies(const Condition& inc, const Condition& exc, std::string_view arch,
                   const std::vector<std::string>& caps, const KernelVersion& kernel) {
    if (contains(exc.arches, arch)) return false;
    for (const auto& c : exc.caps)
        if (contains(caps, c)) return false;
    if (exc.min_kernel && at_least(kernel, *exc.min_kernel)) return false;
    if (!inc.arches.empty() && !contains(inc.arches, arch)) return false;
    for (const auto& c : inc.caps)
        if (!contains(caps, c)) return false;
    if (inc.min_kernel && !at_least(kernel, *inc.min_kernel)) return false;
    return true;
}

struct Rule {
    std::vector<std::string> names;
    uint32_t action;
    std::vector<scmp_arg_cmp> args;
    std::string field;  // "syscalls[3]", for errors
};

// "CAP_SYS_ADMIN", "sys_admin", "cap_sys_admin" → "CAP_SYS_ADMIN"; names this
// build does not know stay as given (moby compares strings).
std::vector<std::string> canonical_caps(const std::vector<std::string>& caps) {
    std::vector<std::string> out;
    for (const auto& c : caps) {
        const auto n = capability_number(c);
        out.push_back(n ? all_capability_names()[static_cast<size_t>(*n)] : c);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

struct FilterDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterPtr = std::unique_ptr<void, FilterDeleter>;

void check_scmp(int rc, std::string_view origin, std::string_view what) {
    if (rc < 0)
        throw Error(ErrorKind::kInternal,
                    fmt::format("seccomp profile '{}': {}: {}", origin, what, std::strerror(-rc)));
}

// Adds one entry's rule for one syscall the way runc's matchCall does.
void add_rule(scmp_filter_ctx ctx, const Rule& rule, const std::string& name, int nr,
              std::string_view origin) {
    const auto what = [&] { return fmt::format("{}: adding the rule for {}", rule.field, name); };
    if (rule.args.empty()) {
        check_scmp(seccomp_rule_add(ctx, rule.action, nr, 0), origin, what());
        return;
    }
    // Conditions on distinct arguments are ANDed in one rule. When one
    // argument has several conditions, libseccomp cannot AND them, and runc
    // adds each as a rule of its own (so they are ORed) — as does strata.
    std::array<int, 6> per_index{};
    for (const auto& a : rule.args)
        ++per_index[a.arg];
    if (std::all_of(per_index.begin(), per_index.end(), [](int n) { return n <= 1; })) {
        check_scmp(
            seccomp_rule_add_array(ctx, rule.action, nr, static_cast<unsigned>(rule.args.size()),
                                   rule.args.data()),
            origin, what());
        return;
    }
    for (const auto& a : rule.args)
        check_scmp(seccomp_rule_add_array(ctx, rule.action, nr, 1, &a), origin, what());
}

std::string read_all(int fd, std::string_view what) {
    struct stat st {};
    if (fstat(fd, &st) != 0) throw system_error("fstat", what);
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw system_error("pread", what);
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
}

json parse_document(std::string_view json_text, std::string_view origin) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {  // also out_of_range: a number like 1e400
        fail(origin, "(document)", fmt::format("not valid JSON: {}", e.what()));
    }
    if (!doc.is_object()) fail(origin, "(document)", "must be a JSON object");
    return doc;
}

// The highest number each architecture of the filter gives a syscall the
// profile names (in the entries that apply: runc's lastSyscalls), for
// enosys_prefix. Names an architecture does not have are skipped; s390's
// (whose unknown syscalls arrive as number 0) are left out.
std::vector<SyscallLimit> syscall_limits(const std::vector<uint32_t>& tokens,
                                         const std::vector<Rule>& rules) {
    std::vector<SyscallLimit> out;
    for (const uint32_t token : tokens) {
        if (token == SCMP_ARCH_S390 || token == SCMP_ARCH_S390X) continue;
        const bool x32 = token == SCMP_ARCH_X32;
        const uint32_t audit = x32 ? SCMP_ARCH_X86_64 : token;  // the real AUDIT_ARCH value
        std::optional<uint32_t> highest;
        for (const auto& rule : rules)
            for (const auto& name : rule.names) {
                const int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
                if (nr < 0) continue;
                highest = std::max(highest.value_or(0), static_cast<uint32_t>(nr));
            }
        if (!highest) continue;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const SyscallLimit& l) { return l.audit_arch == audit; });
        if (it == out.end()) it = out.insert(out.end(), SyscallLimit{audit, {}, {}});
        (x32 ? it->highest_x32 : it->highest) = highest;
    }
    return out;
}

std::string compile_for(std::string_view json_text, const std::vector<std::string>& caps_in,
                        std::string_view origin, const KernelVersion& kernel) {
    const json doc = parse_document(json_text, origin);
    const Fields f(origin);
    const auto caps = canonical_caps(caps_in);
    const NativeArch native = native_arch();

    const auto default_name = f.string(doc, "defaultAction", "defaultAction");
    const json* syscalls = f.array(doc, "syscalls", "syscalls");
    // moby: no default action and no syscalls means seccomp is off.
    if ((!default_name || default_name->empty()) && (!syscalls || syscalls->empty())) return {};
    if (!default_name) fail(origin, "defaultAction", "missing");
    const uint32_t default_action = parse_action(
        f, *default_name, f.number(doc, "defaultErrnoRet", "defaultErrnoRet"), "defaultAction");

    // Seccomp filter flags are arguments of the seccomp() call that loads the
    // filter, not part of the exported program; strata-init loads with none.
    for (const auto& flag : f.strings(doc, "flags", "flags"))
        if (flag != "SECCOMP_FILTER_FLAG_TSYNC")
            fail(origin, "flags",
                 fmt::format("flag \"{}\" is not supported by strata; remove it", flag));

    // Architectures: either a flat list, or archMap's entry for our own
    // architecture with its sub-architectures.
    const auto architectures = f.strings(doc, "architectures", "architectures");
    const json* arch_map = f.array(doc, "archMap", "archMap");
    if (!architectures.empty() && arch_map && !arch_map->empty())
        fail(origin, "architectures",
             "'architectures' and 'archMap' were both specified, use either one");
    std::vector<std::pair<std::string, std::string>> extra_arches;  // (name, field)
    for (size_t i = 0; i < architectures.size(); ++i)
        extra_arches.emplace_back(architectures[i], fmt::format("architectures[{}]", i));
    if (arch_map && !native.profile_name.empty()) {
        for (size_t i = 0; i < arch_map->size(); ++i) {
            const json& entry = (*arch_map)[i];
            const std::string field = fmt::format("archMap[{}]", i);
            if (!entry.is_object()) fail(origin, field, "must be an object");
            if (f.string(entry, "architecture", field + ".architecture") != native.profile_name)
                continue;
            const auto subs = f.strings(entry, "subArchitectures", field + ".subArchitectures");
            for (size_t j = 0; j < subs.size(); ++j)
                extra_arches.emplace_back(subs[j],
                                          fmt::format("{}.subArchitectures[{}]", field, j));
            break;
        }
    }

    // Every entry is checked, also those that do not apply here: a typo in
    // a rule for another architecture is still a typo.
    std::vector<Rule> rules;
    size_t rule_names = 0;
    if (syscalls) {
        for (size_t i = 0; i < syscalls->size(); ++i) {
            const json& entry = (*syscalls)[i];
            Rule rule;
            rule.field = fmt::format("syscalls[{}]", i);
            if (!entry.is_object()) fail(origin, rule.field, "must be an object");
            const auto name = f.string(entry, "name", rule.field + ".name");
            rule.names = f.strings(entry, "names", rule.field + ".names");
            if (name && !name->empty()) {
                if (!rule.names.empty())
                    fail(origin, rule.field,
                         "'name' and 'names' were both specified, use either one");
                rule.names.push_back(*name);
            }
            const auto action = f.string(entry, "action", rule.field + ".action");
            if (!action) fail(origin, rule.field + ".action", "missing");
            rule.action =
                parse_action(f, *action, f.number(entry, "errnoRet", rule.field + ".errnoRet"),
                             rule.field + ".action");
            if (const json* args = f.array(entry, "args", rule.field + ".args")) {
                for (size_t j = 0; j < args->size(); ++j) {
                    const json& a = (*args)[j];
                    const std::string af = fmt::format("{}.args[{}]", rule.field, j);
                    if (!a.is_object()) fail(origin, af, "must be an object");
                    const uint64_t index = f.number(a, "index", af + ".index").value_or(0);
                    if (index > 5)
                        fail(origin, af + ".index",
                             fmt::format("{} is out of range (a syscall has arguments 0 to 5)",
                                         index));
                    const auto op = f.string(a, "op", af + ".op");
                    if (!op) fail(origin, af + ".op", "missing");
                    // For SCMP_CMP_MASKED_EQ libseccomp's first datum is the
                    // mask and the second the value: Docker's value, valueTwo.
                    rule.args.push_back(
                        scmp_arg_cmp{static_cast<unsigned>(index), parse_op(f, *op, af + ".op"),
                                     f.number(a, "value", af + ".value").value_or(0),
                                     f.number(a, "valueTwo", af + ".valueTwo").value_or(0)});
                }
            }
            const Condition inc = parse_condition(
                f, f.object(entry, "includes", rule.field + ".includes"), rule.field + ".includes");
            const Condition exc = parse_condition(
                f, f.object(entry, "excludes", rule.field + ".excludes"), rule.field + ".excludes");
            if (!entry_applies(inc, exc, native.go_name, caps, kernel)) continue;
            rule_names += rule.names.size();
            rules.push_back(std::move(rule));
        }
    }

    FilterPtr filter(seccomp_init(default_action));
    if (!filter)
        throw Error(ErrorKind::kInternal,
                    fmt::format("seccomp profile '{}': seccomp_init failed", origin));
    scmp_filter_ctx ctx = filter.get();
    for (const auto& [name, field] : extra_arches) {
        const uint32_t token = arch_token(name);
        if (token == 0) fail(origin, field, fmt::format("unknown architecture \"{}\"", name));
        const int rc = seccomp_arch_add(ctx, token);
        if (rc != -EEXIST) check_scmp(rc, origin, field);
    }
    // As runc: a binary tree of syscalls for long profiles (libseccomp up
    // to 2.5.4 misbehaves with it on a filter with no rules).
    if (rule_names > 32)
        check_scmp(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), origin,
                   "enabling the binary tree optimization");

    for (const auto& rule : rules) {
        // runc skips a rule that does what the default does (libseccomp
        // would refuse it).
        if (rule.action == default_action) continue;
        for (const auto& name : rule.names) {
            // A syscall libseccomp does not know is one this kernel and
            // architecture cannot have; runc skips it, and so does strata.
            const int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) continue;
            add_rule(ctx, rule, name, nr, origin);
        }
    }

    UniqueFd out(memfd_create("strata-seccomp-bpf", MFD_CLOEXEC));
    if (!out) throw system_error("memfd_create", "strata-seccomp-bpf");
    check_scmp(seccomp_export_bpf(ctx, out.get()), origin, "exporting the BPF program");
    std::string program = read_all(out.get(), "strata-seccomp-bpf");
    // Syscalls newer than the profile: ENOSYS (seccomp_enosys.hpp), as runc
    // does unless the default lets everything through or is ENOSYS already.
    const bool permissive = default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG ||
                            (default_action & 0xffff0000U) == SCMP_ACT_TRACE(0) ||
                            default_action == SCMP_ACT_ERRNO(ENOSYS);
    if (permissive) return program;
    std::vector<uint32_t> tokens = {seccomp_arch_native()};
    for (const auto& [name, field] : extra_arches)
        if (std::find(tokens.begin(), tokens.end(), arch_token(name)) == tokens.end())
            tokens.push_back(arch_token(name));
    return enosys_prefix(syscall_limits(tokens, rules)) + program;
}

}  // namespace

std::string compile_seccomp_profile(std::string_view json_text,
                                    const std::vector<std::string>& caps, std::string_view origin) {
    return compile_for(json_text, caps, origin, running_kernel());
}

std::string compile_seccomp_profile_for_kernel(std::string_view json_text,
                                               const std::vector<std::string>& caps,
                                               std::string_view origin,
                                               std::string_view kernel_release) {
    const auto kernel = parse_kernel_version(std::string(kernel_release));
    if (!kernel)
        throw Error(ErrorKind::kUsage,
                    fmt::format("invalid kernel version \"{}\", expected \"<kernel>.<major>\"",
                                kernel_release));
    return compile_for(json_text, caps, origin, *kernel);
}

std::string newest_min_kernel(std::string_view json_text, std::string_view origin) {
    const json doc = parse_document(json_text, origin);
    const Fields f(origin);
    std::optional<KernelVersion> newest;
    std::string text;
    const json* syscalls = f.array(doc, "syscalls", "syscalls");
    if (!syscalls) return text;
    for (size_t i = 0; i < syscalls->size(); ++i) {
        const std::string field = fmt::format("syscalls[{}]", i);
        if (!(*syscalls)[i].is_object()) fail(origin, field, "must be an object");
        for (const char* which : {"includes", "excludes"}) {
            const auto c = parse_condition(f, f.object((*syscalls)[i], which, field + "." + which),
                                           field + "." + which);
            if (c.min_kernel && (!newest || !at_least(*newest, *c.min_kernel))) {
                newest = c.min_kernel;
                text = fmt::format("{}.{}", newest->kernel, newest->major);
            }
        }
    }
    return text;
}

bool running_kernel_at_least(std::string_view release) {
    const auto min = parse_kernel_version(std::string(release));
    return min && at_least(running_kernel(), *min);
}

std::vector<std::string> canonical_capabilities(const std::vector<std::string>& caps) {
    return canonical_caps(caps);
}

UniqueFd seccomp_bpf_memfd(std::string_view bpf) {
    UniqueFd fd(memfd_create("strata-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) throw system_error("memfd_create", "strata-seccomp");
    size_t done = 0;
    while (done < bpf.size()) {
        const ssize_t n = write(fd.get(), bpf.data() + done, bpf.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw system_error("write", "strata-seccomp memfd");
        done += static_cast<size_t>(n);
    }
    // Sealed, so that nothing can change the program between here and the
    // container's init reading it.
    if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        throw system_error("fcntl F_ADD_SEALS", "strata-seccomp memfd");
    return fd;
}

}  // namespace strata::sandbox
