// Docker's seccomp profile compiled by sandbox/seccomp_profile and loaded by
// strata-init's loader (runtime/seccomp_load.hpp), checked from inside a
// forked child that carries the filter.
#include "sandbox/seccomp_profile.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../../runtime/seccomp_load.hpp"
#include "base/error.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/seccomp_embedded.hpp"
#include "sandbox/seccomp_enosys.hpp"

namespace strata::sandbox {
namespace {

// "" when `got` is -1 with errno `want`, else a description of what happened.
std::string expect_errno(const char* what, long got, int want) {
    if (got == -1 && errno == want) return "";
    const int err = errno;
    return std::string(what) + ": expected " + strerrorname_np(want) + ", got " +
           (got == -1 ? std::string(strerrorname_np(err)) : "success " + std::to_string(got));
}

struct ChildOptions {
    bool no_new_privs = true;
    bool drop_sys_admin = false;  // from the effective set, before loading
    bool via_pipe = false;        // hand the program over in a pipe, not a memfd
};

// Forks; the child loads `bpf` with the loader strata-init uses, runs
// `body`, and sends back what failed ("" = everything held). A load failure
// comes back as "load: <message>".
std::string run_filtered(const std::string& bpf, const std::function<std::string()>& body,
                         ChildOptions opt = {}) {
    UniqueFd fd;
    if (opt.via_pipe) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
        UniqueFd w(p[1]);
        fd.reset(p[0]);
        if (write(w.get(), bpf.data(), bpf.size()) != static_cast<ssize_t>(bpf.size()))
            return "writing the program into the pipe failed";
    } else {
        fd = seccomp_bpf_memfd(bpf);
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return "pipe failed";
    UniqueFd rd(pipefd[0]), wr(pipefd[1]);
    const pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        std::string msg;
        if (opt.drop_sys_admin) {
            __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
            __user_cap_data_struct data[2]{};
            if (syscall(SYS_capget, &hdr, data) != 0 ||
                (data[0].effective &= ~(1u << CAP_SYS_ADMIN), syscall(SYS_capset, &hdr, data) != 0))
                msg = "capset failed";
        }
        if (msg.empty() && opt.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            msg = "PR_SET_NO_NEW_PRIVS failed";
        if (std::string error; msg.empty() && !load_seccomp_filter(fd.get(), error))
            msg = "load: " + error;
        if (msg.empty()) msg = body();
        (void)!write(wr.get(), msg.data(), msg.size());
        _exit(msg.empty() ? 0 : 1);
    }
    wr.reset();
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(rd.get(), buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        return out + " (child killed by signal " + std::to_string(WTERMSIG(status)) + ")";
    if (WEXITSTATUS(status) != 0 && out.empty())
        return "child exited with status " + std::to_string(WEXITSTATUS(status));
    return out;
}

// Runs the checks one after another, stops at the first that fails.
std::string all(std::initializer_list<std::function<std::string()>> checks) {
    for (const auto& c : checks)
        if (auto m = c(); !m.empty()) return m;
    return "";
}

std::string check_getpid() {
    return syscall(SYS_getpid) > 0 ? "" : "getpid failed";
}

std::string check_fork_works() {
    const pid_t p = fork();
    if (p == 0) _exit(7);
    if (p < 0) return std::string("fork: ") + strerror(errno);
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "" : "forked child did not exit 7";
}

std::string check_clone_newns_denied() {
    const long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);  // a child that should never exist: leave at once
    if (r > 0) waitpid(static_cast<pid_t>(r), nullptr, 0);
    return expect_errno("clone(CLONE_NEWNS)", r, EPERM);
}

// The source and target do not exist: a mount that reaches the kernel fails
// with ENOENT and mounts nothing.
long try_mount() {
    return mount("/nonexistent-strata-src", "/nonexistent-strata-dst", nullptr, MS_BIND, nullptr);
}

const std::vector<std::string> kNoCaps;

TEST(SeccompDefaultProfile, CompilesToWholeBpfInstructions) {
    const std::string& bpf = default_seccomp_bpf(default_capabilities());
    ASSERT_FALSE(bpf.empty());
    EXPECT_EQ(bpf.size() % sizeof(sock_filter), 0u);
    EXPECT_LE(bpf.size() / sizeof(sock_filter), size_t{BPF_MAXINSNS});
}

// The program compiled when strata was built is what a compile here gives
// (this kernel is newer than the profile's newest minKernel), and it is the
// one default_seccomp_bpf hands out for Docker's default capabilities.
TEST(SeccompDefaultProfile, BuildTimeProgramEqualsACompileHere) {
    const auto origin = "docker-seccomp-default.json";
    const EmbeddedSeccomp& e = embedded_default_seccomp();
    EXPECT_EQ(e.min_kernel, newest_min_kernel(docker_default_seccomp_profile(), origin));
    ASSERT_TRUE(running_kernel_at_least(e.min_kernel));
    const std::string here =
        compile_seccomp_profile(docker_default_seccomp_profile(), default_capabilities(), origin);
    EXPECT_EQ(std::string(e.bpf), here);
    EXPECT_EQ(default_seccomp_bpf(default_capabilities()), here);
    // The capabilities in another order and spelling are the same set.
    std::vector<std::string> shuffled(default_capabilities().rbegin(),
                                      default_capabilities().rend());
    for (auto& c : shuffled)
        c = c.substr(4);  // "CAP_CHOWN" -> "CHOWN"
    EXPECT_EQ(&default_seccomp_bpf(shuffled), &default_seccomp_bpf(default_capabilities()));
}

TEST(SeccompDefaultProfile, MemoizedPerCapabilitySet) {
    const std::string& a = default_seccomp_bpf({"CAP_CHOWN", "CAP_KILL"});
    const std::string& b = default_seccomp_bpf({"kill", "cap_chown", "CAP_KILL"});
    EXPECT_EQ(&a, &b);
    const std::string& admin = default_seccomp_bpf({"CAP_SYS_ADMIN"});
    EXPECT_NE(&a, &admin);
    EXPECT_NE(a, admin);
}

TEST(SeccompDefaultProfile, ThreadSafe) {
    const std::vector<std::string> caps = {"CAP_SYS_PTRACE", "CAP_NET_ADMIN"};
    std::vector<const std::string*> seen(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < seen.size(); ++i)
        threads.emplace_back([&, i] { seen[i] = &default_seccomp_bpf(caps); });
    for (auto& t : threads)
        t.join();
    for (const auto* p : seen)
        EXPECT_EQ(p, seen[0]);
}

TEST(SeccompDefaultProfile, DeniesWhatDockerDenies) {
    const std::string& bpf = default_seccomp_bpf(default_capabilities());
    EXPECT_EQ(
        run_filtered(
            bpf,
            [] {
                return all({
                    check_getpid,
                    [] {
                        return expect_errno("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER),
                                            EPERM);
                    },
                    [] { return expect_errno("mount", try_mount(), EPERM); },
                    [] {
                        return expect_errno(
                            "keyctl",
                            syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0),
                            EPERM);
                    },
                    check_clone_newns_denied,
                    check_fork_works,
                    // clone3 gets ENOSYS (errnoRet 38) so that
                    // libc falls back to clone, whose flags the
                    // filter can see.
                    [] { return expect_errno("clone3", syscall(SYS_clone3, nullptr, 0), ENOSYS); },
                    [] {
                        const int p = personality(0xffffffff);
                        return p >= 0 ? "" : "personality(query) failed";
                    },
                    [] {
                        return expect_errno("personality(ADDR_NO_RANDOMIZE)",
                                            personality(ADDR_NO_RANDOMIZE), EPERM);
                    },
                });
            }),
        "");
}

// Syscalls newer than the profile (or than the libseccomp that compiled it)
// get ENOSYS, as under runc, so that libc falls back to an older one; those
// the profile denies still get EPERM. fchmodat2 (Linux 6.6, which glibc 2.39
// tries first for fchmodat with AT_SYMLINK_NOFOLLOW) is allowed by the
// profile: it reaches the kernel (ENOENT here) where libseccomp knows it,
// and is ENOSYS where it does not — never EPERM.
TEST(SeccompDefaultProfile, SyscallsNewerThanTheProfileGetEnosys) {
    const std::string& bpf = default_seccomp_bpf(default_capabilities());
    EXPECT_EQ(
        run_filtered(
            bpf,
            [] {
                return all({
                    [] { return expect_errno("syscall 1000", syscall(1000), ENOSYS); },
                    [] {
                        return expect_errno("x32 syscall 1000", syscall(0x40000000 | 1000), ENOSYS);
                    },
                    [] { return expect_errno("keyctl", syscall(SYS_keyctl, 0, -3, 0), EPERM); },
                    [] {
                        const long r = syscall(452, AT_FDCWD, "/nonexistent-strata", 0644, 0);
                        return r == -1 && (errno == ENOSYS || errno == ENOENT)
                                   ? ""
                                   : expect_errno("fchmodat2", r, ENOSYS);
                    },
                    check_getpid,
                    check_fork_works,
                });
            }),
        "");
}

// The prefix alone, before a filter that allows everything: above the limit
// ENOSYS, at or below it the filter's answer.
TEST(SeccompEnosysPrefix, AboveTheLimitIsEnosysElseTheFilterDecides) {
    SyscallLimit x86_64;
    x86_64.audit_arch = AUDIT_ARCH_X86_64;
    x86_64.highest = 400;  // the child's own syscalls (write, exit_group) are below
    std::string bpf = enosys_prefix({x86_64});
    EXPECT_LE(bpf.size() / sizeof(sock_filter), 12u);
    const sock_filter allow{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
    bpf.append(reinterpret_cast<const char*>(&allow), sizeof allow);
    EXPECT_EQ(run_filtered(bpf,
                           [] {
                               return all({
                                   check_getpid,
                                   [] {
                                       // 435: the kernel itself would say EINVAL
                                       return expect_errno("clone3",
                                                           syscall(SYS_clone3, nullptr, 0), ENOSYS);
                                   },

                               });
                           }),
              "");
    EXPECT_EQ(enosys_prefix({}), "");
    EXPECT_EQ(enosys_prefix({SyscallLimit{AUDIT_ARCH_X86_64, {}, {}}}), "");
}

TEST(SeccompDefaultProfile, SysAdminLetsMountReachTheKernel) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN) for mount to reach the kernel";
    auto caps = default_capabilities();
    caps.push_back("CAP_SYS_ADMIN");
    EXPECT_EQ(
        run_filtered(
            default_seccomp_bpf(caps),
            [] {
                return all({
                    [] { return expect_errno("mount", try_mount(), ENOENT); },
                    // Still filtered: keyctl is in no rule.
                    [] { return expect_errno("keyctl", syscall(SYS_keyctl, 0, -3, 0), EPERM); },
                });
            }),
        "");
}

TEST(SeccompLoader, WorksWithoutNoNewPrivsWhileHoldingSysAdmin) {
    if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN";
    EXPECT_EQ(run_filtered(default_seccomp_bpf(default_capabilities()),
                           [] {
                               if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
                                   return std::string("no_new_privs is set");
                               return expect_errno("keyctl", syscall(SYS_keyctl, 0, -3, 0), EPERM);
                           },
                           {.no_new_privs = false}),
              "");
}

TEST(SeccompLoader, RefusedWithoutNoNewPrivsOrSysAdmin) {
    if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN to drop it";
    const std::string out =
        run_filtered(default_seccomp_bpf(default_capabilities()), [] { return std::string(); },
                     {.no_new_privs = false, .drop_sys_admin = true});
    EXPECT_NE(out.find("load: seccomp(SECCOMP_SET_MODE_FILTER): Permission denied"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("CAP_SYS_ADMIN or PR_SET_NO_NEW_PRIVS"), std::string::npos) << out;
}

TEST(SeccompLoader, ReadsFromAPipeToo) {
    EXPECT_EQ(
        run_filtered(default_seccomp_bpf(default_capabilities()),
                     [] { return expect_errno("keyctl", syscall(SYS_keyctl, 0, -3, 0), EPERM); },
                     {.via_pipe = true}),
        "");
}

TEST(SeccompLoader, RejectsAFileThatIsNotAFilter) {
    std::string error;
    UniqueFd empty = seccomp_bpf_memfd("");
    EXPECT_FALSE(load_seccomp_filter(empty.get(), error));
    EXPECT_NE(error.find("0 instructions"), std::string::npos) << error;
    UniqueFd odd = seccomp_bpf_memfd("abc");
    EXPECT_FALSE(load_seccomp_filter(odd.get(), error));
    EXPECT_NE(error.find("not a whole number"), std::string::npos) << error;
}

// A profile that allows everything but one call, to see errnoRet and the
// argument filters act.
constexpr const char* kCustom = R"({
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["getppid", "strata_no_such_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95},
    {"name": "dup", "action": "SCMP_ACT_ERRNO", "errnoRet": 77,
     "args": [{"index": 0, "value": 240, "valueTwo": 48, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["getuid"], "action": "SCMP_ACT_ERRNO"}
  ]
})";

TEST(SeccompCustomProfile, ErrnoRetAndMaskedEqual) {
    const std::string bpf = compile_seccomp_profile(kCustom, kNoCaps, "custom.json");
    EXPECT_EQ(run_filtered(
                  bpf,
                  [] {
                      return all({
                          check_getpid,
                          [] { return expect_errno("getppid", syscall(SYS_getppid), EOPNOTSUPP); },
                          // errnoRet absent: EPERM.
                          [] { return expect_errno("getuid", syscall(SYS_getuid), EPERM); },
                          // (0x3f & 0xf0) == 0x30: the filter answers.
                          [] { return expect_errno("dup(0x3f)", dup(0x3f), 77); },
                          // (0xb3 & 0xf0) != 0x30, but (0xb3 & 0x30) == 0x30:
                          // a swapped mask and value would show here.
                          [] {
                              close(0xb3);
                              return expect_errno("dup(0xb3)", dup(0xb3), EBADF);
                          },
                          // (0x4f & 0xf0) != 0x30: the kernel answers.
                          [] {
                              close(0x4f);
                              return expect_errno("dup(0x4f)", dup(0x4f), EBADF);
                          },
                      });
                  }),
              "");
}

// Rules that do not apply compile to the same program as no rule at all.
constexpr const char* kBase = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]})";

std::string with_rule(const std::string& rule) {
    return std::string(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}, )") +
           rule + "]}";
}

std::string compile(const std::string& text, const std::vector<std::string>& caps = kNoCaps) {
    return compile_seccomp_profile(text, caps, "test.json");
}

TEST(SeccompCustomProfile, SelectsEntriesAsMobyDoes) {
    const std::string base = compile(kBase);
    const std::string deny = R"({"names": ["getuid"], "action": "SCMP_ACT_ERRNO")";
    // includes.caps: every listed capability must be held.
    const std::string inc_caps =
        with_rule(deny + R"(, "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}})");
    EXPECT_EQ(compile(inc_caps), base);
    EXPECT_EQ(compile(inc_caps, {"CAP_SYS_ADMIN"}), base);
    EXPECT_NE(compile(inc_caps, {"sys_admin", "CAP_BPF"}), base);
    // excludes.caps: any one held drops the entry.
    const std::string exc_caps =
        with_rule(deny + R"(, "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}})");
    EXPECT_NE(compile(exc_caps), base);
    EXPECT_EQ(compile(exc_caps, {"CAP_BPF"}), base);
    // minKernel: "<kernel>.<major>" against the running kernel (6.x here).
    EXPECT_EQ(compile(with_rule(deny + R"(, "includes": {"minKernel": "99.0"}})")), base);
    EXPECT_NE(compile(with_rule(deny + R"(, "includes": {"minKernel": "2.6"}})")), base);
    EXPECT_EQ(compile(with_rule(deny + R"(, "excludes": {"minKernel": "3.10"}})")), base);
    EXPECT_NE(compile(with_rule(deny + R"(, "excludes": {"minKernel": "99.1"}})")), base);
    // An unknown syscall is skipped, as is a rule that does what the default does.
    EXPECT_EQ(
        compile(with_rule(R"({"names": ["strata_no_such_syscall"], "action": "SCMP_ACT_ERRNO"})")),
        base);
    EXPECT_EQ(compile(with_rule(R"({"names": ["getuid"], "action": "SCMP_ACT_ALLOW"})")), base);
#if defined(__x86_64__)
    // arches name Go's architectures.
    EXPECT_NE(compile(with_rule(deny + R"(, "includes": {"arches": ["amd64"]}})")), base);
    EXPECT_EQ(compile(with_rule(deny + R"(, "includes": {"arches": ["s390x", "x86"]}})")), base);
    EXPECT_EQ(compile(with_rule(deny + R"(, "excludes": {"arches": ["amd64"]}})")), base);
#endif
}

TEST(SeccompCustomProfile, CompiledForAGivenKernel) {
    const auto profile = with_rule(
        R"({"names": ["getuid"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5.4"}})");
    EXPECT_EQ(newest_min_kernel(profile, "test"), "5.4");
    EXPECT_EQ(newest_min_kernel(kBase, "test"), "");
    EXPECT_EQ(compile_seccomp_profile_for_kernel(profile, {}, "test", "5.4"),
              compile_seccomp_profile_for_kernel(profile, {}, "test", "6.1"));
    EXPECT_NE(compile_seccomp_profile_for_kernel(profile, {}, "test", "5.3"),
              compile_seccomp_profile_for_kernel(profile, {}, "test", "5.4"));
    EXPECT_THROW(compile_seccomp_profile_for_kernel(profile, {}, "test", "five"), Error);
    EXPECT_TRUE(running_kernel_at_least("2.6"));
    EXPECT_FALSE(running_kernel_at_least("99.0"));
    EXPECT_FALSE(running_kernel_at_least("junk"));
}

TEST(SeccompCustomProfile, EmptyProfileMeansNoFilter) {
    EXPECT_EQ(compile("{}"), "");
    EXPECT_EQ(compile(R"({"defaultAction": "", "syscalls": []})"), "");
}

#if defined(__x86_64__)
TEST(SeccompCustomProfile, ArchMapAddsTheSubArchitectures) {
    const std::string native = compile(kBase);
    const std::string multi = compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                  {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
      "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]})");
    const std::string flat = compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]})");
    EXPECT_GT(multi.size(), native.size());
    EXPECT_EQ(multi, flat);
}
#endif

// The message of the Error that compiling `text` throws.
std::string error_of(const std::string& text) {
    try {
        compile_seccomp_profile(text, kNoCaps, "/etc/strata/bad.json");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
        return e.what();
    }
    return "(no error)";
}

// nlohmann reports a number beyond a double's range as out_of_range, not
// parse_error; it is still a bad profile (found by image_json_fuzzer, which
// hit the same in the store's JSON reader).
TEST(SeccompBadProfile, NumberOutOfRangeIsAParseError) {
    EXPECT_NE(error_of(R"({"defaultAction": "SCMP_ACT_ALLOW", "x": 1e400})").find("not valid JSON"),
              std::string::npos);
}

TEST(SeccompBadProfile, ErrorsNameTheFileAndTheField) {
    struct Row {
        std::string text, want;
    };
    const std::vector<Row> rows = {
        {R"({"defaultAction": )",
         "seccomp profile '/etc/strata/bad.json': (document): not valid JSON"},
        {R"([1])", "(document): must be a JSON object"},
        {R"({"defaultAction": "SCMP_ACT_NOPE"})",
         "defaultAction: unknown action \"SCMP_ACT_NOPE\""},
        {R"({"defaultAction": 1})", "defaultAction: must be a string"},
        {R"({"syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})",
         "defaultAction: missing"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "ALLOW"}]})",
         "'/etc/strata/bad.json': syscalls[0].action: unknown action \"ALLOW\""},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_NOTIFY"}]})",
         "syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]})",
         "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_LIKE\""},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
         "syscalls[0].args[0].index: 6 is out of range"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}]})",
         "syscalls[0].errnoRet: must be a non-negative integer"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "x", "names": ["y"], "action": "SCMP_ACT_ALLOW"}]})",
         "syscalls[0]: 'name' and 'names' were both specified"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
            "includes": {"minKernel": "four"}}]})",
         "syscalls[0].includes.minKernel: invalid kernel version \"four\""},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
         "'architectures' and 'archMap' were both specified"},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]})",
         "architectures[0]: unknown architecture \"SCMP_ARCH_VAX\""},
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"]})",
         "flags: flag \"SECCOMP_FILTER_FLAG_LOG\" is not supported"},
        // Checked even where the entry does not apply.
        {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_BOGUS",
            "includes": {"arches": ["vax"]}}]})",
         "syscalls[0].action: unknown action"},
    };
    for (const auto& r : rows)
        EXPECT_NE(error_of(r.text).find(r.want), std::string::npos)
            << "profile: " << r.text << "\nerror: " << error_of(r.text);
}

// Not an assertion on speed: prints what compiling and loading cost, for
// docs/performance.md.
TEST(SeccompBench, CompileAndLoad) {
    using Clock = std::chrono::steady_clock;
    // CPU time too: on a loaded machine the wall clock says little.
    const auto cpu_us = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
    };
    const double c0 = cpu_us();
    const auto t0 = Clock::now();
    const std::string& bpf =
        default_seccomp_bpf({"CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"});  // first call
    const auto t1 = Clock::now();
    const double c1 = cpu_us();
    default_seccomp_bpf({"CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"});  // memoized
    const auto t2 = Clock::now();
    // The load, timed inside a child and sent back through a pipe.
    UniqueFd fd = seccomp_bpf_memfd(bpf);
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        std::string error;
        const auto a = Clock::now();
        const bool ok = load_seccomp_filter(fd.get(), error);
        const auto b = Clock::now();
        const long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
        (void)!write(pipefd[1], &ns, sizeof ns);
        _exit(ok ? 0 : 1);
    }
    close(pipefd[1]);
    long long load_ns = -1;
    EXPECT_EQ(read(pipefd[0], &load_ns, sizeof load_ns), static_cast<ssize_t>(sizeof load_ns));
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    const auto us = [](auto d) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() / 1000.0;
    };
    std::printf(
        "seccomp: default profile, %zu BPF instructions; compile (first call) %.1f us wall, "
        "%.1f us CPU; memoized call %.2f us; load %.1f us\n",
        bpf.size() / sizeof(sock_filter), us(t1 - t0), c1 - c0, us(t2 - t1), load_ns / 1000.0);
}

}  // namespace
}  // namespace strata::sandbox
