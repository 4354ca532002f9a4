// `strata ps`, `rm`, `inspect` and `container prune` on records made through
// the ContainerStore API (no process runs in a container here: a "running"
// container is this test's child process, a dead one a reaped pid).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>

#include "cli/image_cli_fixture.hpp"
#include "containers/container_record.hpp"
#include "containers/volume_store.hpp"

namespace strata::imagetest {
namespace {

using containers::Container;
using containers::ContainerSpec;
using containers::ContainerStore;
using containers::Status;

class ContainerCliTest : public CliTest {
  protected:
    void TearDown() override {
        for (pid_t pid : children_) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }

    ContainerSpec spec(std::vector<std::string> argv = {"sh", "-c", "echo hello world and more"}) {
        ContainerSpec s;
        s.image_name = "busybox:latest";
        s.image_id = id_;
        s.argv = std::move(argv);
        s.config.cmd = std::vector<std::string>{"sh"};
        s.config.env = {"PATH=/usr/bin:/bin"};
        s.config.labels = {{"team", "store"}};
        s.publish = {"127.0.0.1:8080:80"};
        s.cap_add = {"NET_ADMIN"};
        s.memory_bytes = 64u << 20;
        s.cpus = 1.5;
        s.pids_limit = 100;
        s.no_new_privileges = true;
        s.tty = true;
        containers::MountSpec bind;
        bind.source = "/srv/data";
        bind.target = "/data";
        bind.read_only = true;
        s.mounts.push_back(bind);
        containers::MountSpec volume;
        volume.type = containers::MountSpec::Type::kVolume;
        volume.source = "cache";
        volume.target = "/cache";
        s.mounts.push_back(volume);
        return s;
    }

    Container make(const std::string& name) { return store().create(spec(), name); }

    // A container whose init is a live child of this test (sleep 60).
    Container make_running(const std::string& name) {
        Container c = make(name);
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
            _exit(127);
        }
        children_.push_back(pid);
        auto start = containers::process_start_time(pid);
        EXPECT_TRUE(start);
        c.state.status = Status::kRunning;
        c.state.pid = pid;
        c.state.pid_start = start.value_or(0);
        c.state.started_at = "2026-01-01T00:00:00Z";
        store().save_state(c);
        return c;
    }

    // A container recorded as running whose init is gone.
    Container make_dead(const std::string& name) {
        Container c = make(name);
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        ::waitpid(pid, nullptr, 0);
        c.state.status = Status::kRunning;
        c.state.pid = pid;
        c.state.pid_start = 1;
        c.state.started_at = "2026-01-01T00:00:00Z";
        store().save_state(c);
        return c;
    }

    ContainerStore& store() {
        if (!store_) store_.emplace(root_);
        return *store_;
    }

    std::optional<ContainerStore> store_;
    std::vector<pid_t> children_;
};

TEST_F(ContainerCliTest, PsListsRunningOnlyAndAllWithA) {
    Container created = make("fresh");
    Container dead = make_dead("crashed");
    Container running = make_running("busy");

    auto r = run_ok({"ps"});
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u) << r.out;  // header, one row
    EXPECT_EQ(out[0].substr(0, 15), "CONTAINER ID   ");
    for (const char* col : {"IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"})
        EXPECT_NE(out[0].find(col), std::string::npos) << col;
    EXPECT_EQ(out[1].substr(0, 12), running.short_id());
    EXPECT_NE(out[1].find("busybox:latest"), std::string::npos);
    EXPECT_NE(out[1].find("\"sh -c 'echo hello w…\""), std::string::npos) << out[1];
    EXPECT_NE(out[1].find("Up "), std::string::npos);
    EXPECT_NE(out[1].find("127.0.0.1:8080->80/tcp"), std::string::npos) << out[1];
    EXPECT_NE(out[1].find(" ago"), std::string::npos) << out[1];
    EXPECT_EQ(out[1].substr(out[1].size() - 4), "busy");

    r = run_ok({"ps", "-a"});
    out = lines(r.out);
    ASSERT_EQ(out.size(), 4u) << r.out;
    EXPECT_EQ(out[1].substr(0, 12), running.short_id());  // newest first
    EXPECT_EQ(out[2].substr(0, 12), dead.short_id());
    EXPECT_EQ(out[3].substr(0, 12), created.short_id());
    EXPECT_NE(out[2].find("Exited (unknown)"), std::string::npos) << out[2];
    EXPECT_NE(out[3].find("Created"), std::string::npos) << out[3];
    // The dead one was recorded as exited.
    EXPECT_EQ(store().get("crashed").state.status, Status::kExited);

    // `container ls` and its aliases are the same command. Compared without
    // the CREATED column: "Less than a second ago" becomes "1 second ago"
    // between two runs on a loaded machine.
    const char* format = "{{.ID}} {{.Names}} {{.Status}} {{.Ports}}";
    const std::string want = run_ok({"ps", "-a", "--no-trunc", "--format", format}).out;
    EXPECT_EQ(lines(want).size(), 3u) << want;
    EXPECT_EQ(run_ok({"container", "ls", "-a", "--no-trunc", "--format", format}).out, want);
    EXPECT_EQ(run_ok({"container", "list", "-a", "--no-trunc", "--format", format}).out, want);
}

TEST_F(ContainerCliTest, PsQuietNoTruncFiltersAndFormats) {
    Container a = make("alpha");
    Container b = make_dead("beta");
    EXPECT_EQ(run_ok({"ps", "-aq"}).out, b.short_id() + "\n" + a.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-a", "-q", "--no-trunc"}).out, b.id + "\n" + a.id + "\n");
    EXPECT_EQ(run_ok({"ps", "-q", "-f", "status=exited"}).out, b.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-q", "-f", "status=created"}).out, a.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "name=alp"}).out, a.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "id=" + b.id.substr(0, 5)}).out, b.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "name=alpha", "-f", "name=beta"}).out,
              b.short_id() + "\n" + a.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "name=alpha", "-f", "status=exited"}).out, "");
    // Every label= must match, as Docker's MatchKVList (they were alternatives).
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "label=team=store", "-f", "Name=alpha"}).out,
              a.short_id() + "\n");
    EXPECT_EQ(run_ok({"ps", "-aq", "-f", "label=team=store", "-f", "label=team=web"}).out, "");
    EXPECT_EQ(run_ok({"ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}"}).out,
              "beta exited Exited (unknown)\nalpha created Created\n");
    EXPECT_EQ(run_ok({"ps", "-a", "--format", "table {{.Names}}\\t{{.State}}"}).out,
              "NAMES     STATE\nbeta      exited\nalpha     created\n");
    auto r = run_ok({"ps", "-a", "--no-trunc", "--format", "json"});
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u) << r.out;
    auto j = nlohmann::json::parse(out[1]);
    EXPECT_EQ(j["ID"], a.id);
    EXPECT_EQ(j["Names"], "alpha");
    EXPECT_EQ(j["Command"], "\"sh -c 'echo hello world and more'\"");
    EXPECT_EQ(j["State"], "created");
    EXPECT_EQ(j["Labels"], "team=store");
    EXPECT_EQ(j["Mounts"], "cache");
    run_fail({"ps", "-f", "colour=red"}, "invalid filter 'colour'");
    run_fail({"ps", "-f", "status=sleeping"}, "invalid filter 'status=sleeping'");
}

TEST_F(ContainerCliTest, RenameAsDocker) {
    const Container c = make("before");
    make("taken");
    EXPECT_EQ(run_ok({"rename", "before", "after"}).out, "");
    EXPECT_EQ(run_ok({"ps", "-a", "--format", "{{.Names}}", "--filter", "id=" + c.id}).out,
              "after\n");
    run_fail({"container", "rename", "after", "taken"}, "The container name \"/taken\" is already");
    run_fail({"rename", "nosuch", "x1"}, "No such container: nosuch");
    run_fail({"top", "after"}, "Container " + c.id + " is not running");
}

TEST_F(ContainerCliTest, RmRemovesStoppedAndRefusesRunning) {
    Container stopped = make("stopped");
    Container running = make_running("running1");
    auto r = run_ok({"rm", "stopped"});
    EXPECT_EQ(r.out, "stopped\n");
    EXPECT_FALSE(fs::exists(stopped.dir));
    EXPECT_FALSE(store().find("stopped"));

    r = run_fail({"rm", running.short_id()},
                 "You cannot remove a running container " + running.id +
                     ". Stop the container before attempting removal or force remove");
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(fs::exists(running.dir));
    EXPECT_TRUE(containers::process_alive(running.state.pid, running.state.pid_start));

    r = run_fail({"rm", "nothere", "running1"}, "No such container: nothere");
    EXPECT_EQ(r.code, 1);

    // -f: SIGKILL to the init, then remove.
    r = run_ok({"rm", "-f", "running1"});
    EXPECT_EQ(r.out, "running1\n");
    EXPECT_FALSE(fs::exists(running.dir));
    int status = 0;
    ASSERT_EQ(::waitpid(running.state.pid, &status, 0), running.state.pid);
    children_.clear();
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    // The name is free again.
    make("running1");
}

TEST_F(ContainerCliTest, RmOfADeadRunningRecordNeedsNoForce) {
    Container dead = make_dead("ghost");
    EXPECT_EQ(run_ok({"rm", "ghost"}).out, "ghost\n");
    EXPECT_FALSE(fs::exists(dead.dir));
}

TEST_F(ContainerCliTest, RmVolumesRemovesOnlyAnonymousVolumes) {
    containers::VolumeStore volumes(root_);
    auto anon = volumes.create("", {}, true);
    volumes.create("named");
    ContainerSpec s = spec();
    s.mounts.clear();
    containers::MountSpec m;
    m.type = containers::MountSpec::Type::kVolume;
    m.source = anon.name;
    m.target = "/anon";
    m.anonymous = true;
    s.mounts.push_back(m);
    m.source = "named";
    m.target = "/named";
    m.anonymous = false;
    s.mounts.push_back(m);
    store().create(s, "withvols");
    store().create(s, "keepvols");
    // Without -v the volumes stay.
    EXPECT_EQ(run_ok({"rm", "keepvols"}).out, "keepvols\n");
    EXPECT_TRUE(volumes.find(anon.name));
    EXPECT_EQ(run_ok({"rm", "-v", "withvols"}).out, "withvols\n");
    EXPECT_FALSE(volumes.find(anon.name));
    EXPECT_TRUE(volumes.find("named"));
}

TEST_F(ContainerCliTest, ContainerRmAndRemoveAlias) {
    make("one1");
    make("two2");
    EXPECT_EQ(run_ok({"container", "rm", "one1"}).out, "one1\n");
    EXPECT_EQ(run_ok({"container", "remove", "two2"}).out, "two2\n");
    EXPECT_TRUE(store().list().empty());
}

TEST_F(ContainerCliTest, InspectShowsDockersContainerShape) {
    Container c = make_dead("inspected");
    auto r = run_ok({"inspect", "inspected"});
    auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 1u);
    auto& x = j[0];
    EXPECT_EQ(x["Id"], c.id);
    EXPECT_EQ(x["Created"], c.created);
    EXPECT_EQ(x["Path"], "sh");
    EXPECT_EQ(x["Args"], nlohmann::json({"-c", "echo hello world and more"}));
    EXPECT_EQ(x["State"]["Status"], "exited");
    EXPECT_EQ(x["State"]["Running"], false);
    EXPECT_EQ(x["State"]["Pid"], 0);
    EXPECT_EQ(x["State"]["ExitCode"], 255);
    EXPECT_EQ(x["State"]["StartedAt"], "2026-01-01T00:00:00Z");
    EXPECT_EQ(x["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    for (const char* k : {"Paused", "Restarting", "OOMKilled", "Dead", "Error"})
        EXPECT_TRUE(x["State"].contains(k)) << k;
    EXPECT_EQ(x["Image"], id_);
    EXPECT_EQ(x["Name"], "/inspected");
    auto& h = x["HostConfig"];
    EXPECT_EQ(h["Binds"], nlohmann::json({"/srv/data:/data:ro", "cache:/cache"}));
    EXPECT_EQ(h["Privileged"], false);
    EXPECT_EQ(h["ReadonlyRootfs"], false);
    EXPECT_EQ(h["NetworkMode"], "default");
    EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostIp"], "127.0.0.1");
    EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
    EXPECT_EQ(h["CapAdd"], nlohmann::json({"NET_ADMIN"}));
    EXPECT_TRUE(h["CapDrop"].is_null());
    EXPECT_EQ(h["Memory"], 64 << 20);
    EXPECT_EQ(h["NanoCpus"], 1500000000);
    EXPECT_EQ(h["PidsLimit"], 100);
    EXPECT_EQ(h["AutoRemove"], false);
    EXPECT_EQ(h["SecurityOpt"], nlohmann::json({"no-new-privileges"}));
    ASSERT_EQ(x["Mounts"].size(), 2u);
    EXPECT_EQ(x["Mounts"][0]["Type"], "bind");
    EXPECT_EQ(x["Mounts"][0]["Source"], "/srv/data");
    EXPECT_EQ(x["Mounts"][0]["Destination"], "/data");
    EXPECT_EQ(x["Mounts"][0]["RW"], false);
    EXPECT_EQ(x["Mounts"][0]["Mode"], "ro");
    EXPECT_EQ(x["Mounts"][1]["Type"], "volume");
    EXPECT_EQ(x["Mounts"][1]["Name"], "cache");
    EXPECT_EQ(x["Mounts"][1]["Driver"], "local");
    EXPECT_EQ(x["Mounts"][1]["Source"], (root_ / "volumes" / "cache" / "_data").string());
    auto& cfg = x["Config"];
    EXPECT_EQ(cfg["Hostname"], c.id.substr(0, 12));
    EXPECT_EQ(cfg["Image"], "busybox:latest");
    EXPECT_EQ(cfg["Cmd"], nlohmann::json({"sh"}));
    EXPECT_EQ(cfg["Env"], nlohmann::json({"PATH=/usr/bin:/bin"}));
    EXPECT_EQ(cfg["Labels"]["team"], "store");
    EXPECT_EQ(cfg["Tty"], true);
    EXPECT_EQ(cfg["OpenStdin"], false);
    for (const char* k : {"User", "Entrypoint", "WorkingDir", "Volumes"})
        EXPECT_TRUE(cfg.contains(k)) << k;

    EXPECT_EQ(run_ok({"inspect", "-f", "{{.State.Status}}", c.short_id()}).out, "exited\n");
    EXPECT_EQ(
        run_ok({"container", "inspect", "-f", "{{.Name}} {{.State.Running}}", "inspected"}).out,
        "/inspected false\n");
    EXPECT_EQ(run_ok({"inspect", "--type", "container", "-f", "{{.Id}}", "inspected"}).out,
              c.id + "\n");
}

TEST_F(ContainerCliTest, InspectFallsBackToImagesAndNamesTheMiss) {
    make("box");
    // An image still answers; a container and an image side by side.
    auto r = run_ok({"inspect", "-f", "{{.Id}}", "busybox", "box"});
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], id_);
    EXPECT_EQ(out[1].size(), 64u);
    run_fail({"inspect", "nothing"}, "No such object: nothing");
    run_fail({"inspect", "--type", "container", "busybox"}, "No such container: busybox");
    run_fail({"inspect", "--type", "image", "box"}, "No such image: box");
    run_fail({"container", "inspect", "busybox"}, "No such container: busybox");
}

TEST_F(ContainerCliTest, ContainerPruneRemovesAllButRunning) {
    Container a = make("old1");
    Container b = make_dead("old2");
    Container run = make_running("live");
    std::ofstream(a.upper() / "file") << std::string(1000, 'x');
    auto r = run_ok({"container", "prune", "-f"});
    EXPECT_NE(r.out.find("Deleted Containers:\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(a.id + "\n"), std::string::npos);
    EXPECT_NE(r.out.find(b.id + "\n"), std::string::npos);
    EXPECT_EQ(r.out.find(run.id), std::string::npos);
    EXPECT_NE(r.out.find("Total reclaimed space: 1kB\n"), std::string::npos) << r.out;
    ASSERT_EQ(store().list().size(), 1u);
    EXPECT_EQ(store().list()[0].id, run.id);
    // Without -f it asks, and "n" keeps everything.
    make("kept");
    r = run_ok({"container", "prune"}, "n\n");
    EXPECT_NE(r.out.find("Are you sure you want to continue? [y/N]"), std::string::npos);
    EXPECT_EQ(store().list().size(), 2u);
    r = run_ok({"container", "prune"}, "y\n");
    EXPECT_EQ(store().list().size(), 1u);
    EXPECT_EQ(run_ok({"container", "prune", "-f"}).out, "Total reclaimed space: 0B\n");
}

}  // namespace
}  // namespace strata::imagetest
