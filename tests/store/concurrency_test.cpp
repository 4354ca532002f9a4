// Several strata processes share one store; kill -9 never leaves it unreadable.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "store/image_archive_fixture.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

TEST(Concurrency, FourProcessesImportAndTagAtOnce) {
    auto dir = scratch();
    fs::path root = dir.path() / "root";
    std::vector<fs::path> tars;
    for (int i = 0; i < 4; ++i)
        tars.push_back(make_busybox_rootfs(dir.path() / std::to_string(i), fmt::format("p{}", i)));
    // Each process: import its own rootfs under two names, tag a shared name
    // (last writer wins), tag and untag a private name, several rounds.
    std::vector<pid_t> pids;
    for (int i = 0; i < 4; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            std::string s = STRATA_BINARY, r = root.string(), n = std::to_string(i);
            std::string script = "set -e; for round in 1 2 3; do '" + s + "' --root '" + r +
                                 "' import '" + tars[i].string() + "' p" + n +
                                 ":r$round >/dev/null; '" + s + "' --root '" + r + "' tag p" + n +
                                 ":r$round shared:latest; '" + s + "' --root '" + r + "' tag p" +
                                 n + ":r$round p" + n + ":tmp; '" + s + "' --root '" + r +
                                 "' rmi p" + n + ":tmp >/dev/null; done";
            execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
            _exit(127);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed";
    }
    ImageStore store(root);
    auto names = store.names();
    EXPECT_EQ(names.size(), 4u * 3 + 1);  // p<i>:r1..r3 and shared:latest
    EXPECT_TRUE(names.get(Reference::parse("shared:latest")));
    for (int i = 0; i < 4; ++i)
        for (int r = 1; r <= 3; ++r)
            EXPECT_TRUE(names.get(Reference::parse(fmt::format("p{}:r{}", i, r))));
    auto report = check_store(store);
    EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0]);
    auto cli = strata(root, {"store", "check"});
    EXPECT_EQ(cli.code, 0) << cli.out << cli.err;
}

// kill -9 a writer at many points; every time, the next commands read the
// store and `store check` finds no problem (leftovers are only notes).
TEST(Concurrency, KillNineAtAnyPointLeavesAReadableStore) {
    auto dir = scratch();
    fs::path root = dir.path() / "root";
    // A bigger rootfs, so that the import takes long enough to be interrupted.
    fs::path big = dir.path() / "big";
    fs::create_directories(big);
    ASSERT_EQ(shell("head -c 40000000 /dev/urandom > '" + (big / "blob").string() + "'"), 0);
    fs::path tar = make_busybox_rootfs(big);
    ASSERT_EQ(shell("cd '" + big.string() + "' && tar -rf rootfs.tar blob"), 0);
    ASSERT_EQ(strata(root, {"import", tar.string(), "base:1"}).code, 0);
    std::string saved = (dir.path() / "saved.tar").string();
    ASSERT_EQ(strata(root, {"save", "-o", saved, "base:1"}).code, 0);

    for (int delay_ms : {1, 5, 20, 50, 100, 200, 400, 700}) {
        SCOPED_TRACE(delay_ms);
        pid_t pid = fork();
        if (pid == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            const char* cmd = delay_ms % 2 ? "import" : "load";
            std::string arg = delay_ms % 2 ? tar.string() : saved;
            if (delay_ms % 2)
                execl(STRATA_BINARY, "strata", "--root", root.c_str(), cmd, arg.c_str(), "victim:1",
                      nullptr);
            else
                execl(STRATA_BINARY, "strata", "--root", root.c_str(), cmd, "-i", arg.c_str(),
                      nullptr);
            _exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        auto images = strata(root, {"images"});
        EXPECT_EQ(images.code, 0) << images.err;
        EXPECT_NE(images.out.find("base"), std::string::npos);
        auto check = strata(root, {"store", "check"});
        EXPECT_EQ(check.code, 0) << check.out;
        EXPECT_EQ(check.out.find("problem:"), std::string::npos) << check.out;
    }
    // prune clears whatever the killed writers left behind.
    EXPECT_EQ(strata(root, {"prune"}).code, 0);
    auto check = strata(root, {"store", "check"});
    EXPECT_EQ(check.code, 0);
    EXPECT_EQ(check.out.find("note:"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace strata::store
