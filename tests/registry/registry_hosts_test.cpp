// RegistryHosts: Docker's insecure-registry rules, mirrors, certs.d layout
// and daemon.json errors, with temp directories and a fake resolver (no DNS).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "registry/registry_hosts.hpp"

namespace strata::registry {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

class Hosts : public ::testing::Test {
  protected:
    // Names resolve only through this table; everything else does not resolve.
    HostsOptions options(std::vector<std::string> insecure = {}) {
        HostsOptions o;
        o.insecure_registries = std::move(insecure);
        o.daemon_json = (dir_.path() / "daemon.json").string();
        o.certs_d = (dir_.path() / "certs.d").string();
        o.resolve = [this](const std::string& host) {
            auto it = dns_.find(host);
            return it == dns_.end() ? std::vector<std::string>{} : it->second;
        };
        return o;
    }
    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "strata-hosts-test-");
    std::map<std::string, std::vector<std::string>> dns_ = {
        {"localhost", {"127.0.0.1", "::1"}},
        {"lab.example", {"10.1.2.3"}},
        {"public.example", {"93.184.216.34"}},
        {"v6.example", {"fd00::5"}},
    };
};

TEST_F(Hosts, InsecureRules) {
    RegistryHosts hosts(options(
        {"10.0.0.0/8", "myreg:5000", "https://tls.example:443", "fd00::/8", "plain.example"}));
    struct Row {
        const char* host;
        bool secure;
    } rows[] = {
        {"localhost", false},       // resolves to 127.0.0.1
        {"localhost:5000", false},  // the port does not matter for a CIDR
        {"127.0.0.1:5000", false},
        {"127.9.9.9", false},
        {"[::1]:5000", false},
        {"::1", false},
        {"lab.example:5000", false},  // 10.1.2.3 is in 10.0.0.0/8
        {"10.200.0.1", false},
        {"v6.example", false},
        {"myreg:5000", false},  // listed with its port
        {"myreg", true},        // … not without it (Docker matches the name exactly)
        {"myreg:5001", true},
        {"tls.example:443", false},  // https:// prefix dropped
        {"plain.example", false},
        {"public.example", true},
        {"unresolvable.example", true},
        {"192.168.1.1", true},
        {"docker.io", true},
        {"quay.io", true},
    };
    for (const auto& r : rows)
        EXPECT_EQ(hosts.is_secure(r.host), r.secure) << r.host;
    ASSERT_EQ(hosts.warnings().size(), 1u);
    EXPECT_NE(hosts.warnings()[0].find("https://"), std::string::npos);
}

TEST_F(Hosts, NoDefaultsWhenCleared) {
    auto o = options();
    o.default_insecure_cidrs.clear();
    RegistryHosts hosts(o);
    EXPECT_TRUE(hosts.is_secure("127.0.0.1:5000"));
    EXPECT_TRUE(hosts.is_secure("localhost"));
}

TEST_F(Hosts, InsecureEndpointsTryHttpsUnverifiedThenHttp) {
    RegistryHosts hosts(options());
    auto e = hosts.push_endpoint("127.0.0.1:5000");
    EXPECT_EQ(e.domain, "127.0.0.1:5000");
    EXPECT_EQ(e.host, "127.0.0.1:5000");
    EXPECT_FALSE(e.plain_http);
    EXPECT_TRUE(e.skip_tls_verify);
    EXPECT_TRUE(e.http_fallback);
    EXPECT_FALSE(e.mirror);
    EXPECT_EQ(e.base_url(), "https://127.0.0.1:5000");

    auto s = hosts.push_endpoint("quay.io");
    EXPECT_FALSE(s.skip_tls_verify);
    EXPECT_FALSE(s.http_fallback);
    EXPECT_FALSE(s.plain_http);
}

TEST_F(Hosts, DaemonJsonAndFlagsAreMerged) {
    write(
        dir_.path() / "daemon.json",
        R"({"insecure-registries": ["lab.example:5000"], "debug": true, "registry-mirrors": []})");
    RegistryHosts hosts(options({"other.example"}));
    EXPECT_FALSE(hosts.is_secure("lab.example:5000"));
    EXPECT_FALSE(hosts.is_secure("other.example"));
    EXPECT_TRUE(hosts.is_secure("public.example"));
}

TEST_F(Hosts, MirrorsOnlyForDockerHubPulls) {
    write(dir_.path() / "daemon.json", R"({
        "registry-mirrors": ["https://mirror.example", "http://10.0.0.5:5000/prefix/",
                             "https://mirror.example/"]
    })");
    RegistryHosts hosts(options());
    EXPECT_EQ(hosts.mirrors(), (std::vector<std::string>{"https://mirror.example/",
                                                         "http://10.0.0.5:5000/prefix/"}));

    for (const char* domain : {"docker.io", "index.docker.io"}) {
        auto eps = hosts.pull_endpoints(domain);
        ASSERT_EQ(eps.size(), 3u) << domain;
        EXPECT_TRUE(eps[0].mirror);
        EXPECT_EQ(eps[0].base_url(), "https://mirror.example");
        EXPECT_EQ(eps[0].domain, "docker.io");
        EXPECT_TRUE(eps[1].mirror);
        EXPECT_TRUE(eps[1].plain_http);
        EXPECT_EQ(eps[1].path_prefix, "/prefix");
        EXPECT_EQ(eps[1].base_url(), "http://10.0.0.5:5000/prefix");
        EXPECT_FALSE(eps[2].mirror);
        EXPECT_EQ(eps[2].host, "registry-1.docker.io");
        EXPECT_EQ(eps[2].base_url(), "https://registry-1.docker.io");
        EXPECT_EQ(eps[2].domain, "docker.io");
    }
    auto push = hosts.push_endpoint("docker.io");
    EXPECT_FALSE(push.mirror);
    EXPECT_EQ(push.host, "registry-1.docker.io");

    auto other = hosts.pull_endpoints("quay.io");
    ASSERT_EQ(other.size(), 1u);
    EXPECT_EQ(other[0].base_url(), "https://quay.io");
    EXPECT_EQ(hosts.pull_endpoints("localhost:5000").size(), 1u);
}

TEST_F(Hosts, DockerHubIsAlwaysSecure) {
    RegistryHosts hosts(options({"docker.io"}));
    auto e = hosts.push_endpoint("docker.io");
    EXPECT_FALSE(e.skip_tls_verify);
    EXPECT_FALSE(e.http_fallback);
}

TEST_F(Hosts, CertsDirLayout) {
    const auto d = dir_.path() / "certs.d";
    write(d / "reg.example:5000" / "ca.crt", "x");
    write(d / "reg.example:5000" / "b-extra.crt", "x");
    write(d / "reg.example:5000" / "client.cert", "x");
    write(d / "reg.example:5000" / "client.key", "x");
    write(d / "reg.example:5000" / "README", "x");
    RegistryHosts hosts(options());
    auto e = hosts.push_endpoint("reg.example:5000");
    const auto base = (d / "reg.example:5000").string() + "/";
    EXPECT_EQ(e.tls.ca_files, (std::vector<std::string>{base + "b-extra.crt", base + "ca.crt"}));
    ASSERT_EQ(e.tls.client_pairs.size(), 1u);
    EXPECT_EQ(e.tls.client_pairs[0].cert, base + "client.cert");
    EXPECT_EQ(e.tls.client_pairs[0].key, base + "client.key");

    // Another port is another directory; a missing one is no files.
    EXPECT_TRUE(hosts.push_endpoint("reg.example").tls.ca_files.empty());
}

TEST_F(Hosts, CertsDirCertWithoutKeyIsAnError) {
    const auto d = dir_.path() / "certs.d" / "reg.example";
    write(d / "client.cert", "x");
    RegistryHosts hosts(options());
    try {
        hosts.push_endpoint("reg.example");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        const std::string msg = e.what();
        EXPECT_NE(msg.find("missing key client.key for client certificate client.cert"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find(d.string()), std::string::npos) << msg;
    }
    fs::remove(d / "client.cert");
    write(d / "lonely.key", "x");
    EXPECT_THROW(hosts.push_endpoint("reg.example"), Error);
}

TEST_F(Hosts, CertsDirNotReadForInsecureHostsNorDockerHub) {
    // As Docker: an insecure host skips verification (no CAs, no client
    // pairs); Docker Hub uses the system CAs only.
    write(dir_.path() / "certs.d" / "127.0.0.1:5000" / "ca.crt", "x");
    write(dir_.path() / "certs.d" / "docker.io" / "ca.crt", "x");
    write(dir_.path() / "certs.d" / "index.docker.io" / "ca.crt", "x");
    write(dir_.path() / "certs.d" / "registry-1.docker.io" / "ca.crt", "x");
    RegistryHosts hosts(options());
    EXPECT_TRUE(hosts.push_endpoint("127.0.0.1:5000").tls.ca_files.empty());
    EXPECT_TRUE(hosts.push_endpoint("docker.io").tls.ca_files.empty());
}

TEST_F(Hosts, MirrorCertsDirIsTheMirrorHosts) {
    write(dir_.path() / "daemon.json", R"({"registry-mirrors": ["https://mirror.example:8443"]})");
    write(dir_.path() / "certs.d" / "mirror.example:8443" / "ca.crt", "x");
    RegistryHosts hosts(options());
    auto eps = hosts.pull_endpoints("docker.io");
    ASSERT_EQ(eps.size(), 2u);
    ASSERT_EQ(eps[0].tls.ca_files.size(), 1u);
    EXPECT_TRUE(eps[0].tls.ca_files[0].ends_with("mirror.example:8443/ca.crt"));
}

TEST_F(Hosts, MissingFilesAreNoConfiguration) {
    auto o = options();
    o.daemon_json = (dir_.path() / "nope" / "daemon.json").string();
    o.certs_d = (dir_.path() / "nope").string();
    RegistryHosts hosts(o);
    EXPECT_TRUE(hosts.mirrors().empty());
    EXPECT_TRUE(hosts.push_endpoint("quay.io").tls.ca_files.empty());
    write(dir_.path() / "daemon.json", "  \n");  // empty file, as Docker allows
    EXPECT_NO_THROW(RegistryHosts{options()});
}

TEST_F(Hosts, MalformedDaemonJsonNamesFileAndProblem) {
    struct Row {
        const char* text;
        const char* needle;
    } rows[] = {
        {R"({"insecure-registries": ["a",)", "not valid JSON"},
        {R"(["a"])", "must hold a JSON object"},
        {R"({"insecure-registries": "a:5000"})",
         "\"insecure-registries\" must be a list of strings"},
        {R"({"insecure-registries": [5000]})", "must be a list of strings, found 5000"},
        {R"({"registry-mirrors": {"a": 1}})", "\"registry-mirrors\" must be a list of strings"},
        {R"({"registry-mirrors": ["mirror.example"]})", "http:// or https:// URL"},
        {R"({"registry-mirrors": ["ftp://mirror.example"]})", "http:// or https:// URL"},
        {R"({"registry-mirrors": ["https://u:p@mirror.example"]})", "user name or password"},
        {R"({"registry-mirrors": ["https://mirror.example/?x=1"]})", "query or fragment"},
        {R"({"insecure-registries": ["ftp://x"]})", "should not contain '://'"},
        {R"({"insecure-registries": ["-bad"]})", "hyphen"},
        {R"({"insecure-registries": ["host:99999"]})", "invalid port"},
        {R"({"insecure-registries": ["bad host"]})", "invalid host"},
        {R"({"insecure-registries": ["10.0.0.0/33"]})", "neither a CIDR"},
        {R"({"insecure-registries": ["https://host:5000/"]})", "neither a CIDR"},
    };
    const auto file = (dir_.path() / "daemon.json").string();
    for (const auto& r : rows) {
        write(file, r.text);
        try {
            RegistryHosts hosts(options());
            ADD_FAILURE() << "no error for " << r.text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage) << r.text;
            const std::string msg = e.what();
            EXPECT_NE(msg.find(file), std::string::npos) << msg;
            EXPECT_NE(msg.find(r.needle), std::string::npos) << msg;
        }
    }
}

TEST_F(Hosts, BadFlagNamesTheFlag) {
    try {
        RegistryHosts hosts(options({"a b"}));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_NE(std::string(e.what()).find("--insecure-registry: insecure registry \"a b\""),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(Hosts, CanonicalDomain) {
    EXPECT_EQ(canonical_domain("index.docker.io"), "docker.io");
    EXPECT_EQ(canonical_domain("docker.io"), "docker.io");
    EXPECT_EQ(canonical_domain("registry-1.docker.io"), "registry-1.docker.io");
    EXPECT_EQ(canonical_domain("localhost:5000"), "localhost:5000");
}

}  // namespace
}  // namespace strata::registry
