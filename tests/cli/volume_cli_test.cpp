// `strata volume create|ls|inspect|rm|prune` through the real binary: Docker's
// output and errors, and concurrent creates of one name by several processes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "store/image_fixture.hpp"

namespace strata::imagetest {
namespace {

class VolumeCli : public ::testing::Test {
  protected:
    RunResult ok(std::vector<std::string> args, const std::string& input = {}) {
        auto r = strata(root_, std::move(args), input);
        EXPECT_EQ(r.code, 0) << r.err;
        return r;
    }
    RunResult fail(std::vector<std::string> args, const std::string& needle,
                   const std::string& input = {}) {
        auto r = strata(root_, std::move(args), input);
        EXPECT_EQ(r.code, 1) << r.out << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
        return r;
    }

    TempDir dir_ = scratch("strata-volume-cli-");
    fs::path root_ = dir_.path() / "root";
};

TEST_F(VolumeCli, CreateListInspectRemove) {
    EXPECT_EQ(ok({"volume", "create", "--label", "team=web", "--label", "tier", "data"}).out,
              "data\n");
    const std::string anon = ok({"volume", "create"}).out;
    ASSERT_EQ(anon.size(), 65u) << anon;  // 64 hex + newline
    const std::string anon_name = anon.substr(0, 64);

    // Sorted by name: the random anonymous name sorts before or after "data".
    const bool anon_first = anon_name < "data";
    const std::string first = anon_first ? anon_name : "data";
    const std::string last = anon_first ? "data" : anon_name;
    EXPECT_EQ(ok({"volume", "ls"}).out,
              "DRIVER    VOLUME NAME\nlocal     " + first + "\nlocal     " + last + "\n");
    EXPECT_EQ(ok({"volume", "ls", "-q"}).out, first + "\n" + last + "\n");
    EXPECT_EQ(ok({"volume", "ls", "-q", "-f", "label=team=web"}).out, "data\n");
    EXPECT_EQ(ok({"volume", "ls", "-q", "-f", "name=dat"}).out, "data\n");
    EXPECT_EQ(ok({"volume", "ls", "-q", "-f", "dangling=true"}).out, first + "\n" + last + "\n");
    EXPECT_EQ(ok({"volume", "ls", "-q", "-f", "dangling=false"}).out, "");
    fail({"volume", "ls", "-f", "color=red"}, "invalid filter 'color'");

    auto lines = ok({"volume", "ls", "--format", "json"}).out;
    auto second = nlohmann::json::parse(anon_first ? lines.substr(lines.find('\n') + 1)
                                                   : lines.substr(0, lines.find('\n')));
    EXPECT_EQ(second["Name"], "data");
    EXPECT_EQ(second["Driver"], "local");
    EXPECT_EQ(second["Labels"], "team=web,tier=");
    EXPECT_EQ(second["Scope"], "local");
    EXPECT_EQ(second["Mountpoint"], (root_ / "volumes/data/_data").string());

    auto inspect = ok({"volume", "inspect", "data"});
    EXPECT_NE(inspect.out.find("\n        \"CreatedAt\": "), std::string::npos)
        << "4-space indent as docker prints it:\n"
        << inspect.out;
    auto j = nlohmann::ordered_json::parse(inspect.out);
    ASSERT_EQ(j.size(), 1u);
    std::vector<std::string> keys;
    for (const auto& [k, v] : j[0].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"CreatedAt", "Driver", "Labels", "Mountpoint", "Name",
                                              "Options", "Scope"}));
    EXPECT_EQ(j[0]["Name"], "data");
    EXPECT_EQ(j[0]["Driver"], "local");
    EXPECT_EQ(j[0]["Scope"], "local");
    EXPECT_EQ(j[0]["Labels"]["team"], "web");
    EXPECT_EQ(j[0]["Options"], nlohmann::ordered_json::object());
    EXPECT_EQ(j[0]["Mountpoint"], (root_ / "volumes/data/_data").string());
    EXPECT_TRUE(fs::is_directory(root_ / "volumes/data/_data"));
    auto anon_j = nlohmann::json::parse(ok({"volume", "inspect", anon_name}).out);
    EXPECT_TRUE(anon_j[0]["Labels"].contains("com.docker.volume.anonymous"));
    EXPECT_EQ(ok({"volume", "inspect", "-f", "{{.Mountpoint}}", "data"}).out,
              (root_ / "volumes/data/_data").string() + "\n");

    // One missing among several: the others are printed, exit 1.
    auto r = fail({"volume", "inspect", "data", "nope"}, "get nope: no such volume");
    EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1u);

    EXPECT_EQ(ok({"volume", "rm", "data"}).out, "data\n");
    EXPECT_FALSE(fs::exists(root_ / "volumes/data"));
    fail({"volume", "rm", "data"}, "get data: no such volume");
    EXPECT_EQ(ok({"volume", "rm", "-f", "data"}).out, "data\n");
}

TEST_F(VolumeCli, CreateErrors) {
    fail({"volume", "create", "a"},
         "create a: \"a\" includes invalid characters for a local volume name, only "
         "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
         "use absolute path");
    fail({"volume", "create", "../x"}, "includes invalid characters");
    fail({"volume", "create", "-d", "nfs", "x1"}, "volume driver \"nfs\" not found");
    fail({"volume", "create", "--name", "x1", "x2"},
         "conflicting options: either specify --name or provide positional arg, not both");
    EXPECT_EQ(ok({"volume", "create", "--name", "x1"}).out, "x1\n");
    // Idempotent, as docker volume create.
    EXPECT_EQ(ok({"volume", "create", "x1"}).out, "x1\n");
}

TEST_F(VolumeCli, PruneAsksAndRemovesAnonymousOnlyUnlessAll) {
    ok({"volume", "create", "named"});
    const std::string anon = ok({"volume", "create"}).out.substr(0, 64);

    // "n" (or no answer): nothing removed, an error.
    auto r = fail({"volume", "prune"}, "volume prune has been cancelled", "n\n");
    EXPECT_EQ(r.out.rfind("WARNING! This will remove anonymous local volumes not used by at "
                          "least one container.\nAre you sure you want to continue? [y/N] ",
                          0),
              0u)
        << r.out;
    EXPECT_EQ(ok({"volume", "ls", "-q"}).out.size(), 65u + 6u);

    r = ok({"volume", "prune"}, "y\n");
    EXPECT_NE(r.out.find("Deleted Volumes:\n" + anon + "\n\nTotal reclaimed space: 0B\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(ok({"volume", "ls", "-q"}).out, "named\n");

    r = ok({"volume", "prune", "-f"});
    EXPECT_EQ(r.out, "Total reclaimed space: 0B\n");
    std::ofstream(root_ / "volumes/named/_data/f") << std::string(1500, 'x');
    r = ok({"volume", "prune", "-f", "-a"});
    EXPECT_EQ(r.out, "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 1.5kB\n");
    EXPECT_EQ(ok({"volume", "ls", "-q"}).out, "");
}

TEST_F(VolumeCli, ConcurrentCreatesOfOneNameEndWithOneVolume) {
    std::vector<std::thread> threads;
    std::vector<RunResult> results(8);
    for (size_t i = 0; i < results.size(); ++i)
        threads.emplace_back([&, i] {
            results[i] = strata(root_, {"volume", "create", "shared-data"});
        });
    for (auto& t : threads)
        t.join();
    for (const auto& r : results) {
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.out, "shared-data\n");
    }
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(root_ / "volumes"))
        entries.push_back(e.path().filename().string());
    EXPECT_EQ(entries, std::vector<std::string>{"shared-data"});
}

}  // namespace
}  // namespace strata::imagetest
