// The build plan: what the planner hands the executor. One StagePlan per
// stage the target needs, in an order where every stage comes after the
// stages it uses; one Step per instruction (ONBUILD triggers of the base
// first), each with its expanded typed form, the image-config change it makes
// and the history text BuildKit records for it.
//
// Cache keys are not stored here: COPY/ADD keys need digests of the selected
// sources, which only the executor can compute. KeyComputer (cache_key.hpp)
// turns a plan plus a SourceDigester into keys, step by step.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/diagnostic.hpp"
#include "frontend/instructions.hpp"

namespace strata::planner {

struct Platform {
    std::string os = "linux";
    std::string architecture;  // GOARCH names: amd64, arm64, arm, 386, ...
    std::string variant;       // e.g. "v7" for arm; empty when none
    std::string str() const;   // "linux/amd64", "linux/arm/v7"
    bool operator==(const Platform&) const = default;
};

// The machine strata runs on, from uname(2), in Go's GOOS/GOARCH names.
Platform host_platform();

// Parses "os/arch[/variant]" or "arch"; normalizes aliases (x86_64 → amd64,
// aarch64 → arm64, arm64/v8 → arm64, armhf → arm/v7). nullopt if malformed.
std::optional<Platform> parse_platform(std::string_view text);

using EnvVar = std::pair<std::string, std::string>;

// What the executor knows about an image used by FROM, COPY --from=IMAGE or
// RUN --mount=from=IMAGE (ImageResolver returns it).
struct BaseImage {
    std::string digest;            // manifest digest ("sha256:…"): part of cache keys
    std::string canonical_ref;     // for display, e.g. "docker.io/library/alpine:3.20@sha256:…"
    std::vector<std::string> env;  // Config.Env, "KEY=value"
    std::string working_dir;
    std::string user;
    std::vector<std::string> shell;    // Config.Shell; empty = default
    std::vector<std::string> onbuild;  // Config.OnBuild triggers
    bool empty_rootfs = false;         // no layers at all: treated like scratch (BuildKit does)
};

// Where a COPY or a RUN mount reads from.
struct SourceRef {
    enum class Kind { kContext, kStage, kImage, kScratch };
    Kind kind = Kind::kContext;
    std::string context;       // kContext: a named context (--build-context); empty: the build's
    size_t stage = 0;          // kStage: the Dockerfile index of the stage
    std::string image;         // kImage: the reference as written (expanded)
    std::string image_digest;  // kImage: BaseImage::digest
};

// A file made from a heredoc: `COPY <<EOF /dst` or a RUN script with a
// shebang (mounted read-only under /dev/pipes/ and executed).
struct InlineFile {
    std::string name;
    std::string content;
    uint32_t mode = 0644;
};

// COPY or ADD after expansion.
struct CopyStep {
    bool is_add = false;
    std::vector<std::string> sources;  // expanded, in order; for ADD may include URLs
    std::vector<InlineFile> inline_sources;
    std::string dest;       // expanded, as written (history uses it)
    std::string dest_path;  // copy_dest(): ends with '/' or "/." for "into this directory"
    std::string workdir;    // the stage's WORKDIR at this step ("/" when unset)
    std::string chown, chmod, checksum;
    bool link = false, parents = false, keep_git_dir = false;
    std::optional<bool> unpack;  // ADD --unpack; unset: local archives yes, URLs no
    std::vector<std::string> excludes;
    SourceRef from;  // kContext unless --from
};

// One `--mount` of RUN, parsed (values expanded).
struct RunMount {
    std::string type = "bind";  // bind, cache, tmpfs, secret, ssh
    std::string target, source, id;
    bool read_only = false;
    SourceRef from;  // kContext for a bind without from=; kScratch for a cache without from=
    std::map<std::string, std::string> options;  // every key=value as written (expanded)
    // secret and ssh, with BuildKit's defaults applied: `id` is the secret's
    // id (id=, source= or basename(target)) or the ssh agent's ("default");
    // `target` is /run/secrets/<id> or /run/buildkit/ssh_agent.<N> unless
    // given, and empty for a secret with env= but no target (no file then).
    std::string env;        // secret: the variable that receives the value; "" for none
    bool required = false;  // a missing secret / agent fails the step (else: not mounted)
    uint32_t mode = 0, uid = 0, gid = 0;  // secret 0400, ssh 0600, owner 0:0 unless given
};

struct RunStep {
    std::vector<std::string> argv;  // after the SHELL is prepended for the shell form
    std::vector<InlineFile> files;  // heredoc scripts to mount at /dev/pipes/<name>
    std::vector<EnvVar> env;        // what the process sees: image env, ENV and ARG values
    // The proxy build args (any case of http_proxy, https_proxy, ftp_proxy,
    // no_proxy, all_proxy), each in both spellings as BuildKit's ExecOp sets
    // them, except a spelling the step's env already has: passed, never keyed.
    std::vector<EnvVar> proxy_env;
    std::string user, workdir;
    std::string hostname;  // --build-arg BUILDKIT_SANDBOX_HOSTNAME; empty = "buildkitsandbox"
    std::string network, security;
    std::vector<RunMount> mounts;
};

struct Healthcheck {
    std::vector<std::string> test;
    int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
    int retries = 0;
    bool operator==(const Healthcheck&) const = default;
};

// How one step changes the image config. Unset fields leave the config alone;
// the executor maps this onto its own config type.
struct ConfigEffect {
    std::vector<EnvVar> env;                 // add or replace, in order
    std::vector<EnvVar> labels;              // add or replace
    std::vector<std::string> exposed_ports;  // add, "80/tcp"
    std::vector<std::string> volumes;        // add
    std::vector<std::string> onbuild;        // append
    bool clear_onbuild = false;              // stage start: triggers do not carry over
    std::optional<std::string> user, working_dir, stop_signal, author;
    std::optional<std::vector<std::string>> entrypoint, cmd, shell;
    bool clear_cmd = false;     // ENTRYPOINT without an earlier CMD in the stage resets Cmd
    bool args_escaped = false;  // CMD sets ArgsEscaped (Docker image spec)
    std::optional<Healthcheck> healthcheck;

    // The history entry; nullopt for steps BuildKit records none for (ONBUILD).
    struct History {
        std::string created_by;
        bool empty_layer = true;
    };
    std::optional<History> history;
};

enum class StepKind {
    kRun,
    kCopy,
    kWorkdir,
    kEnv,
    kArg,
    kLabel,
    kExpose,
    kUser,
    kVolume,
    kCmd,
    kEntrypoint,
    kShell,
    kStopSignal,
    kHealthcheck,
    kOnbuild,
    kMaintainer,
};

struct KeyField {
    std::string name;
    std::string value;
    bool operator==(const KeyField&) const = default;
};

struct Step {
    StepKind kind = StepKind::kRun;
    frontend::Instruction instruction;  // as parsed (for ONBUILD triggers: the trigger)
    bool from_onbuild = false;          // injected from the base's ONBUILD triggers
    // BuildKit's progress name, e.g. "[build 2/5] COPY . /src"; empty for
    // steps BuildKit does not show (metadata-only ones, WORKDIR /).
    std::string display;
    RunStep run;    // kRun
    CopyStep copy;  // kCopy (COPY and ADD)
    ConfigEffect effect;
    // True for steps that write to the filesystem (RUN, COPY, ADD, WORKDIR):
    // their keys chain; metadata steps never bust a later step's key by
    // themselves (what they change that a later step sees is in its own key).
    bool changes_filesystem = false;
    bool no_cache = false;  // --no-cache / --no-cache-filter: run even on a hit
    // Everything in the key except the parent key and source digests, in a
    // fixed order (docs/cache-keys.md). Also what --explain compares.
    std::vector<KeyField> key_fields;
    std::vector<std::string> used_vars;  // variable names the step's expansions read
};

struct StagePlan {
    size_t index = 0;          // position in the Dockerfile
    std::string name;          // lower case; empty if unnamed
    std::string display_name;  // "build", "stage-2"; empty when the file has one stage
    enum class BaseKind { kScratch, kImage, kStage };
    BaseKind base_kind = BaseKind::kScratch;
    std::string base_ref;   // kImage: expanded reference as written
    BaseImage base_image;   // kImage: what the resolver returned
    size_t base_stage = 0;  // kStage: Dockerfile index
    Platform platform;
    std::string from_display;   // "[1/3] FROM docker.io/…"; empty for scratch/stage
    ConfigEffect start_effect;  // applied to the base config before the first step
    std::vector<Step> steps;
    std::vector<size_t> depends_on;  // Dockerfile indices of stages this one uses
    bool no_cache = false;
    frontend::SourceRange range;
};

struct BuildPlan {
    std::string file;
    std::vector<StagePlan> stages;  // needed stages, dependencies first; target last
    size_t target = 0;              // Dockerfile index of the target stage
    Platform platform;
    std::map<std::string, std::string> build_args;  // resolved --build-arg values
    std::vector<std::string> unused_build_args;     // sorted; for the "not consumed" warning
    // SOURCE_DATE_EPOCH from --build-arg or a global `ARG SOURCE_DATE_EPOCH=…`
    // default (seconds since 1970); nullopt when neither sets a value.
    std::optional<int64_t> source_date_epoch;
    std::vector<frontend::Diagnostic> warnings;

    // The stage with Dockerfile index `index`; throws kInternal if not planned.
    const StagePlan& stage(size_t index) const;
    const StagePlan& target_stage() const { return stages.back(); }
};

// Docker's warning text for unused build args, or empty when there are none:
// "[Warning] One or more build-args [A B] were not consumed".
std::string unused_build_args_warning(const BuildPlan& plan);

}  // namespace strata::planner
