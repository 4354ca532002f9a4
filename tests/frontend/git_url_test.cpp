// Git URLs as BuildKit's ParseGitRef reads them: which strings are Git
// sources, the #ref:subdir fragment, the query form and its errors, and
// credentials kept out of what is shown. (Fetching: git_context_cli_test.)
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "frontend/git_url.hpp"

namespace strata::frontend {
namespace {

TEST(GitRef, WhichStringsAreGitSources) {
    struct Row {
        const char* text;
        const char* remote;  // nullptr: not a Git source
    };
    const Row rows[] = {
        {"https://github.com/moby/buildkit.git", "https://github.com/moby/buildkit.git"},
        {"http://example.com/foo.git#main", "http://example.com/foo.git"},
        {"HTTPS://example.com/foo.git", "HTTPS://example.com/foo.git"},
        {"git://example.com/foo", "git://example.com/foo"},
        {"ssh://git@example.com/foo", "ssh://git@example.com/foo"},
        {"git@github.com:moby/buildkit", "git@github.com:moby/buildkit"},
        {"github.com/moby/buildkit", "https://github.com/moby/buildkit"},
        {"https://example.com/foo", nullptr},
        {"https://example.com/foo.git/", nullptr},
        {"https://example.com/foo.git.bar", nullptr},
        {"https://example.com/archive.tar.gz", nullptr},
        {"file:///srv/repo.git", nullptr},
        {"ftp://example.com/foo.git", nullptr},
        {"./repo.git", nullptr},
        {"../repo.git", nullptr},
        {"repo", nullptr},
        {"-oProxyCommand=x@host:path", nullptr},
        {"user;x@host:path", nullptr},
        {"/abs/repo.git", nullptr},
    };
    for (const Row& r : rows) {
        const auto g = parse_git_ref(r.text);
        if (!r.remote) {
            EXPECT_FALSE(g) << r.text;
            continue;
        }
        ASSERT_TRUE(g) << r.text;
        EXPECT_EQ(g->remote, r.remote) << r.text;
    }
}

TEST(GitRef, AnAddOrCopySourceLikeAPathIsAPath) {
    EXPECT_TRUE(is_git_url("https://h/r.git"));
    EXPECT_TRUE(is_git_url("git@h:o/r"));
    EXPECT_TRUE(is_git_url("https://h/r.git?depth=1")) << "a Git URL, if a wrong one";
    EXPECT_FALSE(is_git_url("github.com/o/r")) << "a directory of a Go project, perhaps";
    EXPECT_FALSE(is_git_url("src/app"));
    EXPECT_FALSE(is_git_url("https://h/archive.tgz"));
    ASSERT_TRUE(parse_git_ref("github.com/o/r"));
    EXPECT_TRUE(parse_git_ref("github.com/o/r")->indistinguishable_from_local);
}

TEST(GitRef, FragmentAndQuery) {
    auto g = parse_git_ref("https://h/r.git#v1.2:docs/site");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->ref, "v1.2");
    EXPECT_EQ(g->subdir, "docs/site");
    EXPECT_TRUE(g->submodules);
    EXPECT_FALSE(g->keep_git_dir);

    g = parse_git_ref("https://h/r.git#:sub");
    EXPECT_EQ(g->ref, "");
    EXPECT_EQ(g->subdir, "sub");

    g = parse_git_ref("https://h/r.git?tag=v1&subdir=a%2Fb&keep-git-dir&submodules=false");
    EXPECT_EQ(g->remote, "https://h/r.git");
    EXPECT_EQ(g->ref, "refs/tags/v1");
    EXPECT_EQ(g->subdir, "a/b");
    EXPECT_TRUE(g->keep_git_dir);
    EXPECT_FALSE(g->submodules);

    g = parse_git_ref("git@h:o/r.git?branch=main");
    EXPECT_EQ(g->ref, "refs/heads/main");

    g = parse_git_ref("https://h/r.git?checksum=deadbeef");
    EXPECT_EQ(g->ref, "deadbeef");
    EXPECT_EQ(g->checksum, "deadbeef");
}

TEST(GitRef, BadQueriesInBuildKitsWords) {
    const std::pair<const char*, const char*> rows[] = {
        {"https://h/r.git?ref=a&ref=b", "query \"ref\" has multiple values"},
        {"https://h/r.git?ref", "query \"ref\" has no value"},
        {"https://h/r.git?tag=a&branch=b", "branch conflicts with tag"},
        {"https://h/r.git?ref=a#b", "ref conflicts: \"b\" vs \"a\""},
        {"https://h/r.git?branch=main#dev", "ref conflicts: \"dev\" vs \"refs/heads/main\""},
        {"https://h/r.git?subdir=a#:b", "subdir conflicts: \"b\" vs \"a\""},
        {"https://h/r.git?checksum=xyz",
         "invalid checksum xyz for Git URL, expected hex commit hash"},
        {"https://h/r.git?keep-git-dir=maybe", "invalid keep-git-dir value: \"maybe\""},
        {"https://h/r.git?submodules=2", "invalid submodules value: \"2\""},
        {"https://h/r.git?depth=1", "unexpected query \"depth\""},
        {"https://h/r.git#--upload-pack=touch /tmp/x", "invalid refspec: --upload-pack"},
    };
    for (const auto& [text, message] : rows) {
        try {
            parse_git_ref(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage) << text;
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
                << text << ": " << e.what();
        }
    }
}

TEST(GitRef, ThePasswordIsNeverShown) {
    const auto g = parse_git_ref("https://user:s3cret@h/r.git#main");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->remote, "https://user:s3cret@h/r.git") << "git needs it";
    EXPECT_EQ(g->shown, "https://user:xxxxx@h/r.git#main");
    EXPECT_EQ(parse_git_ref("https://ghp_token@h/r.git")->shown, "https://xxxxx@h/r.git")
        << "a token as the user name";
    EXPECT_EQ(parse_git_ref("ssh://git@h/r.git")->shown, "ssh://git@h/r.git");
}

}  // namespace
}  // namespace strata::frontend
