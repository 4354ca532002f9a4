#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/container_names.hpp"
#include "containers/container_record.hpp"

namespace strata::containers {
namespace {

namespace fs = std::filesystem;

class ContainerStoreTest : public ::testing::Test {
  protected:
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctr-store-");
    ContainerStore store{tmp.path()};

    static ContainerSpec spec() {
        ContainerSpec s;
        s.image_name = "busybox:latest";
        s.image_id = "sha256:" + std::string(64, 'a');
        s.image_manifest = "sha256:" + std::string(64, 'b');
        s.argv = {"sh", "-c", "echo hi"};
        s.config.cmd = std::vector<std::string>{"sh"};
        s.config.env = {"PATH=/bin"};
        MountSpec volume;
        volume.type = MountSpec::Type::kVolume;
        volume.source = "data";
        volume.target = "/data";
        volume.tmpfs_size = 5;  // round-trips even where it means nothing
        s.mounts.push_back(volume);
        s.memory_bytes = 64u << 20;
        return s;
    }

    // A pid that existed and is gone now (reaped).
    static int dead_pid() {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        int status = 0;
        waitpid(pid, &status, 0);
        return pid;
    }
};

TEST_F(ContainerStoreTest, CreateWritesARecordThatReadsBack) {
    Container c = store.create(spec(), "web");
    EXPECT_EQ(c.id.size(), 64u);
    EXPECT_TRUE(is_hex_id_prefix(c.id));
    EXPECT_EQ(c.name, "web");
    EXPECT_EQ(c.spec.hostname, c.id.substr(0, 12));
    EXPECT_EQ(c.state.status, Status::kCreated);
    EXPECT_EQ(c.dir, tmp.path() / "containers" / c.id);
    EXPECT_TRUE(fs::is_directory(c.upper()));
    EXPECT_TRUE(fs::is_directory(c.work()));
    EXPECT_TRUE(fs::is_regular_file(c.config_file()));
    EXPECT_TRUE(fs::is_regular_file(c.state_file()));

    Container back = store.get(c.id);
    EXPECT_EQ(back.id, c.id);
    EXPECT_EQ(back.name, "web");
    EXPECT_EQ(back.created, c.created);
    EXPECT_EQ(back.spec, c.spec);
    EXPECT_EQ(back.state, c.state);
    // Nothing left behind in the staging area.
    EXPECT_TRUE(fs::is_empty(tmp.path() / "containers" / "tmp"));
}

TEST_F(ContainerStoreTest, AutoRemoveContainersAreStoredAlike) {
    // --rm containers skip the fsyncs, nothing else.
    ContainerSpec s = spec();
    s.auto_remove = true;
    Container c = store.create(s, "quick");
    c.state.status = Status::kExited;
    c.state.exit_code = 0;
    store.save_state(c);
    Container back = store.get("quick");
    EXPECT_TRUE(back.spec.auto_remove);
    EXPECT_EQ(back.state, c.state);
    store.remove(back);
    EXPECT_FALSE(store.find("quick"));
}

TEST_F(ContainerStoreTest, GetByNamePrefixAndSlashName) {
    Container c = store.create(spec(), "/db");
    EXPECT_EQ(c.name, "db");
    EXPECT_EQ(store.get("db").id, c.id);
    EXPECT_EQ(store.get("/db").id, c.id);
    EXPECT_EQ(store.get(c.id.substr(0, 12)).id, c.id);
    EXPECT_EQ(store.get(c.id.substr(0, 1)).id, c.id);
    EXPECT_FALSE(store.find("nope").has_value());
    try {
        store.get("nope");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_STREQ(e.what(), "No such container: nope");
    }
}

TEST_F(ContainerStoreTest, AmbiguousPrefixIsAnError) {
    // Make containers until two share a first hex digit (17 always do).
    std::map<char, int> first;
    char shared = 0;
    for (int i = 0; i < 17 && !shared; ++i) {
        Container c = store.create(spec(), "");
        if (++first[c.id[0]] == 2) shared = c.id[0];
    }
    ASSERT_NE(shared, 0);
    try {
        store.get(std::string(1, shared));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kConflict);
        EXPECT_EQ(std::string(e.what()),
                  std::string("multiple IDs found with provided prefix: ") + shared);
    }
}

TEST_F(ContainerStoreTest, TakenNameIsAConflictInDockersWords) {
    Container first = store.create(spec(), "x1");
    try {
        store.create(spec(), "x1");
        FAIL() << "expected a conflict";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kConflict);
        EXPECT_EQ(std::string(e.what()),
                  "Conflict. The container name \"/x1\" is already in use by container \"" +
                      first.id +
                      "\". You have to remove (or rename) that container to be able to reuse "
                      "that name.");
    }
    EXPECT_EQ(store.list().size(), 1u);
    EXPECT_TRUE(fs::is_empty(tmp.path() / "containers" / "tmp"));
}

TEST_F(ContainerStoreTest, InvalidNameIsRefused) {
    for (const char* bad : {"a", "-x", "with space", "x/y", "_x"}) {
        try {
            store.create(spec(), bad);
            FAIL() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage) << bad;
            EXPECT_NE(std::string(e.what()).find("Invalid container name"), std::string::npos);
        }
    }
}

TEST_F(ContainerStoreTest, RandomNamesAreTwoWordsAndUnique) {
    std::set<std::string> names;
    for (int i = 0; i < 20; ++i) {
        Container c = store.create(spec(), "");
        EXPECT_TRUE(valid_container_name(c.name)) << c.name;
        EXPECT_NE(c.name.find('_'), std::string::npos) << c.name;
        EXPECT_TRUE(names.insert(c.name).second) << c.name;
    }
}

TEST_F(ContainerStoreTest, ConcurrentCreatesWithOneNameOneWins) {
    constexpr int kThreads = 8;
    std::atomic<int> won{0}, conflicts{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&] {
            ContainerStore own(tmp.path());
            while (!go)
                std::this_thread::yield();
            try {
                own.create(spec(), "shared");
                ++won;
            } catch (const Error& e) {
                if (e.kind() == ErrorKind::kConflict) ++conflicts;
            }
        });
    go = true;
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(won, 1);
    EXPECT_EQ(conflicts, kThreads - 1);
    EXPECT_EQ(store.list().size(), 1u);
}

TEST_F(ContainerStoreTest, ConcurrentCreatesAcrossProcessesOneWins) {
    constexpr int kProcs = 6;
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int code = 2;
            try {
                ContainerStore(tmp.path()).create(spec(), "race");
                code = 0;
            } catch (const Error& e) {
                code = e.kind() == ErrorKind::kConflict ? 1 : 2;
            }
            _exit(code);
        }
        pids.push_back(pid);
    }
    int wins = 0, conflicts = 0;
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        wins += WEXITSTATUS(status) == 0;
        conflicts += WEXITSTATUS(status) == 1;
    }
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(conflicts, kProcs - 1);
    ASSERT_EQ(store.list().size(), 1u);
    EXPECT_EQ(store.get("race").name, "race");
}

TEST_F(ContainerStoreTest, ListIsNewestFirst) {
    Container a = store.create(spec(), "first");
    Container b = store.create(spec(), "second");
    Container c = store.create(spec(), "third");
    auto all = store.list();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, c.id);
    EXPECT_EQ(all[1].id, b.id);
    EXPECT_EQ(all[2].id, a.id);
}

TEST_F(ContainerStoreTest, RemoveFreesTheNameAndTheDirectory) {
    Container c = store.create(spec(), "gone");
    fs::create_directories(c.upper() / "ro");
    fs::permissions(c.upper() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    store.remove(c);
    EXPECT_FALSE(fs::exists(c.dir));
    EXPECT_FALSE(store.find("gone").has_value());
    EXPECT_FALSE(store.find(c.id).has_value());
    EXPECT_TRUE(store.list().empty());
    EXPECT_TRUE(fs::is_empty(tmp.path() / "containers" / "tmp"));
    Container again = store.create(spec(), "gone");
    EXPECT_NE(again.id, c.id);
    try {
        store.remove(c);
        FAIL() << "removed twice";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    }
}

TEST_F(ContainerStoreTest, StaleNameFileFromACrashIsReclaimed) {
    fs::create_directories(tmp.path() / "containers" / "names");
    {
        std::ofstream f(tmp.path() / "containers" / "names" / "ghost");
        f << std::string(64, 'c') << "\n";
    }
    EXPECT_FALSE(store.find("ghost").has_value());
    Container c = store.create(spec(), "ghost");
    EXPECT_EQ(store.get("ghost").id, c.id);
}

// `rename`: the new name finds it and the old one is free again; Docker's
// refusals for a taken, empty, malformed or unchanged name.
TEST_F(ContainerStoreTest, RenameMovesTheNameInTheIndex) {
    Container a = store.create(spec(), "one");
    store.create(spec(), "two");
    store.rename(a, "/three");
    EXPECT_EQ(a.name, "three");
    EXPECT_EQ(store.get("three").id, a.id);
    EXPECT_EQ(store.get("three").name, "three");
    EXPECT_FALSE(store.find("one").has_value());
    EXPECT_NE(store.create(spec(), "one").id, a.id) << "the old name is free";
    const auto error = [&](const std::string& name) {
        try {
            store.rename(a, name);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(error("two").find("Conflict. The container name \"/two\" is already in use"),
              std::string::npos);
    EXPECT_EQ(error(""), "Neither old nor new names may be empty");
    EXPECT_EQ(error("three"), "Renaming a container with the same name as its current name");
    EXPECT_NE(error("-x").find("Invalid container name (/-x)"), std::string::npos);
    EXPECT_EQ(store.get("three").id, a.id) << "a refusal changes nothing";
}

TEST_F(ContainerStoreTest, SaveStateRoundTrips) {
    Container c = store.create(spec(), "st");
    auto lock = store.lock(c);
    c.state.status = Status::kExited;
    c.state.exit_code = 3;
    c.state.started_at = "2026-01-01T00:00:00.5Z";
    c.state.finished_at = "2026-01-01T00:00:01Z";
    c.state.oom_killed = true;
    c.state.error = "boom";
    c.state.ports = {"49153:80/tcp", "127.0.0.1:5353:53/udp"};
    store.save_state(c);
    EXPECT_EQ(store.get("st").state, c.state);
}

TEST_F(ContainerStoreTest, RefreshMarksADeadInitExitedUnknown) {
    Container c = store.create(spec(), "dead");
    c.state.status = Status::kRunning;
    c.state.pid = dead_pid();
    c.state.pid_start = 1;
    c.state.started_at = "2026-01-01T00:00:00Z";
    store.save_state(c);
    EXPECT_TRUE(store.refresh(c));
    EXPECT_EQ(c.state.status, Status::kExited);
    EXPECT_FALSE(c.state.exit_code.has_value());
    EXPECT_EQ(c.state.pid, 0);
    Container back = store.get("dead");
    EXPECT_EQ(back.state.status, Status::kExited);
    EXPECT_EQ(status_text(back.state, std::chrono::system_clock::now()), "Exited (unknown)");
    EXPECT_FALSE(store.refresh(back));  // nothing more to change
}

TEST_F(ContainerStoreTest, RefreshTellsAReusedPidByItsStartTime) {
    auto start = process_start_time(getpid());
    ASSERT_TRUE(start);
    Container c = store.create(spec(), "reused");
    c.state.status = Status::kRunning;
    c.state.pid = getpid();  // alive, but not the process that was started
    c.state.pid_start = *start + 1;
    store.save_state(c);
    EXPECT_TRUE(store.refresh(c));
    EXPECT_EQ(c.state.status, Status::kExited);
}

TEST_F(ContainerStoreTest, RefreshLeavesALiveInitRunningEvenWithoutItsHolder) {
    auto start = process_start_time(getpid());
    ASSERT_TRUE(start);
    Container c = store.create(spec(), "orphan");
    c.state.status = Status::kRunning;
    c.state.pid = getpid();
    c.state.pid_start = *start;
    c.state.monitor_pid = dead_pid();
    c.state.monitor_start = 1;
    store.save_state(c);
    EXPECT_FALSE(store.refresh(c));
    EXPECT_EQ(store.get("orphan").state.status, Status::kRunning);
}

TEST_F(ContainerStoreTest, RefreshLeavesTheExitToALiveHolder) {
    auto start = process_start_time(getpid());
    ASSERT_TRUE(start);
    Container c = store.create(spec(), "reaping");
    c.state.status = Status::kRunning;
    c.state.pid = dead_pid();
    c.state.monitor_pid = getpid();
    c.state.monitor_start = *start;
    store.save_state(c);
    EXPECT_FALSE(store.refresh(c));
    EXPECT_EQ(store.get("reaping").state.status, Status::kRunning);
}

TEST_F(ContainerStoreTest, RefreshRereadsTheStateUnderTheLock) {
    Container c = store.create(spec(), "raced");
    Container stale = c;
    stale.state.status = Status::kRunning;
    stale.state.pid = dead_pid();
    // Meanwhile the holder recorded the real exit.
    c.state.status = Status::kExited;
    c.state.exit_code = 7;
    store.save_state(c);
    EXPECT_FALSE(store.refresh(stale));
    EXPECT_EQ(stale.state.exit_code, 7);
    EXPECT_EQ(store.get("raced").state.exit_code, 7);
}

TEST(ContainerLiveness, ProcessAliveChecksStartTimeAndZombies) {
    auto start = process_start_time(getpid());
    ASSERT_TRUE(start);
    EXPECT_TRUE(process_alive(getpid(), *start));
    EXPECT_TRUE(process_alive(getpid(), 0));
    EXPECT_FALSE(process_alive(getpid(), *start + 1));
    EXPECT_FALSE(process_alive(0, 0));
    pid_t zombie = fork();
    if (zombie == 0) _exit(0);
    // Wait until it has exited but do not reap it.
    siginfo_t info{};
    ASSERT_EQ(waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
    EXPECT_FALSE(process_alive(zombie, 0));
    waitpid(zombie, nullptr, 0);
    EXPECT_FALSE(process_alive(zombie, 0));
}

TEST(ContainerNames, IdsAreHexAndNotAllDigitsInShortForm) {
    for (int i = 0; i < 50; ++i) {
        auto id = random_container_id();
        ASSERT_EQ(id.size(), 64u);
        EXPECT_TRUE(is_hex_id_prefix(id));
        EXPECT_NE(id.substr(0, 12).find_first_not_of("0123456789"), std::string::npos);
    }
}

TEST(ContainerNames, DockersNameRule) {
    EXPECT_TRUE(valid_container_name("ab"));
    EXPECT_TRUE(valid_container_name("/web_1.a-b"));
    EXPECT_TRUE(valid_container_name("9lives"));
    EXPECT_FALSE(valid_container_name("a"));
    EXPECT_FALSE(valid_container_name(""));
    EXPECT_FALSE(valid_container_name(".hidden"));
    EXPECT_FALSE(valid_container_name("a b"));
    EXPECT_FALSE(valid_container_name("a:b"));
}

}  // namespace
}  // namespace strata::containers
