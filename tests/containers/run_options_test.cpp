#include "containers/run_options.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/error.hpp"
#include "base/temp_dir.hpp"

namespace strata::containers {
namespace {

using Strings = std::vector<std::string>;

EnvLookup fake_env(std::map<std::string, std::string> vars) {
    return [vars](const std::string& k) -> std::optional<std::string> {
        auto it = vars.find(k);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

store::ImageConfig image(std::optional<Strings> entrypoint, std::optional<Strings> cmd) {
    store::ImageConfig i;
    i.config.entrypoint = std::move(entrypoint);
    i.config.cmd = std::move(cmd);
    i.config.env = {"PATH=/bin", "A=image", "B=image"};
    i.config.working_dir = "/srv";
    return i;
}

TEST(RunOptions, CommandReplacesCmdAndKeepsEntrypoint) {
    RunFlags f;
    f.command = {"echo", "hi"};
    const auto s = make_container_spec(f, image(Strings{"/entry"}, Strings{"sh"}), fake_env({}));
    EXPECT_EQ(s.argv, (Strings{"/entry", "echo", "hi"}));
    EXPECT_EQ(s.config.cmd, (Strings{"echo", "hi"}));
}

TEST(RunOptions, EntrypointFlagClearsTheImageCmd) {
    RunFlags f;
    f.entrypoint = "/bin/true";
    auto s = make_container_spec(f, image(Strings{"/entry"}, Strings{"sh"}), fake_env({}));
    EXPECT_EQ(s.argv, (Strings{"/bin/true"}));
    EXPECT_FALSE(s.config.cmd.has_value());
    // --entrypoint "" resets it: the command alone runs.
    f.entrypoint = "";
    f.command = {"ls"};
    s = make_container_spec(f, image(Strings{"/entry"}, Strings{"sh"}), fake_env({}));
    EXPECT_EQ(s.argv, (Strings{"ls"}));
}

TEST(RunOptions, NoCommandIsAnError) {
    RunFlags f;
    try {
        make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "No command specified");
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    }
}

TEST(RunOptions, EnvFilesThenFlagsOverTheImage) {
    TempDir dir = TempDir::create(std::filesystem::temp_directory_path(), "run-options-");
    const auto file = dir.path() / "env";
    std::ofstream(file) << "# comment\n\n  B=file value \nFROM_HOST\nUNSET_IN_FILE\nC=file\n";
    RunFlags f;
    f.command = {"env"};
    f.env_files = {file.string()};
    f.env = {"C=flag", "HOSTVAR", "A", "NEW=1"};
    const auto s = make_container_spec(f, image(std::nullopt, std::nullopt),
                                       fake_env({{"FROM_HOST", "h"}, {"HOSTVAR", "hv"}}));
    // A bare -e A that is unset removes the image's A (the daemon's rule);
    // an unset bare name in the file is dropped.
    EXPECT_EQ(s.config.env, (Strings{"PATH=/bin", "B=file value ", "FROM_HOST=h", "C=flag",
                                     "HOSTVAR=hv", "NEW=1"}));
}

TEST(RunOptions, EnvFileErrorsInDockersWords) {
    TempDir dir = TempDir::create(std::filesystem::temp_directory_path(), "run-options-");
    const auto file = dir.path() / "env";
    std::ofstream(file) << "BAD NAME=1\n";
    EXPECT_THROW(read_env_file(file.string(), fake_env({})), Error);
    std::ofstream(file) << "=1\n";
    try {
        read_env_file(file.string(), fake_env({}));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "no variable name on line '=1'");
    }
}

TEST(RunOptions, ProcessEnvHasDockersDefaults) {
    ContainerSpec s;
    s.hostname = "abc";
    s.config.env = {"FOO=1"};
    EXPECT_EQ(process_env(s),
              (Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOSTNAME=abc", "FOO=1"}));
    s.tty = true;
    s.config.env = {"PATH=/x", "HOSTNAME=mine"};
    EXPECT_EQ(process_env(s), (Strings{"PATH=/x", "HOSTNAME=mine", "TERM=xterm"}));
}

TEST(RunOptions, WorkdirUserStopSignal) {
    RunFlags f;
    f.command = {"pwd"};
    f.workdir = "/tmp";
    f.user = "1000:1000";
    f.stop_signal = "SIGUSR1";
    auto s = make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
    EXPECT_EQ(s.config.working_dir, "/tmp");
    EXPECT_EQ(s.config.user, "1000:1000");
    EXPECT_EQ(s.config.stop_signal, "SIGUSR1");
    f.workdir = "rel";
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
    f.workdir.reset();
    f.stop_signal = "NOPE";
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
}

TEST(RunOptions, Capabilities) {
    EXPECT_EQ(normalize_capability("chown"), "CAP_CHOWN");
    EXPECT_EQ(normalize_capability("Cap_Net_Admin"), "CAP_NET_ADMIN");
    EXPECT_EQ(normalize_capability("all"), "ALL");
    EXPECT_THROW(normalize_capability("nope"), Error);

    ContainerSpec s;
    EXPECT_EQ(effective_capabilities(s).size(), 14u);
    s.cap_drop = {"ALL"};
    EXPECT_TRUE(effective_capabilities(s).empty());
    s.cap_add = {"CAP_NET_ADMIN"};
    EXPECT_EQ(effective_capabilities(s), (Strings{"CAP_NET_ADMIN"}));
    s.cap_drop = {"CAP_CHOWN"};
    auto caps = effective_capabilities(s);
    EXPECT_EQ(caps.size(), 14u);
    EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_CHOWN"), 0);
    s.cap_add = {"ALL"};
    s.cap_drop = {"CAP_SYS_ADMIN"};
    caps = effective_capabilities(s);
    EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), 0);
    EXPECT_GT(caps.size(), 30u);
    s = {};
    s.privileged = true;
    s.cap_drop = {"ALL"};
    EXPECT_GT(effective_capabilities(s).size(), 30u);
}

TEST(RunOptions, Publish) {
    auto m = parse_publish("8080:80");
    EXPECT_EQ(m.host_port, 8080);
    EXPECT_EQ(m.container_port, 80);
    EXPECT_EQ(pasta_port_args(m), (Strings{"-t", "8080-8080:80-80"}));
    m = parse_publish("127.0.0.1:5353:53/udp");
    EXPECT_EQ(pasta_port_args(m), (Strings{"-u", "127.0.0.1/5353-5353:53-53"}));
    m = parse_publish("8000-8001:9000-9001");
    EXPECT_EQ(pasta_port_args(m), (Strings{"-t", "8000-8001:9000-9001"}));
    m = parse_publish("[::1]:8080:80");
    EXPECT_EQ(pasta_port_args(m), (Strings{"-t", "::1/8080-8080:80-80"}));
    m = parse_publish("80");
    EXPECT_EQ(m.host_port, 0);
    // format_publish reads back as itself; port_bindings lists a range port by port.
    for (const char* spec : {"8080:80/tcp", "127.0.0.1:5353:53/udp", "8000-8001:9000-9001/tcp",
                             "[::1]:8080:80/tcp", "80/tcp", "127.0.0.1::80/tcp"})
        EXPECT_EQ(format_publish(parse_publish(spec)), spec);
    const auto b = port_bindings(parse_publish("127.0.0.1:8000-8001:9000-9001"));
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[1].container_port, "9001/tcp");
    EXPECT_EQ(b[1].host_ip, "127.0.0.1");
    EXPECT_EQ(b[1].host_port, 8001);
    EXPECT_EQ(port_bindings(parse_publish("80"))[0].host_port, 0);
    EXPECT_THROW(parse_publish("x:80"), Error);
    EXPECT_THROW(parse_publish("80/sctp"), Error);
    EXPECT_THROW(parse_publish("1:2:3:4"), Error);
}

TEST(RunOptions, NetworkAndPublishRules) {
    RunFlags f;
    f.command = {"true"};
    f.network = "bridge";
    EXPECT_EQ(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})).network,
              "default");
    f.network = "host";
    f.publish = {"8080:80"};
    try {
        make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not needed with --network host"), std::string::npos);
    }
    f.network = "mynet";
    f.publish.clear();
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
    f.network = "default";
    f.publish = {"8080:80"};
    const auto s = make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
    EXPECT_EQ(s.config.exposed_ports.count("80/tcp"), 1u);
}

TEST(RunOptions, SecurityOptsAndLimits) {
    TempDir dir = TempDir::create(std::filesystem::temp_directory_path(), "run-options-");
    std::ofstream(dir.path() / "profile.json") << R"({"defaultAction":"SCMP_ACT_ALLOW"})";
    RunFlags f;
    f.command = {"true"};
    f.security_opt = {"no-new-privileges", "seccomp=unconfined"};
    f.memory = "64m";
    f.cpus = 0.5;
    f.pids_limit = 100;
    auto s = make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
    EXPECT_TRUE(s.no_new_privileges);
    EXPECT_EQ(s.seccomp, "unconfined");
    EXPECT_EQ(s.memory_bytes, 64u * 1024 * 1024);
    EXPECT_EQ(s.cpus, 0.5);
    EXPECT_EQ(s.pids_limit, 100);
    f.security_opt = {"no-new-privileges:true",
                      "seccomp=" + (dir.path() / "profile.json").string()};
    s = make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({}));
    EXPECT_TRUE(s.no_new_privileges);
    EXPECT_EQ(s.seccomp, R"({"defaultAction":"SCMP_ACT_ALLOW"})");
    f.security_opt = {"bogus"};
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
    f.security_opt = {"seccomp=/no/such/file"};
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
    f.security_opt.clear();
    f.memory = "1k";
    EXPECT_THROW(make_container_spec(f, image(std::nullopt, std::nullopt), fake_env({})), Error);
}

}  // namespace
}  // namespace strata::containers
