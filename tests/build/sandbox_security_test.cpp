// The RUN sandbox against a stranger's Dockerfile (issue: "A RUN sandbox you
// can trust with a stranger's Dockerfile"): a RUN step cannot read or delete
// host files through --mount sources and targets (`..`, absolute paths,
// symlinks in a stage, an image or the context), cannot open host devices
// (made with mknod or shipped in a layer), runs with Docker's capabilities,
// seccomp profile, masked /proc and /sys, closed descriptors and
// RLIMIT_NOFILE, is held to --pids-limit and --memory, cannot reach the
// host's loopback on the default network — and leaves no mount, process or
// cgroup behind when it fails.
//
// Each test checks the outcome a broken sandbox would change: a marker from
// a host file in a layer, a host file gone or made, a device read, a
// capability, a port reached, a process or a cgroup left.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "sandbox_security_fixture.hpp"

namespace strata::buildtest {
namespace {

// "../" n times, no trailing slash: more than the store's depth below /.
std::string ups(int n = 16) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += i ? "/.." : "..";
    return s;
}

const std::string kDecoy = "decoy in the root\n";

// `text` with each {NAME} replaced (Dockerfiles read better as one literal).
std::string subst(std::string text, const std::map<std::string, std::string>& values) {
    for (const auto& [name, value] : values) {
        const std::string key = "{" + name + "}";
        for (size_t pos; (pos = text.find(key)) != std::string::npos;)
            text.replace(pos, key.size(), value);
    }
    return text;
}

// A stage holding the decoy at the host secret's path ({rel}).
const char* const kDecoyStage =
    "FROM busybox:latest AS decoy\n"
    "RUN mkdir -p /{rel} && printf 'decoy in the root\\n' > /{rel}/secret.txt\n";

// --- host files cannot be read -----------------------------------------------

// `..` and absolute sources climb to the root of the image or stage they
// name, never above it: the copy of the host path inside the stage is read,
// the host's is not.
TEST_F(SandboxSecurityTest, ParentAndAbsoluteSourcesStayInTheImageOrStage) {
    auto r = build(
        subst(std::string(kDecoyStage) +
                  "FROM busybox:latest\n"
                  "RUN --mount=type=bind,from=busybox:latest,source={up},target=/h"
                  " ls /h > /listing-image; cat /h/{rel}/secret.txt > /leak-image 2>&1; true\n"
                  "RUN --mount=type=bind,from=decoy,source={up},target=/h"
                  " cat /h/{rel}/secret.txt > /leak-stage\n"
                  "RUN --mount=type=bind,from=decoy,source=/{up}/{rel},target=/h"
                  " cat /h/secret.txt > /leak-absolute\n"
                  "RUN --mount=type=bind,from=decoy,source=/..,target=/h ls /h > /listing-root-up\n"
                  "RUN --mount=type=bind,from=decoy,source=/{rel}/secret.txt,target=/legit.txt"
                  " cat /legit.txt > /legit\n",
              {{"rel", secret_rel()}, {"up", ups()}}));
    const Tree t = rootfs(r);
    // The image's root: busybox's four directories, not the host's.
    expect_file(t, "/listing-image", "bin\netc\nroot\ntmp\n");
    EXPECT_TRUE(contains(t.at("/leak-image").data, "No such file")) << t.at("/leak-image").data;
    expect_file(t, "/leak-stage", kDecoy);
    expect_file(t, "/leak-absolute", kDecoy);
    EXPECT_TRUE(contains(t.at("/listing-root-up").data, "bin\n"));
    EXPECT_FALSE(contains(t.at("/listing-root-up").data, "usr\n"))
        << "the host's root: " << t.at("/listing-root-up").data;
    expect_file(t, "/legit", kDecoy);  // a real file of the stage is still mounted
    expect_marker_nowhere(r, "parent and absolute sources");
    expect_nothing_left("parent and absolute sources");
}

// A stage whose tree is full of symlinks to `/` and `..` (absolute,
// relative, deeper than the store, chained): each resolves inside the
// stage's root.
TEST_F(SandboxSecurityTest, SymlinksInAStageResolveInsideIt) {
    const std::string rel = secret_rel();
    std::string df = subst(
        "FROM busybox:latest AS links\n"
        "RUN mkdir -p /{rel} && printf 'decoy in the root\\n' > /{rel}/secret.txt"
        " && ln -s / /x && mkdir /t && ln -s / /t/root && ln -s .. /t/up && ln -s {up} /t/deep"
        " && ln -s /.. /t/rootup && ln -s /t/deep /t/chain && ln -s {up}/{rel}/secret.txt /t/file\n"
        "FROM busybox:latest\n"
        "RUN",
        {{"rel", rel}, {"up", ups()}});
    const std::vector<std::string> sources = {
        "x/" + rel,
        "t/root/" + rel,
        "t/up/" + rel,
        "t/deep/" + rel,
        "t/rootup/" + rel,
        "t/chain/" + rel,
        "t/up/t/up/t/deep/" + rel,
        "x/x/t/chain/" + rel,
    };
    for (size_t i = 0; i < sources.size(); ++i)
        df +=
            " --mount=type=bind,from=links,source=" + sources[i] + ",target=/h" + std::to_string(i);
    df +=
        " --mount=type=bind,from=links,source=t/file,target=/f.txt"
        " --mount=type=bind,from=links,source=x,target=/whole"
        " for i in $(seq 0 " +
        std::to_string(sources.size() - 1) +
        "); do cat /h$i/secret.txt; done > /leaks; cat /f.txt > /leak-file;"
        " ls /whole > /listing-whole\n";
    auto r = build(df);
    const Tree t = rootfs(r);
    std::string all_decoys;
    for (size_t i = 0; i < sources.size(); ++i)
        all_decoys += kDecoy;
    expect_file(t, "/leaks", all_decoys);
    expect_file(t, "/leak-file", kDecoy);
    EXPECT_TRUE(contains(t.at("/listing-whole").data, "t\n")) << t.at("/listing-whole").data;
    EXPECT_TRUE(contains(t.at("/listing-whole").data, "x\n")) << t.at("/listing-whole").data;
    expect_marker_nowhere(r, "symlinks in a stage");
    expect_nothing_left("symlinks in a stage");

    // A link to /proc/self/root (on the host: strata-init's root, the host's
    // when sources are resolved) is resolved inside the stage too, where
    // there is no such path: the step fails and leaves nothing.
    const auto err = failure(
        subst("FROM busybox:latest AS links\n"
              "RUN ln -s /proc/self/root /magic\n"
              "FROM busybox:latest\n"
              "RUN --mount=type=bind,from=links,source=magic/{rel},target=/h cat /h/secret.txt\n",
              {{"rel", rel}}));
    ASSERT_TRUE(err) << "a source through /proc/self/root must not be mounted";
    EXPECT_FALSE(contains(*err, marker())) << *err;
    expect_nothing_left("a magic link source");
}

// A missing source fails the step with a message that names it; the step
// leaves nothing behind.
TEST_F(SandboxSecurityTest, AMissingSourceFailsTheStepAndLeavesNothing) {
    const auto err = failure(
        subst("FROM busybox:latest AS links\n"
              "RUN ln -s / /x\n"
              "FROM busybox:latest\n"
              "RUN --mount=type=bind,from=links,source=x/{rel},target=/h cat /h/secret.txt\n",
              {{"rel", secret_rel()}}));
    ASSERT_TRUE(err) << "the host's directory must not be found through the stage's /x";
    EXPECT_TRUE(contains(*err, "not found")) << *err;
    EXPECT_FALSE(contains(*err, marker())) << *err;
    expect_nothing_left("a missing source");
}

// A cache mount's from= and source= never select a host directory.
TEST_F(SandboxSecurityTest, CacheMountFromAStageWithAParentSource) {
    auto r = build(subst(std::string(kDecoyStage) +
                             "FROM busybox:latest\n"
                             "RUN --mount=type=cache,id=sec,from=decoy,source={up},target=/c"
                             " (cat /c/{rel}/secret.txt; ls -A /c) > /cache-view 2>&1; true\n",
                         {{"rel", secret_rel()}, {"up", ups()}}));
    const Tree t = rootfs(r);
    const std::string view = t.at("/cache-view").data;
    EXPECT_FALSE(contains(view, "usr\n")) << "the host's root is listed: " << view;
    EXPECT_FALSE(contains(view, "var\n")) << "the host's root is listed: " << view;
    expect_marker_nowhere(r, "a cache mount with from= and source=..");
    expect_nothing_left("a cache mount");
}

// The context's own symlinks (to `/`, to `../..`, deeper than /) and `..`
// in source=: the build refuses them before any container runs (strata's
// context snapshot resolves them, stricter than BuildKit, which clamps).
TEST_F(SandboxSecurityTest, ContextSymlinksOutOfTheContextAreRefused) {
    const std::string rel = secret_rel();
    const std::string base = dir_.path().filename().string();
    fs::create_symlink("/", ctx() / "link");
    fs::create_symlink("../..", ctx() / "up");
    fs::create_symlink(ups(), ctx() / "deep");
    for (const std::string& source :
         std::vector<std::string>{"link/" + rel, "deep/" + rel, "up/" + base + "/host",
                                  ups() + "/" + rel + "/secret.txt", "link"}) {
        const auto err = failure(
            subst("FROM busybox:latest\n"
                  "RUN --mount=type=bind,source={source},target=/h cat /h/secret.txt /h 2>&1\n",
                  {{"source", source}}));
        ASSERT_TRUE(err) << source << " was mounted";
        EXPECT_TRUE(contains(*err, "resolves outside the build context")) << source << ": " << *err;
        EXPECT_FALSE(contains(*err, marker())) << *err;
    }
    expect_nothing_left("context symlinks");
}

// The same sources given to the sandbox itself (a bind whose root is a
// context directory): each resolves inside the root, where the test put a
// decoy at the path a host escape would have read.
TEST_F(SandboxSecurityTest, SandboxResolvesContextSourcesInsideTheRoot) {
    const std::string rel = secret_rel();
    const std::string base = dir_.path().filename().string();
    file(rel + "/secret.txt", kDecoy);
    file(base + "/host/secret.txt", kDecoy);
    fs::create_symlink("/", ctx() / "link");
    fs::create_symlink("../..", ctx() / "up");
    fs::create_symlink(ups(), ctx() / "deep");
    fs::create_symlink("/" + rel + "/secret.txt", ctx() / "file-link");

    const fs::path run_dir = dir_.path() / "sandbox-run";
    sandbox::Spec spec;
    spec.root.lower = {dir_.path() / "bb" / "rootfs"};
    spec.root.upper = run_dir / "upper";
    spec.root.work = run_dir / "work";
    spec.scratch_parent = run_dir;
    for (const auto& d : {spec.root.upper, spec.root.work})
        fs::create_directories(d);
    spec.isolation.network = sandbox::Network::kNone;
    spec.description = "RUN cat";
    const std::vector<std::string> dirs = {"link/" + rel, "deep/" + rel, "up/" + base + "/host",
                                           ups() + "/" + rel, "/" + ups() + "/" + rel};
    std::string script;
    for (size_t i = 0; i < dirs.size(); ++i) {
        sandbox::Mount m;
        m.source_root = ctx();
        m.source_path = dirs[i];
        m.target = "/h" + std::to_string(i);
        spec.mounts.push_back(m);
        script += "cat /h" + std::to_string(i) + "/secret.txt; ";
    }
    sandbox::Mount f;
    f.source_root = ctx();
    f.source_path = "file-link";
    f.target = "/f.txt";
    spec.mounts.push_back(f);
    script += "cat /f.txt";
    spec.process.argv = {"/bin/sh", "-c", script};
    spec.process.env = {"PATH=/bin"};
    std::string out;
    const sandbox::Result res = sandbox::Sandbox(STRATA_INIT).run(spec, [&](std::string_view line) {
        out += std::string(line) + "\n";
    });
    EXPECT_EQ(res.setup_error, "");
    EXPECT_EQ(res.exit_code, 0) << out;
    std::string decoys;
    for (size_t i = 0; i <= dirs.size(); ++i)
        decoys += kDecoy;
    EXPECT_EQ(out, decoys);
    EXPECT_FALSE(contains(out, marker()));
    EXPECT_EQ(mounts_under(run_dir), std::vector<std::string>{});
}

// --- host files cannot be deleted or made ------------------------------------

// A host file that stays in place (and is removed by the guard).
struct HostVictim {
    fs::path path;
    explicit HostVictim(const std::string& name, bool create = true) : path("/tmp/" + name) {
        if (create) imagetest::write_file(path, "victim\n");
    }
    ~HostVictim() {
        std::error_code ec;
        fs::remove(path, ec);
    }
};

TEST_F(SandboxSecurityTest, ParentTargetsCannotDeleteOrMakeHostFiles) {
    const std::string name = "strata-victim-" + random_hex();
    HostVictim victim(name);
    HostVictim absent(name + "-absent", false);
    auto r =
        build(subst("FROM busybox:latest\n"
                    "RUN --mount=type=bind,source=Dockerfile,target=/{up}/tmp/{name}"
                    " --mount=type=bind,source=Dockerfile,target={up}/tmp/{name}-absent"
                    " head -n 1 /tmp/{name} > /seen && head -n 1 /tmp/{name}-absent >> /seen\n",
                    {{"up", ups()}, {"name", name}}));
    ASSERT_TRUE(fs::exists(victim.path)) << "a RUN mount target deleted a host file";
    EXPECT_EQ(imagetest::read_file(victim.path), "victim\n");
    EXPECT_FALSE(fs::exists(absent.path)) << "a RUN mount target made a host file";
    const Tree t = rootfs(r);
    expect_file(t, "/seen", "FROM busybox:latest\nFROM busybox:latest\n");
    for (const auto& [path, node] : t)
        EXPECT_FALSE(contains(path, name)) << "the mount point stub is in the image: " << path;
    expect_nothing_left("parent targets");
}

TEST_F(SandboxSecurityTest, TargetsThroughSymlinkedDirectoriesStayInTheContainer) {
    const std::string name = "strata-victim-" + random_hex();
    HostVictim v1(name + "-abs"), v2(name + "-rel");
    HostVictim absent(name + "-absent", false);
    auto r =
        build(subst("FROM busybox:latest\n"
                    "RUN ln -s /tmp /t && ln -s {up}/tmp /t2\n"
                    "RUN --mount=type=bind,source=Dockerfile,target=/t/{name}-abs"
                    " --mount=type=bind,source=Dockerfile,target=/t2/{name}-rel"
                    " --mount=type=bind,source=Dockerfile,target=/t/{name}-absent"
                    " head -qn 1 /tmp/{name}-abs /tmp/{name}-rel /tmp/{name}-absent > /seen\n",
                    {{"up", ups()}, {"name", name}}));
    for (const auto* v : {&v1, &v2}) {
        ASSERT_TRUE(fs::exists(v->path)) << "a RUN mount target deleted " << v->path;
        EXPECT_EQ(imagetest::read_file(v->path), "victim\n");
    }
    EXPECT_FALSE(fs::exists(absent.path)) << "a RUN mount target made a host file";
    const Tree t = rootfs(r);
    expect_file(t, "/seen", "FROM busybox:latest\nFROM busybox:latest\nFROM busybox:latest\n");
    // The stubs were made in the container's /tmp and are removed from the
    // step's layer again.
    const Tree last = layer(r, r.image.layers.size() - 1);
    for (const auto& [path, node] : last)
        EXPECT_FALSE(contains(path, name)) << "a mount point stub is in the layer: " << path;
    EXPECT_EQ(t.at("/t").data, "/tmp");
    expect_nothing_left("symlinked targets");
}

// --- devices -----------------------------------------------------------------

// The host's root disk (the device of the file system that holds /).
std::optional<dev_t> root_disk() {
    struct stat st {};
    if (::stat("/", &st) != 0 || ::major(st.st_dev) == 0) return std::nullopt;
    return st.st_dev;
}

std::string numbers(dev_t d) {
    return fmt::format("{} {}", ::major(d), ::minor(d));
}

// For each device in `names`: dd of its first bytes into /NAME.data, the
// error and status into /NAME.err.
std::string read_each(const std::vector<std::string>& names) {
    std::string list;
    for (const auto& n : names)
        list += " " + n;
    return "for x in" + list +
           "; do dd if=/$x of=/$x.data bs=8192 count=1 2>/$x.err; echo \"rc=$?\" >> /$x.err; "
           "done";
}

// Nodes a step makes with mknod are recorded in its layer (as Docker
// records them) but only runc's allow-list opens: not the host's root disk,
// not a loop device holding a marker, not /dev/kmsg's numbers; /dev/null's
// numbers do.
TEST_F(SandboxSecurityTest, MknodNodesAreRecordedButOnlyAllowedOnesOpen) {
    const auto disk = root_disk();
    const std::string loop_marker = "strata-loop-secret-" + random_hex();
    const auto loop = LoopDevice::attach(dir_.path(), loop_marker);
    if (!disk && !loop) GTEST_SKIP() << "no block device to try (no disk under /, no losetup)";
    std::vector<std::string> denied = {"kmsg"};
    std::string mknods = "mknod /null c 1 3 && mknod /kmsg c 1 11";
    if (disk) {
        mknods += " && mknod /disk b " + numbers(*disk);
        denied.push_back("disk");
    }
    if (loop) {
        mknods += " && mknod /loop b " + numbers(loop->dev());
        denied.push_back("loop");
    }
    std::vector<std::string> all = denied;
    all.push_back("null");
    auto r = build("FROM busybox:latest\nRUN " + mknods + " && " + read_each(all) + "\n");
    const Tree t = rootfs(r);
    for (const auto& d : denied) {
        const std::string err = t.at("/" + d + ".err").data;
        EXPECT_TRUE(contains(err, "Operation not permitted")) << d << ": " << err;
        EXPECT_FALSE(contains(err, "rc=0")) << d << " was read: " << err;
    }
    EXPECT_TRUE(contains(t.at("/null.err").data, "rc=0")) << t.at("/null.err").data;
    expect_marker_nowhere(r, "mknod of a loop device", loop_marker);
    const size_t last = r.image.layers.size() - 1;
    if (disk) {
        const auto st = stat_in_layer(r, last, "/disk");
        ASSERT_TRUE(st) << "the node is part of the layer";
        EXPECT_TRUE(S_ISBLK(st->st_mode));
        EXPECT_EQ(st->st_rdev, *disk);
    }
    const auto kmsg = stat_in_layer(r, last, "/kmsg");
    ASSERT_TRUE(kmsg);
    EXPECT_TRUE(S_ISCHR(kmsg->st_mode));
    EXPECT_EQ(kmsg->st_rdev, makedev(1, 11));
    expect_nothing_left("mknod");
}

// An image can ship device nodes in a layer (strata unpacks them as
// Docker does); a step cannot open them either.
TEST_F(SandboxSecurityTest, DeviceNodesOfAnImportedLayerCannotBeOpened) {
    const auto disk = root_disk();
    const std::string loop_marker = "strata-loop-secret-" + random_hex();
    const auto loop = LoopDevice::attach(dir_.path(), loop_marker);
    std::vector<DeviceEntry> nodes = {
        {"kmsg", false, 1, 11}, {"mem", false, 1, 1}, {"null", false, 1, 3}};
    std::vector<std::string> denied = {"kmsg", "mem"};
    if (disk) {
        nodes.push_back({"disk", true, ::major(*disk), ::minor(*disk)});
        denied.push_back("disk");
    }
    if (loop) {
        nodes.push_back({"loop", true, ::major(loop->dev()), ::minor(loop->dev())});
        denied.push_back("loop");
    }
    import("devices:latest", busybox_tar_with_devices(nodes));
    std::vector<std::string> all = denied;
    all.push_back("null");
    auto r = build("FROM devices:latest\nRUN " + read_each(all) + "\n");
    const Tree t = rootfs(r);
    for (const auto& d : denied) {
        const std::string err = t.at("/" + d + ".err").data;
        EXPECT_TRUE(contains(err, "Operation not permitted")) << d << ": " << err;
        EXPECT_FALSE(contains(err, "rc=0")) << d << " was read: " << err;
    }
    EXPECT_TRUE(contains(t.at("/null.err").data, "rc=0")) << t.at("/null.err").data;
    expect_marker_nowhere(r, "an imported loop device node", loop_marker);
    expect_nothing_left("imported devices");
}

// --- capabilities, seccomp, masks, descriptors -------------------------------

TEST_F(SandboxSecurityTest, CapabilitiesAndSeccompOfRootAndOfAnotherUser) {
    auto r = build(
        "FROM busybox:latest\n"
        "RUN grep -E '^(Cap[A-Za-z]+|Seccomp|NoNewPrivs):' /proc/self/status > /root-status"
        " && mkdir -m 1777 /out\n"
        "USER 1000\n"
        "RUN grep -E '^(Cap[A-Za-z]+|Seccomp|NoNewPrivs):' /proc/self/status > /out/user-status\n");
    const Tree t = rootfs(r);
    expect_file(t, "/root-status",
                "CapInh:\t0000000000000000\n"
                "CapPrm:\t00000000a80425fb\n"
                "CapEff:\t00000000a80425fb\n"
                "CapBnd:\t00000000a80425fb\n"
                "CapAmb:\t0000000000000000\n"
                "NoNewPrivs:\t0\n"
                "Seccomp:\t2\n");
    expect_file(t, "/out/user-status",
                "CapInh:\t0000000000000000\n"
                "CapPrm:\t0000000000000000\n"
                "CapEff:\t0000000000000000\n"
                "CapBnd:\t00000000a80425fb\n"
                "CapAmb:\t0000000000000000\n"
                "NoNewPrivs:\t0\n"
                "Seccomp:\t2\n");
}

TEST_F(SandboxSecurityTest, NamespacesAndMountsCannotBeMade) {
    auto r = build(
        "FROM busybox:latest\n"
        "RUN mkdir -p /mnt; { unshare -U true; echo \"unshare-user=$?\";"
        " unshare -m true; echo \"unshare-mount=$?\";"
        " mount -t tmpfs none /mnt; echo \"mount=$?\";"
        " mount -o remount,rw /proc/sys; echo \"remount=$?\"; } > /escape 2>&1\n");
    const std::string out = rootfs(r).at("/escape").data;
    for (const char* op : {"unshare-user", "unshare-mount", "mount", "remount"})
        EXPECT_FALSE(contains(out, std::string(op) + "=0\n")) << op << " worked:\n" << out;
}

TEST_F(SandboxSecurityTest, ProcAndSysAreMaskedAndReadOnly) {
    // Docker's masked files this kernel has (covered by /dev/null: empty).
    std::string files;
    for (const char* f : {"/proc/kcore", "/proc/interrupts", "/proc/keys", "/proc/timer_list",
                          "/proc/sched_debug", "/proc/latency_stats"})
        if (fs::exists(f)) files += std::string(" ") + f;
    ASSERT_FALSE(files.empty());
    auto r = build(
        "FROM busybox:latest\n"
        "RUN for f in" +
        files +
        "; do echo \"$f $(cat $f | wc -c)\"; done > /masked 2>&1;"
        " ls -A /sys/firmware > /firmware 2>&1;"
        " { awk '$5 == \"/proc/sys\" || $5 == \"/sys\" { split($6, o, \",\"); print $5, o[1] }'"
        " /proc/self/mountinfo; } > /ro;"
        " { echo x > /proc/sys/kernel/domainname; } 2> /write-err; echo \"rc=$?\" >> /write-err\n");
    const Tree t = rootfs(r);
    std::string masked;
    std::stringstream names(files);
    for (std::string f; names >> f;)
        masked += f + " 0\n";
    expect_file(t, "/masked", masked);
    if (fs::exists("/sys/firmware")) expect_file(t, "/firmware", "");  // an empty tmpfs
    expect_file(t, "/ro", "/sys ro\n/proc/sys ro\n");
    EXPECT_TRUE(contains(t.at("/write-err").data, "Read-only file system"))
        << t.at("/write-err").data;
}

// No descriptor of strata's reaches the command; RLIMIT_NOFILE is Docker's
// (1024, and a hard limit of 524288 where strata may raise it).
TEST_F(SandboxSecurityTest, OnlyStdioIsOpenAndTheNofileLimitIsDockers) {
    // The descriptors of a child of the shell (the shell's own would show
    // busybox's saved-redirection descriptor, ls's the directory it reads).
    auto r = build(
        "FROM busybox:latest\n"
        "RUN sleep 5 & ls /proc/$!/fd > /fds; kill $!; ulimit -n > /nofile; ulimit -Hn >> "
        "/nofile\n");
    const Tree t = rootfs(r);
    expect_file(t, "/fds", "0\n1\n2\n");
    rlimit own{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2]{};
    ASSERT_EQ(::syscall(SYS_capget, &hdr, caps), 0);
    const bool may_raise = caps[0].effective & (1u << CAP_SYS_RESOURCE);
    const rlim_t hard = may_raise ? 524288 : std::min<rlim_t>(524288, own.rlim_max);
    expect_file(t, "/nofile", fmt::format("{}\n{}\n", std::min<rlim_t>(1024, hard), hard));
}

// --- limits ------------------------------------------------------------------

TEST_F(SandboxSecurityTest, PidsLimitFailsTheStepAndLeavesNothingRunning) {
    executor::RunnerOptions o;
    o.limits.pids = 100;
    use_runner(o);
    // 300 sleepers, and no wait: without the limit the step succeeds at once.
    const auto err = failure(
        "FROM busybox:latest\n"
        "RUN for i in $(seq 300); do sleep 37 & done; echo all started\n");
    ASSERT_TRUE(err) << "300 processes started under --pids-limit 100";
    EXPECT_TRUE(contains(*err, "pids limit was reached")) << *err;
    EXPECT_EQ(wait_until_gone("sleep 37"), 0) << "processes of the failed step are still running";
    expect_nothing_left("pids limit");
}

TEST_F(SandboxSecurityTest, MemoryLimitFailsTheStepWithOutOfMemory) {
    // tail keeps the last 200 MiB of its input in its own heap.
    dockerfile("FROM busybox:latest\nRUN head -c 200m /dev/zero | tail -c 200m > /dev/null\n");
    const CliRun run = run_strata({"--root", root().string(), "build", "--progress", "plain",
                                   "--memory", "32m", ctx().string()});
    EXPECT_NE(run.exit_code, 0) << run.output;
    EXPECT_TRUE(contains(run.output, "out of memory")) << run.output;
    EXPECT_TRUE(contains(run.output, "33554432 bytes")) << run.output;
    EXPECT_EQ(cgroups_named(fmt::format("strata-{}-", run.pid)), std::vector<std::string>{});
    EXPECT_EQ(store_mounts(), std::vector<std::string>{});
    // Without the limit the same step passes (the test can tell).
    const CliRun free = run_strata({"--root", root().string(), "build", "-q", ctx().string()});
    EXPECT_EQ(free.exit_code, 0) << free.output;
}

// What --memory, --cpus and --pids-limit asked, and runc's device
// allow-list, in the step's cgroup while it runs.
void expect_limits(std::map<std::string, std::string> seen) {
    EXPECT_EQ(seen["pids.max"], "50\n");
    if (seen.count("memory.max")) {  // cgroup v2
        EXPECT_EQ(seen["memory.max"], "67108864\n");
        EXPECT_EQ(seen["cpu.max"], "50000 100000\n");
    } else {
        EXPECT_EQ(seen["memory.limit_in_bytes"], "67108864\n");
        EXPECT_EQ(seen["cpu.cfs_quota_us"], "50000\n");
        const std::string devices = seen["devices.list"];
        EXPECT_FALSE(contains(devices, "a *:* rwm")) << devices;
        EXPECT_TRUE(contains(devices, "c 1:3 rwm")) << devices;
        EXPECT_TRUE(contains(devices, "b *:* m")) << devices;
        EXPECT_FALSE(contains(devices, "b 7:")) << devices;
    }
}

TEST_F(SandboxSecurityTest, LimitsAreWrittenToTheStepsCgroup) {
    executor::RunnerOptions o;
    o.limits.memory_bytes = 64 << 20;
    o.limits.cpus = 0.5;
    o.limits.pids = 50;
    use_runner(o);
    dockerfile("FROM busybox:latest\nRUN sleep 3\n");
    const executor::BuildRequest req = request();
    std::optional<std::string> err;
    std::jthread builder([&] { err = failure(req); });  // joined on any exit
    const auto seen = poll_cgroup_limits(sandbox::own_cgroup_prefix());
    builder.join();
    EXPECT_FALSE(err) << *err;
    expect_limits(seen);
    expect_nothing_left("limits");
}

// The same through the CLI's flags; a bad value is refused.
TEST_F(SandboxSecurityTest, CliLimitsReachTheStepsCgroup) {
    dockerfile("FROM busybox:latest\nRUN sleep 3\n");
    std::map<std::string, std::string> seen;
    const CliRun run =
        run_strata({"--root", root().string(), "build", "-q", "--cpus", "0.5", "--memory", "64m",
                    "--pids-limit", "50", ctx().string()},
                   [&](pid_t pid) { seen = poll_cgroup_limits(fmt::format("strata-{}-", pid)); });
    EXPECT_EQ(run.exit_code, 0) << run.output;
    expect_limits(seen);
    EXPECT_EQ(cgroups_named(fmt::format("strata-{}-", run.pid)), std::vector<std::string>{});
    const CliRun bad =
        run_strata({"--root", root().string(), "build", "-q", "--cpus", "lots", ctx().string()});
    EXPECT_NE(bad.exit_code, 0) << bad.output;
    EXPECT_TRUE(contains(bad.output, "--cpus")) << bad.output;
}

// --- network -----------------------------------------------------------------

TEST_F(SandboxSecurityTest, DefaultNetworkCannotReachTheHostsLoopback) {
    const std::string reply = "host-service-" + random_hex();
    HostTcpServer server(reply + "\n");
    const std::string df =
        "FROM busybox:latest\n"
        "RUN nc -w 3 127.0.0.1 " +
        std::to_string(server.port()) +
        " > /got 2>&1; echo \"rc=$?\" >> /got; ls /sys/class/net > /net\n";
    auto r = build(df);  // --network=default
    Tree t = rootfs(r);
    EXPECT_FALSE(contains(t.at("/got").data, reply)) << "the host's 127.0.0.1 answered";
    EXPECT_FALSE(contains(t.at("/got").data, "rc=0")) << t.at("/got").data;
    EXPECT_EQ(server.connections(), 0);
    EXPECT_NE(t.at("/net").data, "lo\n") << "the default network has an outside interface";

    // The same step with the host's network reaches it: the check can fail.
    executor::RunnerOptions host;
    host.network = "host";
    use_runner(host);
    executor::BuildRequest req = request(df);
    req.plan.no_cache = true;
    t = rootfs(build(req));
    EXPECT_TRUE(contains(t.at("/got").data, reply)) << t.at("/got").data;
    EXPECT_GE(server.connections(), 1);
}

TEST_F(SandboxSecurityTest, NetworkNoneHasOnlyLoopback) {
    const std::string reply = "host-service-" + random_hex();
    HostTcpServer server(reply + "\n");
    executor::RunnerOptions none;
    none.network = "none";
    use_runner(none);
    auto r = build(
        "FROM busybox:latest\n"
        "RUN ls /sys/class/net > /net; nc -w 3 127.0.0.1 " +
        std::to_string(server.port()) + " > /got 2>&1; echo \"rc=$?\" >> /got\n");
    const Tree t = rootfs(r);
    expect_file(t, "/net", "lo\n");
    EXPECT_FALSE(contains(t.at("/got").data, reply)) << t.at("/got").data;
    EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace strata::buildtest
