// VolumeStore: the on-disk layout, Docker's name rule, in-use refusal through
// container records, prune (anonymous only / all), `rm -v`'s hook, and
// concurrent creates of one name by several processes.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/volume_store.hpp"

namespace strata::containers {
namespace {

namespace fs = std::filesystem;

class VolumeStoreTest : public ::testing::Test {
  protected:
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-volume-store-");
    VolumeStore volumes{tmp.path()};
    ContainerStore containers{tmp.path()};

    Container container_using(const std::vector<std::pair<std::string, bool>>& names,
                              const std::string& name = "") {
        ContainerSpec s;
        s.image_name = "busybox:latest";
        for (const auto& [v, anonymous] : names) {
            MountSpec m;
            m.type = MountSpec::Type::kVolume;
            m.source = v;
            m.target = "/" + v.substr(0, 8);
            m.anonymous = anonymous;
            s.mounts.push_back(m);
        }
        return containers.create(s, name);
    }

    static void write(const fs::path& p, const std::string& content) {
        std::ofstream(p) << content;
    }
};

TEST_F(VolumeStoreTest, CreateLaysOutTheVolume) {
    Volume v = volumes.create("data", {{"team", "web"}});
    EXPECT_EQ(v.name, "data");
    EXPECT_EQ(v.driver, "local");
    EXPECT_EQ(v.dir, tmp.path() / "volumes" / "data");
    EXPECT_EQ(v.mountpoint(), tmp.path() / "volumes" / "data" / "_data");
    EXPECT_FALSE(v.anonymous);
    EXPECT_FALSE(v.populated);
    EXPECT_EQ(v.labels.at("team"), "web");
    ASSERT_EQ(v.created.size(), 20u) << v.created;  // 2026-12-05T08:59:00Z
    EXPECT_EQ(v.created.back(), 'Z');
    struct stat st {};
    ASSERT_EQ(::stat(v.mountpoint().c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    // The record reads back, and nothing temporary is left beside it.
    Volume back = volumes.get("data");
    EXPECT_EQ(back.created, v.created);
    EXPECT_EQ(back.labels, v.labels);
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(tmp.path() / "volumes"))
        entries.push_back(e.path().filename().string());
    EXPECT_EQ(entries, std::vector<std::string>{"data"});
}

TEST_F(VolumeStoreTest, CreateIsIdempotentAndKeepsTheFirstLabels) {
    Volume a = volumes.create("data", {{"k", "1"}});
    write(a.mountpoint() / "f", "x");
    Volume b = volumes.create("data", {{"k", "2"}});
    EXPECT_EQ(b.labels.at("k"), "1");
    EXPECT_TRUE(fs::exists(b.mountpoint() / "f"));
}

TEST_F(VolumeStoreTest, NamesFollowDockersRule) {
    for (const char* ok : {"ab", "a1", "1a", "data.v_1-x", "A-b"})
        EXPECT_TRUE(valid_volume_name(ok)) << ok;
    for (const char* bad : {"", "a", "_a", ".a", "-a", "a/b", "a b", "a:b", "..", "a!"})
        EXPECT_FALSE(valid_volume_name(bad)) << bad;
    try {
        volumes.create("../escape");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_EQ(std::string(e.what()),
                  "create ../escape: \"../escape\" includes invalid characters for a local volume "
                  "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
                  "a host directory, use absolute path");
    }
    EXPECT_FALSE(fs::exists(tmp.path() / "escape"));
}

TEST_F(VolumeStoreTest, UnnamedCreateIsAnonymous) {
    Volume v = volumes.create("");
    EXPECT_EQ(v.name.size(), 64u);
    EXPECT_TRUE(v.anonymous);
    EXPECT_EQ(v.labels.count(kAnonymousVolumeLabel), 1u);
    EXPECT_NE(volumes.create("").name, v.name);
}

TEST_F(VolumeStoreTest, GetAndListAndMissing) {
    volumes.create("zeta");
    volumes.create("alpha");
    auto list = volumes.list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "alpha");
    EXPECT_EQ(list[1].name, "zeta");
    try {
        volumes.get("nope");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_EQ(std::string(e.what()), "get nope: no such volume");
    }
    EXPECT_FALSE(volumes.find("../volumes").has_value());
}

TEST_F(VolumeStoreTest, RemoveIsRefusedWhileAContainerReferencesIt) {
    volumes.create("data");
    Container c1 = container_using({{"data", false}}, "one");
    Container c2 = container_using({{"data", false}}, "two");
    try {
        volumes.remove("data");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kConflict);
        const std::string first = std::min(c1.id, c2.id), second = std::max(c1.id, c2.id);
        EXPECT_EQ(std::string(e.what()),
                  "remove data: volume is in use - [" + first + ", " + second + "]");
    }
    // Whatever the container's state: a created or exited one counts too.
    containers.remove(c1);
    EXPECT_THROW(volumes.remove("data"), Error);
    containers.remove(c2);
    volumes.remove("data");
    EXPECT_FALSE(volumes.find("data"));
    EXPECT_FALSE(fs::exists(tmp.path() / "volumes" / "data"));
    // Missing: an error, unless forced.
    EXPECT_THROW(volumes.remove("data"), Error);
    EXPECT_NO_THROW(volumes.remove("data", true));
}

TEST_F(VolumeStoreTest, PruneRemovesUnusedAnonymousVolumesOrAllWithAll) {
    volumes.create("named");
    volumes.create("kept");
    Volume anon = volumes.create("");
    Volume anon_used = volumes.create("");
    write(anon.mountpoint() / "f", std::string(1000, 'x'));
    container_using({{"kept", false}, {anon_used.name, true}});

    VolumePruneReport r = volumes.prune(false);
    EXPECT_EQ(r.removed, std::vector<std::string>{anon.name});
    EXPECT_EQ(r.reclaimed, 1000u);
    EXPECT_TRUE(volumes.find("named"));

    r = volumes.prune(true);
    EXPECT_EQ(r.removed, std::vector<std::string>{"named"});
    auto left = volumes.list();
    ASSERT_EQ(left.size(), 2u);
    EXPECT_TRUE(volumes.find("kept"));
    EXPECT_TRUE(volumes.find(anon_used.name));
}

TEST_F(VolumeStoreTest, RemoveAnonymousVolumesKeepsNamedAndShared) {
    Volume anon = volumes.create("");
    Volume shared_anon = volumes.create("");
    volumes.create("named");
    Container c = container_using({{anon.name, true}, {shared_anon.name, true}, {"named", false}});
    // Another container took shared_anon with --volumes-from.
    container_using({{shared_anon.name, true}});

    containers.remove(c);
    auto removed = remove_anonymous_volumes(tmp.path(), c);
    EXPECT_EQ(removed, std::vector<std::string>{anon.name});
    EXPECT_FALSE(volumes.find(anon.name));
    EXPECT_TRUE(volumes.find(shared_anon.name));
    EXPECT_TRUE(volumes.find("named"));
    // Again: nothing left to do, no error.
    EXPECT_TRUE(remove_anonymous_volumes(tmp.path(), c).empty());
}

TEST_F(VolumeStoreTest, RemoveAnonymousVolumesWithTheRecordStillThere) {
    Volume anon = volumes.create("");
    Container c = container_using({{anon.name, true}});
    EXPECT_EQ(remove_anonymous_volumes(tmp.path(), c), std::vector<std::string>{anon.name});
}

TEST_F(VolumeStoreTest, EnsureVolumesMakesMissingOnes) {
    MountSpec named;
    named.type = MountSpec::Type::kVolume;
    named.source = "made";
    named.target = "/m";
    MountSpec anon = named;
    anon.source = std::string(64, 'b');
    anon.anonymous = true;
    ensure_volumes(tmp.path(), {named, anon});
    EXPECT_FALSE(volumes.get("made").anonymous);
    EXPECT_TRUE(volumes.get(anon.source).anonymous);
}

TEST_F(VolumeStoreTest, ConcurrentCreatesOfOneNameEndWithOneVolume) {
    // Several processes at once, many rounds: each must get the same volume
    // (the same record), and no temporary directory may be left.
    for (int round = 0; round < 20; ++round) {
        const std::string name = "race" + std::to_string(round);
        const fs::path out = tmp.path() / ("out-" + name);
        fs::create_directories(out);
        std::vector<pid_t> kids;
        for (int i = 0; i < 6; ++i) {
            pid_t pid = ::fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                int code = 0;
                try {
                    VolumeStore mine(tmp.path());
                    Volume v = mine.create(name, {{"writer", std::to_string(i)}});
                    std::ofstream(out / std::to_string(i)) << v.labels.at("writer");
                } catch (...) {
                    code = 1;
                }
                ::_exit(code);
            }
            kids.push_back(pid);
        }
        for (pid_t pid : kids) {
            int status = 0;
            ASSERT_EQ(::waitpid(pid, &status, 0), pid);
            ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        const std::string winner = volumes.get(name).labels.at("writer");
        for (int i = 0; i < 6; ++i) {
            std::ifstream in(out / std::to_string(i));
            std::string seen;
            in >> seen;
            EXPECT_EQ(seen, winner) << "process " << i << " got another volume";
        }
    }
    size_t dirs = 0;
    for (const auto& e : fs::directory_iterator(tmp.path() / "volumes")) {
        EXPECT_EQ(e.path().filename().string().rfind("race", 0), 0u) << e.path();
        ++dirs;
    }
    EXPECT_EQ(dirs, 20u);
}

}  // namespace
}  // namespace strata::containers
