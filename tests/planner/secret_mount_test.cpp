// RUN --mount=type=secret and type=ssh in the planner: parsing and
// BuildKit's validation, the defaults (id, target, mode), SSH_AUTH_SOCK in
// the step's environment, and what the cache key holds (never a value).
#include <gtest/gtest.h>

#include "planner/cache_key.hpp"
#include "planner/run_mount.hpp"
#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeDigester;
using testing::FakeResolver;

std::string mount_error(const std::string& value) {
    try {
        parse_mount(value, [](const std::string& v) { return v; });
    } catch (const MountError& e) {
        return e.message;
    }
    return "<no error>";
}

SecretMountInfo info(const std::string& value, size_t ssh_index = 0) {
    return secret_mount_info(parse_mount(value, [](const std::string& v) { return v; }), ssh_index);
}

TEST(SecretMount, Defaults) {
    SecretMountInfo s = info("type=secret,id=tok");
    EXPECT_EQ(s.id, "tok");
    EXPECT_EQ(s.target, "/run/secrets/tok");
    EXPECT_EQ(s.env, "");
    EXPECT_FALSE(s.required);
    EXPECT_EQ(s.mode, 0400u);
    EXPECT_EQ(s.uid, 0u);
    EXPECT_EQ(s.gid, 0u);

    s = info("type=secret,target=/etc/app/key");  // the id is the target's base name
    EXPECT_EQ(s.id, "key");
    EXPECT_EQ(s.target, "/etc/app/key");
    s = info("type=secret,source=tok,dst=/x");  // source= names the secret too
    EXPECT_EQ(s.id, "tok");
    EXPECT_EQ(s.target, "/x");
    s = info("type=secret,id=a/b");
    EXPECT_EQ(s.target, "/run/secrets/b");

    s = info("type=secret,id=tok,env=TOKEN");  // env= alone: no file
    EXPECT_EQ(s.env, "TOKEN");
    EXPECT_EQ(s.target, "");
    s = info("type=secret,id=tok,env=TOKEN,target=/t");  // both
    EXPECT_EQ(s.env, "TOKEN");
    EXPECT_EQ(s.target, "/t");
    s = info("type=secret,id=tok,env=");
    EXPECT_EQ(s.env, "tok") << "an empty env= names the variable after the secret";

    s = info("type=secret,id=tok,required,mode=0440,uid=1000,gid=50");
    EXPECT_TRUE(s.required);
    EXPECT_EQ(s.mode, 0440u);
    EXPECT_EQ(s.uid, 1000u);
    EXPECT_EQ(s.gid, 50u);
    EXPECT_FALSE(info("type=secret,id=tok,required=false").required);
    EXPECT_TRUE(info("type=secret,id=tok,required=True").required);
}

TEST(SshMount, Defaults) {
    SecretMountInfo s = info("type=ssh");
    EXPECT_EQ(s.id, "default");
    EXPECT_EQ(s.target, "/run/buildkit/ssh_agent.0");
    EXPECT_EQ(s.mode, 0600u);
    EXPECT_EQ(info("type=ssh,id=gh", 2).target, "/run/buildkit/ssh_agent.2");
    s = info("type=ssh,id=gh,target=/ssh.sock,required,mode=0666,uid=5");
    EXPECT_EQ(s.id, "gh");
    EXPECT_EQ(s.target, "/ssh.sock");
    EXPECT_TRUE(s.required);
    EXPECT_EQ(s.mode, 0666u);
    EXPECT_EQ(s.uid, 5u);
    EXPECT_THROW(info("type=ssh,source=x"), MountError);
}

TEST(SecretMount, BuildKitsValidation) {
    EXPECT_EQ(mount_error("type=secret"),
              "invalid secret mount. one of source, target required (name the secret with id=ID)");
    EXPECT_EQ(mount_error("type=secret,id=a,source=b"), "both source and id can't be set");
    EXPECT_EQ(mount_error("type=secret,id=a,from=x"), "secret mount should not have a from");
    EXPECT_EQ(mount_error("type=secret,id=a,sharing=locked"),
              "secret mount should not define sharing");
    EXPECT_EQ(mount_error("type=secret,id=a,mode=0999"), "invalid value 0999 for mode");
    EXPECT_EQ(mount_error("type=secret,id=a,uid=-1"), "invalid value -1 for uid");
    EXPECT_EQ(mount_error("type=secret,id=a,gid=x"), "invalid value x for gid");
    EXPECT_EQ(mount_error("type=secret,id=a,required=maybe"), "invalid value for required: maybe");
    // `required` belongs to secret and ssh; BuildKit checks it where it stands.
    EXPECT_EQ(mount_error("target=/x,required"), "unexpected key 'required' for mount type 'bind'");
    EXPECT_EQ(mount_error("required,type=secret,id=a"),
              "unexpected key 'required' for mount type 'bind'");
    EXPECT_EQ(mount_error("type=tmpfs,target=/x,mode=0700"),
              "mode not allowed for \"tmpfs\" type mounts");
    EXPECT_EQ(mount_error("target=/x,uid=1"), "uid not allowed for \"bind\" type mounts");
    EXPECT_EQ(mount_error("type=cache,target=/x,sharing=bogus"),
              "unsupported sharing value \"bogus\"");
    EXPECT_EQ(mount_error("type=secret,id=a,size=10"),
              "unexpected key 'size' for mount type 'secret'");
    EXPECT_EQ(mount_error("type=cache,target=/x,mode=0700,uid=1,gid=2"), "<no error>");
    // Unexpanded (the planner's first pass), a variable is checked later.
    EXPECT_NO_THROW(parse_mount("type=secret,id=a,mode=$M,required=$R"));
}

std::string run_error(const std::string& text) {
    FakeResolver images;
    try {
        testing::plan(text, images);
    } catch (const frontend::ParseError& e) {
        return e.diagnostic().message;
    }
    return "<no error>";
}

TEST(SecretMount, PlannedStep) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nARG NAME=tok\n"
        "RUN --mount=type=secret,id=$NAME,required --mount=type=ssh "
        "--mount=type=ssh,id=gh,target=/gh.sock --mount=type=secret,id=t2,env=T2 true\n",
        images);
    const Step* run = testing::find_step(p.stages[0], "RUN");
    ASSERT_NE(run, nullptr);
    const auto& mounts = run->run.mounts;
    ASSERT_EQ(mounts.size(), 4u);
    EXPECT_EQ(mounts[0].id, "tok") << "mount values are expanded";
    EXPECT_EQ(mounts[0].target, "/run/secrets/tok");
    EXPECT_TRUE(mounts[0].required);
    EXPECT_EQ(mounts[0].from.kind, SourceRef::Kind::kScratch);
    EXPECT_EQ(mounts[1].target, "/run/buildkit/ssh_agent.0");
    EXPECT_EQ(mounts[1].id, "default");
    EXPECT_EQ(mounts[2].target, "/gh.sock");
    EXPECT_EQ(mounts[3].env, "T2");
    EXPECT_EQ(mounts[3].target, "");
    // SSH_AUTH_SOCK names the first agent socket (BuildKit's ExecOp).
    bool found = false;
    for (const auto& [k, v] : run->run.env) {
        if (k == "SSH_AUTH_SOCK") {
            EXPECT_EQ(v, "/run/buildkit/ssh_agent.0");
            found = true;
        }
    }
    EXPECT_TRUE(found);
    // Not part of the image.
    EXPECT_TRUE(run->effect.env.empty());
}

TEST(SshMount, AnSshAuthSockOfTheStageWins) {
    FakeResolver images;
    const BuildPlan p =
        testing::plan("FROM scratch\nENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh true\n", images);
    const Step* run = testing::find_step(p.stages[0], "RUN");
    int n = 0;
    for (const auto& [k, v] : run->run.env) {
        if (k == "SSH_AUTH_SOCK") {
            EXPECT_EQ(v, "/mine");
            ++n;
        }
    }
    EXPECT_EQ(n, 1);
}

TEST(SecretMount, ErrorsAreLocated) {
    EXPECT_EQ(run_error("FROM scratch\nRUN --mount=type=secret true\n"),
              "invalid secret mount. one of source, target required (name the secret with id=ID)");
    EXPECT_EQ(run_error("FROM scratch\nRUN --mount=type=ssh,src=x true\n"),
              "ssh does not support source");
}

// The key of the RUN step in `text` (its only RUN).
std::string run_key(const std::string& text) {
    FakeResolver images;
    FakeDigester files;
    const BuildPlan p = testing::plan(text, images);
    KeyComputer keys(p, files);
    for (size_t i = 0; i < p.stages[0].steps.size(); ++i)
        if (p.stages[0].steps[i].kind == StepKind::kRun) return keys.step_key(0, i);
    return {};
}

TEST(SecretMount, CacheKeyHoldsTheMountNotTheValue) {
    const std::string base = run_key("FROM scratch\nRUN --mount=type=secret,id=tok cat x\n");
    // Spelling out the defaults is the same mount.
    EXPECT_EQ(base, run_key("FROM scratch\nRUN --mount=type=secret,id=tok,target=/run/secrets/"
                            "tok,mode=0400,uid=0,gid=0,required=false cat x\n"));
    EXPECT_EQ(base, run_key("FROM scratch\nRUN --mount=type=secret,source=tok cat x\n"));
    EXPECT_EQ(base, run_key("FROM scratch\nRUN --mount=type=secret,id=tok,rw cat x\n"))
        << "a secret is read-only whatever rw says";
    // Everything about the mount counts.
    for (const char* other : {"id=tok2", "id=tok,target=/t", "id=tok,env=TOK", "id=tok,mode=0440",
                              "id=tok,uid=1", "id=tok,gid=1", "id=tok,required"}) {
        EXPECT_NE(base, run_key(std::string("FROM scratch\nRUN --mount=type=secret,") + other +
                                " cat x\n"))
            << other;
    }
    const std::string ssh = run_key("FROM scratch\nRUN --mount=type=ssh true\n");
    EXPECT_EQ(ssh, run_key("FROM scratch\nRUN --mount=type=ssh,id=default,target=/run/buildkit/"
                           "ssh_agent.0,mode=0600 true\n"));
    EXPECT_NE(ssh, run_key("FROM scratch\nRUN --mount=type=ssh,id=gh true\n"));
    EXPECT_NE(ssh, run_key("FROM scratch\nRUN --mount=type=ssh,target=/s true\n"));
    EXPECT_NE(ssh, run_key("FROM scratch\nRUN --mount=type=ssh,required true\n"));
}

TEST(SecretMount, KeyFieldsNameTheMount) {
    FakeResolver images;
    const BuildPlan p = testing::plan(
        "FROM scratch\nRUN --mount=type=secret,id=tok,env=TOK,required true\n", images);
    const Step* run = testing::find_step(p.stages[0], "RUN");
    std::string mount;
    for (const KeyField& f : run->key_fields)
        if (f.name == "mount") mount = f.value;
    EXPECT_EQ(mount, "type=secret,id=tok,target=,env=TOK,required=true,mode=400,uid=0,gid=0");
}

}  // namespace
}  // namespace strata::planner
