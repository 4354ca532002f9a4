// Rootless strata, end to end: the strata binary run by an unprivileged user
// (`strata-rootless`, subordinate ids in /etc/subuid and /etc/subgid) enters
// a user namespace of its own and builds with RUN steps there — whiteouts,
// opaque directories and in-container owners in the layers, a cached second
// build, a store under the user's XDG directory that only the user can
// enter, nothing left running when it is killed — and, for a user without
// subordinate ids, with only that user mapped. The root test process makes
// the users and runs strata through runuser.
//
// Also, without root: the pieces of src/cli/rootless.cpp and the store's
// default location inside the namespace.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "cli/rootless.hpp"
#include "store/store_root.hpp"
#include "support/rootless_user.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// --- the pieces, no root needed ------------------------------------------------

TEST(RootlessIds, SubordinateRangesOfTheUserByNameOrUid) {
    const std::string text =
        "alice:100000:65536\n"
        "bob:165536:65536\n"
        "1001:300000:10\n"
        "alice:500000:1000\n"
        "alice:bad:1\n"
        "alice:600000:0\n"
        "# comment\n"
        "alice:700000\n";
    using cli::IdRange;
    EXPECT_EQ(cli::subordinate_ranges(text, "alice", 1001),
              (std::vector<IdRange>{{100000, 65536}, {300000, 10}, {500000, 1000}}));
    EXPECT_EQ(cli::subordinate_ranges(text, "bob", 1002), (std::vector<IdRange>{{165536, 65536}}));
    EXPECT_TRUE(cli::subordinate_ranges(text, "carol", 1003).empty());
    EXPECT_TRUE(cli::subordinate_ranges("", "alice", 1001).empty());
}

TEST(RootlessIds, MapArgumentsPutTheUserAtZeroAndTheRangesFromOne) {
    EXPECT_EQ(cli::id_map_args(1000, {{100000, 65536}, {300000, 10}}),
              (std::vector<std::string>{"0", "1000", "1", "1", "100000", "65536", "65537", "300000",
                                        "10"}));
    EXPECT_EQ(cli::id_map_args(1000, {}), (std::vector<std::string>{"0", "1000", "1"}));
}

TEST(RootlessCommand, OnlyCommandsThatUseTheStoreEnterTheNamespace) {
    auto needs = [](std::vector<std::string> args) {
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        return cli::command_needs_store(static_cast<int>(args.size()), argv.data());
    };
    EXPECT_TRUE(needs({"strata", "build", "."}));
    EXPECT_TRUE(needs({"strata", "--root", "/x", "images"}));
    EXPECT_TRUE(needs({"strata", "--root=/x", "load", "-i", "a.tar"}));
    EXPECT_FALSE(needs({"strata", "--root", "build", "parse"}));  // "build" is --root's value
    EXPECT_FALSE(needs({"strata", "parse", "-f", "Dockerfile"}));
    EXPECT_FALSE(needs({"strata"}));
    EXPECT_FALSE(needs({"strata", "--version"}));
    EXPECT_FALSE(needs({"strata", "build", "--help"}));
    // login/logout touch only the Docker client config; --insecure-registry takes a value.
    EXPECT_FALSE(needs({"strata", "login", "-u", "a", "host:5000"}));
    EXPECT_FALSE(needs({"strata", "--insecure-registry", "build", "logout"}));
    EXPECT_TRUE(needs({"strata", "--insecure-registry", "h:5000", "build", "."}));
}

TEST(RootlessStoreRoot, InsideTheNamespaceTheDefaultIsTheOneComputedOutside) {
    std::map<std::string, std::string> env;
    store::StoreRootInputs in;
    in.getenv = [&](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    in.is_root = true;  // geteuid() is 0 in the namespace
    env["HOME"] = "/home/u";
    EXPECT_EQ(store::resolve_store_root(in), "/var/lib/strata");
    env[store::kRootlessEnv] = "/home/u/xdg/strata";
    EXPECT_EQ(store::resolve_store_root(in), "/home/u/xdg/strata");
    // None could be computed outside: the user's rules, never /var/lib/strata.
    env[store::kRootlessEnv] = "";
    EXPECT_EQ(store::resolve_store_root(in), "/home/u/.local/share/strata");
    env.erase("HOME");
    EXPECT_THROW(store::resolve_store_root(in), Error);
    // --root and STRATA_ROOT still win.
    env["STRATA_ROOT"] = "/env/root";
    EXPECT_EQ(store::resolve_store_root(in), "/env/root");
    in.flag = "/flag";
    EXPECT_EQ(store::resolve_store_root(in), "/flag");
}

// --- end to end, as an unprivileged user ----------------------------------------

constexpr const char* kNoSubUser = "strata-nosubids";  // a system user: none

using rootlesstest::Out;
using rootlesstest::processes_of;
using rootlesstest::quoted;
using rootlesstest::shell;

// The user and its store (tests/support/rootless_user.hpp), and a build
// context it can read.
class Rootless : public rootlesstest::RootlessFixture {
  protected:
    void SetUp() override {
        RootlessFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        fs::create_directories(ctx());
        ASSERT_EQ(::chmod(ctx().c_str(), 0755), 0);
    }

    fs::path ctx() const { return dir_->path() / "ctx"; }

    void context_file(const std::string& name, const std::string& content) {
        std::ofstream(ctx() / name) << content;
        ::chmod((ctx() / name).c_str(), 0644);
    }

    // `tar tv` of every layer of the image in `archive` (a `strata save`),
    // one listing per layer, numeric owners.
    std::vector<std::string> layer_listings(const fs::path& archive) {
        const Out manifest = shell("tar -xOf " + quoted(archive.string()) + " manifest.json");
        EXPECT_EQ(manifest.status, 0) << manifest.text;
        std::vector<std::string> out;
        const nlohmann::json json = nlohmann::json::parse(manifest.text);
        for (const auto& layer : json.at(0).at("Layers")) {
            // (save writes the layers gzip-compressed)
            const Out l = shell("tar -xOf " + quoted(archive.string()) + " " +
                                layer.get<std::string>() + " | tar -tvz --numeric-owner -f -");
            EXPECT_EQ(l.status, 0) << l.text;
            out.push_back(l.text);
        }
        return out;
    }
};

TEST_F(Rootless, BuildsWithRunAndCopyAndRecordsOwnersWhiteoutsAndOpaqueDirs) {
    Out o = strata("import " + quoted(image_tar().string()) + " busybox:latest");
    ASSERT_EQ(o.status, 0) << o.text;

    // The store: the user's, under $XDG_DATA_HOME (computed before the
    // namespace, where geteuid() is 0), only the user may enter it.
    struct stat st {};
    ASSERT_EQ(::stat(store_dir().c_str(), &st), 0) << o.text;
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, uid_);

    context_file("a.txt", "from the context\n");
    context_file("Dockerfile",
                 "FROM busybox:latest\n"
                 "RUN echo hello-from-run && mkdir -p /d/old && echo x > /d/old/x && "
                 "echo gone > /g && echo keep > /k\n"
                 "RUN touch /f && chown 1000:1000 /f && rm /g && rm -rf /d && mkdir /d && "
                 "echo y > /d/y && echo discarded > /dev/null && "
                 "echo uid=$(id -u) map=$(cat /proc/self/uid_map | tr -s ' \\n' ,)\n"
                 // A device node cannot be made (nor opened: the overlay is nodev).
                 "RUN if mknod /n c 1 3; then echo mknod-worked; else echo mknod-refused; fi\n"
                 // Its own network namespace: sysfs is mounted, not the host's.
                 "RUN --network=none ls /sys/class/net | tr '\\n' ' ' && echo\n"
                 "COPY a.txt /a.txt\n"
                 "COPY --chown=1000:1000 a.txt /b.txt\n"
                 "USER nobody\n"
                 "RUN echo as=$(id -u):$(id -g)\n");
    o = strata("build --network=host -t rl:1 " + quoted(ctx().string()));
    ASSERT_EQ(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("hello-from-run"), std::string::npos) << o.text;
    // Root in the container is the user; 1 and up are the subordinate ids.
    EXPECT_NE(o.text.find(fmt::format("uid=0 map=,0,{},1,1,{},{},", uid_, sub_start_, sub_count_)),
              std::string::npos)
        << o.text;
    EXPECT_NE(o.text.find("mknod-refused"), std::string::npos) << o.text;
    EXPECT_NE(o.text.find(" lo "), std::string::npos) << o.text;
    EXPECT_EQ(o.text.find("eth0"), std::string::npos) << "the host's /sys: " << o.text;
    EXPECT_NE(o.text.find("as=65534:65534"), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("(7 steps run, 0 cached)"), std::string::npos) << o.text;

    // The second build: everything cached.
    o = strata("build --network=host -t rl:1 " + quoted(ctx().string()));
    ASSERT_EQ(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("(0 steps run, 7 cached)"), std::string::npos) << o.text;

    // On the host the file chowned to 1000 belongs to a subordinate id.
    bool found = false;
    for (const auto& e : fs::directory_iterator(store_dir() / "layers")) {
        if (::lstat((e.path() / "f").c_str(), &st) != 0) continue;
        found = true;
        EXPECT_EQ(st.st_uid, sub_start_ + 999) << e.path();
    }
    EXPECT_TRUE(found);

    // The layers record the container's owners, whiteouts and opaque dirs.
    const fs::path saved = home() / "rl.tar";
    o = strata("save -o " + quoted(saved.string()) + " rl:1");
    ASSERT_EQ(o.status, 0) << o.text;
    const auto layers = layer_listings(saved);
    ASSERT_EQ(layers.size(), 8u);  // busybox, 5 RUN, 2 COPY
    const std::string& run2 = layers[2];
    EXPECT_NE(rootlesstest::listing_entry(run2, "f").find(" 1000/1000 "), std::string::npos)
        << run2;
    EXPECT_NE(rootlesstest::listing_entry(run2, ".wh.g"), "") << run2;
    EXPECT_NE(rootlesstest::listing_entry(run2, "d/.wh..wh..opq"), "") << run2;
    EXPECT_NE(rootlesstest::listing_entry(run2, "d/y"), "") << run2;
    EXPECT_EQ(rootlesstest::listing_entry(run2, "n"), "") << run2;
    EXPECT_NE(rootlesstest::listing_entry(layers[5], "a.txt").find(" 0/0 "), std::string::npos)
        << layers[5];
    EXPECT_NE(rootlesstest::listing_entry(layers[6], "b.txt").find(" 1000/1000 "),
              std::string::npos)
        << layers[6];

    // Loaded into a fresh store, the opaque directory still hides what was
    // below (unpacked with user.overlay.opaque, which `userxattr` reads).
    context_file("Dockerfile",
                 "FROM rl:1\nRUN echo in-d=$(ls /d | tr '\\n' ,); ls /g || echo no-g\n");
    o = shell(command("--root " + quoted((home() / "second").string()) + " load -i " +
                      quoted(saved.string())));
    ASSERT_EQ(o.status, 0) << o.text;
    o = shell(command("--root " + quoted((home() / "second").string()) + " build --network=none " +
                      quoted(ctx().string())));
    ASSERT_EQ(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("in-d=y,\n"), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("no-g"), std::string::npos) << o.text;
    EXPECT_EQ(o.text.find("old"), std::string::npos) << o.text;

    EXPECT_TRUE(processes_of(uid_, uid_ + 1).empty());
}

TEST_F(Rootless, PrivateNetworkWorksOrSaysWhatToDo) {
    ASSERT_EQ(strata("import " + quoted(image_tar().string()) + " busybox:latest").status, 0);
    context_file("Dockerfile", "FROM busybox:latest\nRUN ls /sys/class/net | tr '\\n' ' '\n");
    const Out o = strata("build " + quoted(ctx().string()));
    if (o.status == 0) {
        EXPECT_NE(o.text.find(" lo "), std::string::npos) << o.text;
        return;
    }
    // pasta needs /dev/net/tun, which some systems keep 0600.
    EXPECT_NE(o.text.find("/dev/net/tun"), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("--network=host"), std::string::npos) << o.text;
}

TEST_F(Rootless, AKilledBuildLeavesNoProcess) {
    ASSERT_EQ(strata("import " + quoted(image_tar().string()) + " busybox:latest").status, 0);
    context_file("Dockerfile", "FROM busybox:latest\nRUN sleep 321\n");
    const fs::path log = dir_->path() / "build.log";
    const std::string cmd =
        command("build --network=host " + quoted(ctx().string())) + " >" + quoted(log) + " 2>&1";
    const pid_t sh = ::fork();
    ASSERT_GE(sh, 0);
    if (sh == 0) {
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // The step runs: a `sleep 321` of the user's (root in the namespace).
    auto find = [&](const std::string& what) {
        for (const auto& [pid, c] : processes_of(uid_, uid_ + 1))
            if (c.find(what) == 0) return pid;
        return 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!find("sleep 321") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    ASSERT_NE(find("sleep 321"), 0) << shell("cat " + quoted(log)).text;
    // Two strata processes: the one outside the namespace (the parent) and
    // the one inside; kill -9 the outer one.
    pid_t outer = 0;
    for (const auto& [pid, c] : processes_of(uid_, uid_ + 1)) {
        if (c.find((bin() / "strata").string() + " build") != 0) continue;
        if (!outer || pid < outer) outer = pid;
    }
    ASSERT_NE(outer, 0);
    ASSERT_EQ(::kill(outer, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(sh, &status, 0), sh);
    // The inner strata, strata-init and the command follow it.
    std::map<int, std::string> left;
    for (const auto until = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < until;) {
        left = processes_of(uid_, uid_ + 1);
        auto sub = processes_of(sub_start_, sub_start_ + sub_count_);
        left.insert(sub.begin(), sub.end());
        if (left.empty()) break;
        std::this_thread::sleep_for(50ms);
    }
    std::string names;
    for (const auto& [pid, c] : left)
        names += std::to_string(pid) + " " + c + "\n";
    EXPECT_TRUE(left.empty()) << names;
}

TEST_F(Rootless, WithoutSubordinateIdsOnlyTheUserIsMapped) {
    if (!::getpwnam(kNoSubUser)) {
        // A system user: useradd gives it no subordinate ids.
        const Out o = shell(std::string("useradd -r -M -s /usr/sbin/nologin ") + kNoSubUser);
        ASSERT_EQ(o.status, 0) << o.text;
    }
    for (const char* file : {"/etc/subuid", "/etc/subgid"})
        if (shell(std::string("grep -q '^") + kNoSubUser + ":' " + file).status == 0)
            GTEST_SKIP() << kNoSubUser << " has subordinate ids in " << file;
    const passwd* pw = ::getpwnam(kNoSubUser);
    ASSERT_NE(pw, nullptr);
    ASSERT_EQ(::chown(home().c_str(), pw->pw_uid, pw->pw_gid), 0);

    // HOME only: the store goes to ~/.local/share/strata.
    Out o = strata("import " + quoted(image_tar().string()) + " busybox:latest", kNoSubUser, false);
    ASSERT_EQ(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("has no subordinate ids"), std::string::npos) << o.text;
    struct stat st {};
    ASSERT_EQ(::stat((home() / ".local/share/strata").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, pw->pw_uid);

    context_file("Dockerfile",
                 "FROM busybox:latest\n"
                 "RUN echo map=$(cat /proc/self/uid_map | tr -s ' \\n' ,) && touch /x\n");
    o = strata("build --network=none " + quoted(ctx().string()), kNoSubUser, false);
    ASSERT_EQ(o.status, 0) << o.text;
    EXPECT_NE(o.text.find(fmt::format("map=,0,{},1,", pw->pw_uid)), std::string::npos) << o.text;
    size_t warnings = 0;
    for (size_t at = 0; (at = o.text.find("has no subordinate ids", at)) != std::string::npos; ++at)
        ++warnings;
    EXPECT_EQ(warnings, 1u) << o.text;

    context_file("Dockerfile", "FROM busybox:latest\nRUN touch /x && chown 1000 /x\n");
    o = strata("build --network=none " + quoted(ctx().string()), kNoSubUser, false);
    EXPECT_NE(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("chown"), std::string::npos) << o.text;

    context_file("Dockerfile", "FROM busybox:latest\nUSER nobody\nRUN id\n");
    o = strata("build --network=none " + quoted(ctx().string()), kNoSubUser, false);
    EXPECT_NE(o.status, 0) << o.text;
    EXPECT_NE(o.text.find("not mapped in the user namespace of rootless strata"), std::string::npos)
        << o.text;
    for (const auto& [pid, c] : processes_of(pw->pw_uid, pw->pw_uid + 1))
        ::kill(pid, SIGKILL);
}

}  // namespace
}  // namespace strata
