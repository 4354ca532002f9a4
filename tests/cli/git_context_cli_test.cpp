// Git contexts for real: a repository served by `git daemon` on 127.0.0.1,
// built from as the build context (#ref:subdir, the query form, a tag, a
// commit, the default branch) and as a named context; the Dockerfile read
// inside the checkout, no .dockerignore applied and no .git kept (as in
// BuildKit) unless asked for; a missing ref or subdir and a subdir outside
// the repository refused in BuildKit's words.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "cli/image_cli_fixture.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

namespace d = strata::test::registry_fixture_detail;

class GitContextCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        if (!fs::exists("/usr/bin/git") || !fs::exists("/usr/lib/git-core/git-daemon"))
            GTEST_SKIP() << "git and git-daemon are not installed (/usr/bin/git, "
                            "/usr/lib/git-core/git-daemon)";
        repos_ = dir_.path() / "repos";
        work_ = dir_.path() / "work";
        const fs::path& work = work_;
        fs::create_directories(work / "app");
        git(work, {"init", "-q", "-b", "main"});
        write_file(work / "app/Dockerfile", "FROM busybox\nCOPY . /src/\n");
        write_file(work / "app/version", "1\n");
        write_file(work / "app/ignored", "in the repository\n");
        write_file(work / "app/.dockerignore", "ignored\n");
        write_file(work / "Dockerfile", "FROM busybox\nCOPY app/version /root-version\n");
        fs::create_symlink("/", work / "up");  // a subdir through it stays in the checkout
        git(work, {"add", "-A"});
        git(work, {"commit", "-q", "-m", "one"});
        git(work, {"tag", "-a", "v1", "-m", "v1"});
        first_ = trimmed(git(work, {"rev-parse", "HEAD"}));
        write_file(work / "app/version", "2\n");
        git(work, {"commit", "-q", "-am", "two"});
        git(work, {"checkout", "-q", "-b", "other"});
        write_file(work / "app/version", "other\n");
        git(work, {"commit", "-q", "-am", "other"});
        git(work, {"checkout", "-q", "main"});
        fs::create_directories(repos_);
        git(dir_.path(), {"clone", "-q", "--bare", work.string(), (repos_ / "repo.git").string()});

        for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
            const int port = d::pick_free_port();
            daemon_ = d::ChildProcess::spawn(
                {"/usr/lib/git-core/git-daemon", "--reuseaddr", "--export-all",
                 "--base-path=" + repos_.string(), "--listen=127.0.0.1",
                 "--port=" + std::to_string(port), repos_.string()},
                dir_.path() / "daemon.out", dir_.path() / "daemon.err");
            for (int i = 0; i < 100; ++i) {
                if (!daemon_.running()) break;
                auto r = run({"/usr/bin/git", "ls-remote", url(port)});
                if (r.code == 0) {
                    port_ = port;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        ASSERT_NE(port_, 0) << "git daemon did not start: "
                            << read_file(dir_.path() / "daemon.err");
    }

    std::string url(int port = 0) const {
        return "git://127.0.0.1:" + std::to_string(port ? port : port_) + "/repo.git";
    }
    static std::string trimmed(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
            s.pop_back();
        return s;
    }
    std::string git(const fs::path& cwd, std::vector<std::string> args) {
        std::string command = "cd '" + cwd.string() + "' && git -c user.name=t -c user.email=t@t";
        for (const auto& a : args)
            command += " '" + a + "'";
        auto r = run({"/bin/sh", "-c", command});
        EXPECT_EQ(r.code, 0) << command << "\n" << r.err;
        return r.out;
    }
    RunResult build(std::vector<std::string> args) {
        args.insert(args.begin(), {"build", "--progress", "plain"});
        return strata(root_, std::move(args));
    }
    std::string cat(const std::string& image, const std::string& command) {
        return run_ok({"run", "--rm", "--network", "none", image, "sh", "-c", command}).out;
    }

    fs::path repos_, work_;
    d::ChildProcess daemon_;
    int port_ = 0;
    std::string first_;
};

TEST_F(GitContextCli, ARefAndASubdirectory) {
    auto r = build({"-t", "g1", url() + "#main:app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[internal] load git source " + url() + "#main:app"), std::string::npos)
        << r.err;
    EXPECT_EQ(cat("g1", "cat /src/version /src/ignored; ls -a /src"),
              "2\nin the repository\n.\n..\n.dockerignore\nDockerfile\nignored\nversion\n")
        << "no .dockerignore and no .git, as in BuildKit";

    r = build({"-t", "g2", url() + "#v1:app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("g2", "cat /src/version"), "1\n") << "an annotated tag";
    r = build({"-t", "g3", url() + "?branch=other&subdir=app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("g3", "cat /src/version"), "other\n");
    r = build({"-t", "g4", url() + "#" + first_ + ":app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("g4", "cat /src/version"), "1\n") << "a commit no ref names any more";
    r = build({"-t", "g5", url()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("g5", "cat /root-version"), "2\n") << "the default branch, the root Dockerfile";
    r = build({"-t", "g6", "-f", "app/Dockerfile", url()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("g6", "cat /src/app/version; test -e /src/.git || echo no .git"), "2\nno .git\n")
        << "-f inside the repository";
}

TEST_F(GitContextCli, KeepGitDirAndANamedContext) {
    auto r = build({"-t", "k", "-f", "app/Dockerfile", url() + "?ref=main&keep-git-dir=true"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("k", "test -f /src/.git/HEAD && echo kept"), "kept\n");
    write_file(dir_.path() / "ctx/Dockerfile",
               "FROM busybox\nCOPY --from=src version /v\nRUN --mount=from=src,target=/s cat "
               "/s/version > /mounted\n");
    r = build({"--build-context", "src=" + url() + "#other:app", "-t", "named",
               (dir_.path() / "ctx").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("named", "cat /v /mounted"), "other\nother\n");
}

// SOURCE_DATE_EPOCH=context: the commit's committer time, for the image's
// times and for RUN's variable (BuildKit's; a local context gives none).
TEST_F(GitContextCli, SourceDateEpochContextIsTheCommitTime) {
    const std::string when =
        trimmed(git(repos_ / "repo.git", {"log", "-1", "--format=%ct", "main"}));
    write_file(dir_.path() / "epoch/Dockerfile",
               "FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo $SOURCE_DATE_EPOCH > /epoch\n");
    auto r = build({"--build-arg", "SOURCE_DATE_EPOCH=context", "-t", "dated", "-f",
                    (dir_.path() / "epoch/Dockerfile").string(), url() + "#main"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("dated", "cat /epoch"), when + "\n");
    const auto config = nlohmann::json::parse(run_ok({"inspect", "dated"}).out)[0];
    char expected[32];
    const time_t t = std::stoll(when);
    std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    EXPECT_EQ(config["Created"].get<std::string>(), expected);
}

// ADD <git url> DEST: the checkout's files into DEST, keyed by the commit
// the ref resolves to (a new commit on the branch is a miss, the same one a
// hit), --keep-git-dir and --checksum as in BuildKit.
TEST_F(GitContextCli, AddAGitSource) {
    const fs::path ctx = dir_.path() / "addctx";
    write_file(ctx / "Dockerfile",
               "FROM busybox\n"
               "ADD " +
                   url() +
                   "#v1:app /tagged/\n"
                   "ADD --keep-git-dir=true " +
                   url() +
                   "#main /kept\n"
                   "ADD --checksum=" +
                   first_ + " " + url() + "#v1 /checked\n");
    auto r = build({"-t", "added", ctx.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("added",
                  "cat /tagged/version /kept/app/version /checked/app/version; "
                  "test -e /tagged/.git || echo no .git; test -f /kept/.git/HEAD && "
                  "echo kept; stat -c %u:%g /tagged/version"),
              "1\n2\n1\nno .git\nkept\n0:0\n");

    r = build({"-t", "added", ctx.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(0 steps run, 3 cached)"), std::string::npos) << r.err;
    // A new commit on main: the step that names main runs again.
    write_file(work_ / "app/version", "3\n");
    git(work_, {"commit", "-q", "-am", "three"});
    git(work_, {"push", "-q", (repos_ / "repo.git").string(), "main"});
    r = build({"-t", "added", ctx.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(2 steps run, 1 cached)"), std::string::npos) << r.err;
    EXPECT_EQ(cat("added", "cat /kept/app/version"), "3\n");

    write_file(ctx / "Dockerfile", "FROM busybox\nADD --checksum=0123abc " + url() + "#main /x\n");
    r = build({ctx.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("expected checksum to match 0123abc, got"), std::string::npos) << r.err;
    write_file(ctx / "Dockerfile", "FROM busybox\nCOPY " + url() + " /x\n");
    r = build({ctx.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("source can't be a Git URL for COPY"), std::string::npos) << r.err;
}

TEST_F(GitContextCli, RefusalsInBuildKitsWords) {
    const std::pair<std::string, std::string> rows[] = {
        {url() + "#nope", "repository does not contain ref nope"},
        {url() + "#main:missing", "failed to open subdir missing"},
        {url() + "#main:../..", "not within git root"},
        {url() + "#main:up/etc", "failed to open subdir up/etc"},
        {url() + "#main:app/version", "not a directory"},
        {"git://127.0.0.1:1/none.git", "error fetching default branch for repository"},
        {"file://" + (repos_ / "repo.git").string(), "not found"},
        {url() + "?depth=1", "unexpected query \"depth\""},
        {"http://user:s3cret@127.0.0.1:1/context.tar.gz",
         "load build context http://user:xxxxx@127.0.0.1:1/context.tar.gz: download failed"},
    };
    for (const auto& [context, message] : rows) {
        auto r = build({context});
        EXPECT_EQ(r.code, 1) << context;
        EXPECT_NE(r.err.find(message), std::string::npos) << context << ":\n" << r.err;
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << "a password in an error";
    }
    EXPECT_TRUE(tmp_is_empty(root_)) << "no checkout is left behind";
}

}  // namespace
}  // namespace strata::imagetest
