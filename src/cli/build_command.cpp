// `strata build [OPTIONS] CONTEXT` — docker build's flags where Docker has
// them; see docs/build.md.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "base/go/units.hpp"
#include "base/in_root_read.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "cache/build_record.hpp"
#include "cli/build_check.hpp"
#include "cli/build_contexts.hpp"
#include "cli/build_input.hpp"
#include "cli/build_output.hpp"
#include "cli/build_progress.hpp"
#include "cli/cache_flags.hpp"
#include "cli/commands.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/pull_push.hpp"
#include "executor/builder.hpp"
#include "executor/copy/copy.hpp"
#include "executor/copy/git_source.hpp"
#include "executor/run/container_runner.hpp"
#include "sandbox/chroot_isolation.hpp"
#include "store/blob_format.hpp"
#include "store/layer_reader.hpp"

namespace strata::cli {
namespace {

namespace fs = std::filesystem;

struct BuildCmdOptions {
    std::vector<std::string> tags, build_args, labels, no_cache_filter, secrets, ssh;
    std::vector<std::string> build_contexts;  // --build-context NAME=VALUE
    std::string file, target, iidfile, metadata_file, progress = "auto", platform, network;
    std::string isolation = "auto";  // --isolation: auto, sandbox, chroot
    std::string source_date_epoch;
    std::string memory, cpus;
    int64_t pids_limit = 0;
    std::string context;
    bool no_cache = false, quiet = false, explain = false;
    bool pull = false;                    // --pull
    bool check_reproducible = false;      // --check-reproducible (build_check.hpp)
    BuildOutputFlags out;                 // --output, --annotation, --rewrite-timestamp, --push
    std::string cache_to;                 // --cache-to (cache_flags.hpp)
    std::vector<std::string> cache_from;  // --cache-from
    unsigned jobs = 0;
};

// `--memory 512m` as Docker reads it (go-units' RAMInBytes).
int64_t parse_memory(const std::string& text) {
    const std::optional<uint64_t> v = go::units::ram_in_bytes(text);
    if (!v || *v == 0 || *v > static_cast<uint64_t>(INT64_MAX))
        throw Error(ErrorKind::kUsage, "invalid --memory \"" + text +
                                           "\": expected a size such as 536870912, 512m or 2g");
    return static_cast<int64_t>(*v);
}

executor::RunnerOptions runner_options(const BuildCmdOptions& o) {
    executor::RunnerOptions r;
    r.network = o.network.empty() ? std::string("default") : o.network;
    r.isolation =
        sandbox::parse_isolation_mode(o.isolation).value_or(sandbox::IsolationMode::kAuto);
    if (!o.memory.empty()) {
        r.limits.memory_bytes = parse_memory(o.memory);
        if (*r.limits.memory_bytes < 6 * 1024 * 1024)
            throw Error(ErrorKind::kUsage, "--memory: the minimum is 6m, as in Docker");
    }
    if (!o.cpus.empty()) {
        char* end = nullptr;
        const double c = std::strtod(o.cpus.c_str(), &end);
        if (end == o.cpus.c_str() || *end || c <= 0)
            throw Error(ErrorKind::kUsage,
                        "invalid --cpus \"" + o.cpus + "\": expected a number such as 1.5");
        r.limits.cpus = c;
    }
    if (o.pids_limit != 0) r.limits.pids = o.pids_limit;
    return r;
}

std::optional<int64_t> parse_epoch(const std::string& text, const char* what) {
    if (text.empty()) return std::nullopt;
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < 0)
        throw Error(
            ErrorKind::kUsage,
            fmt::format("{}: expected a number of seconds since 1970, got \"{}\"", what, text));
    return v;
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& labels) {
    std::map<std::string, std::string> out;
    for (const auto& l : labels) {
        const size_t eq = l.find('=');
        const std::string key = l.substr(0, eq);
        if (key.empty())
            throw Error(ErrorKind::kUsage, fmt::format("invalid label \"{}\": empty key", l));
        out[key] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    return out;
}

std::vector<store::Reference> parse_tags(const std::vector<std::string>& tags) {
    std::vector<store::Reference> out;
    for (const auto& t : tags) {
        auto r = store::Reference::try_parse(t);
        if (!r || r->digest)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid tag \"{}\": invalid reference format", t));
        out.push_back(r->with_default_tag());
    }
    return out;
}

void write_metadata(const std::string& file, const executor::BuildResult& r) {
    using nlohmann::json;
    json steps = json::array();
    for (const auto& s : r.steps) {
        const char* outcome = s.outcome == executor::StepReport::Outcome::kCached  ? "cached"
                              : s.outcome == executor::StepReport::Outcome::kBuilt ? "built"
                                                                                   : "metadata";
        json j{{"stage", s.stage},
               {"step", s.step},
               {"name", s.name},
               {"instruction", s.instruction},
               {"cache_key", s.key},
               {"outcome", outcome},
               {"cached", s.outcome == executor::StepReport::Outcome::kCached},
               {"seconds", s.seconds}};
        if (!s.explanation.empty()) j["explain"] = s.explanation;
        steps.push_back(std::move(j));
    }
    std::string names;
    for (const auto& n : r.names)
        names += (names.empty() ? "" : ",") + n.str();
    json bases = json::array();
    for (const auto& [ref, digest] : r.base_images)
        bases.push_back({{"ref", ref}, {"digest", digest}});
    json j{{"containerimage.config.digest", r.image.config.str()},
           {"containerimage.digest", r.image.manifest.str()},
           {"containerimage.descriptor",
            {{"mediaType", r.image.manifest_media_type},
             {"digest", r.image.manifest.str()},
             {"size", r.image.manifest_size}}},
           {"image.name", names},
           // What determines the layer blobs' bytes, to make the same ones later:
           // stored as plain tars, compressed when they leave (save, push).
           {"strata.layer.compression", store::compression_description(store::Compression::kNone)},
           {"strata.export.compression", store::compression_description(store::Compression::kGzip)},
           {"strata.layer.tar", store::tar_format_description()},
           {"strata.base-images", std::move(bases)},
           {"strata.build", {{"seconds", r.seconds}, {"steps", std::move(steps)}}}};
    write_file_atomic(file, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

int run_build(const GlobalOptions& global, const BuildCmdOptions& o) {
    executor::BuildRequest req;
    req.tags = parse_tags(o.tags);
    req.labels = parse_labels(o.labels);
    const OutputPlan outputs = plan_outputs(o.out, o.quiet);  // checked before building
    req.annotations = outputs.annotations;
    req.tags.insert(req.tags.end(), outputs.image_names.begin(), outputs.image_names.end());
    const std::vector<store::Reference> pushes = push_destinations(outputs, req.tags);
    req.plan.build_args = planner::resolve_build_args(
        o.build_args, [](const std::string& k) -> std::optional<std::string> {
            const char* v = std::getenv(k.c_str());
            return v ? std::optional<std::string>(v) : std::nullopt;
        });
    req.plan.target = o.target;
    req.plan.no_cache = o.no_cache;
    req.always_pull = o.pull;
    req.plan.no_cache_filter = o.no_cache_filter;
    req.plan.default_network = o.network == "default" ? "" : o.network;
    if (!o.platform.empty()) {
        auto p = planner::parse_platform(o.platform);
        if (!p)
            throw Error(ErrorKind::kUsage,
                        fmt::format("--platform: failed to parse platform {}", o.platform));
        if (!(*p == planner::host_platform()))
            throw Error(ErrorKind::kUsage,
                        fmt::format("--platform {}: strata builds for the host platform {} only",
                                    p->str(), planner::host_platform().str()));
    }
    // The flag wins over --build-arg SOURCE_DATE_EPOCH, which wins over the
    // environment (as buildx passes it: a build arg unless one is given); the
    // planner reads the build arg, so `ARG SOURCE_DATE_EPOCH` sees the value.
    req.source_date_epoch = parse_epoch(o.source_date_epoch, "--source-date-epoch");
    if (req.source_date_epoch) {
        req.plan.build_args["SOURCE_DATE_EPOCH"] = std::to_string(*req.source_date_epoch);
    } else if (req.plan.build_args.count("SOURCE_DATE_EPOCH") == 0) {
        if (const char* env = std::getenv("SOURCE_DATE_EPOCH"); env && *env)
            req.plan.build_args["SOURCE_DATE_EPOCH"] = env;
    }
    BuildContexts contexts = parse_build_contexts(o.build_contexts);
    req.plan.named_contexts = std::move(contexts.named);
    for (auto& [key, dir] : contexts.dirs)
        req.named_contexts[key] = {std::move(dir), true};
    req.plan.context_key = context_key;
    req.jobs = o.jobs;
    req.explain = o.explain;
    for (const auto& spec : o.secrets)
        req.secrets.push_back(executor::parse_secret_flag(spec));
    for (const auto& spec : o.ssh)
        req.ssh.push_back(executor::parse_ssh_flag(spec));

    std::string mode = o.quiet ? "quiet" : o.progress;
    if (mode == "auto") mode = is_terminal(STDERR_FILENO) ? "tty" : "plain";

    auto store = open_store(global);
    // FROM pulls and the pushes after the build share one session (tokens).
    auto registries = std::make_shared<LazyRegistrySession>(global);
    req.pull = make_image_puller(registries, *store);
    const RegistryClientFor clients = [registries](const std::string& domain,
                                                   bool push) -> registry::RegistryClient& {
        return push ? registries->get().pusher(domain) : registries->get().puller(domain);
    };
    std::vector<CacheFromSpec> cache_from;
    for (const auto& spec : o.cache_from)
        cache_from.push_back(parse_cache_from(spec));
    const std::optional<CacheToSpec> cache_to =
        o.cache_to.empty() ? std::nullopt : std::optional(parse_cache_to(o.cache_to));
    req.cache_from = import_caches(cache_from, clients, stderr);
    if (cache_to) req.cache_export = cache_to->mode;
    std::unique_ptr<executor::ProgressSink> progress;
    if (mode == "tty")
        progress = make_tty_progress(stderr, terminal_width(STDERR_FILENO),
                                     terminal_height(STDERR_FILENO));
    else if (mode == "plain")
        progress = make_plain_progress(stderr);
    else
        progress = std::make_unique<executor::NullProgress>();

    int ids = 0;  // vertices of remote contexts, fetched before the build starts
    const auto keep_arg = req.plan.build_args.find("BUILDKIT_CONTEXT_KEEP_GIT_DIR");
    InputSpec spec{o.context, o.file,
                   keep_arg != req.plan.build_args.end() &&
                       go::strconv::parse_bool(keep_arg->second).value_or(false)};
    BuildInput in = read_build_input(spec, *store, *progress, ids);
    std::vector<FetchedContext> fetched;  // remote named contexts, alive for the build
    for (const auto& [key, ref] : contexts.git) {
        fetched.push_back(fetch_git_context(ref, *store, *progress, ids));
        req.named_contexts[key] = {fetched.back().dir, false};
    }
    for (const auto& [key, url] : contexts.http) {
        fetched.push_back(fetch_http_context(key, url, *store, *progress, ids));
        req.named_contexts[key] = {fetched.back().dir, false};
    }
    req.first_vertex_id = ids;
    if (in.git) req.plan.context_time = in.git->commit_time;
    req.context_dockerignore = in.context_dockerignore;
    req.context_dir = in.context_dir;
    req.cache_context_stats = !in.context_is_temporary;
    req.dockerfile_text = std::move(in.dockerfile_text);
    req.dockerfile_name = in.dockerfile_name;
    req.dockerfile_path = in.dockerfile_path;
    if (!in.context_is_temporary) {
        std::error_code ec;
        req.explain_id = fs::absolute(in.context_dir, ec).lexically_normal().string() + "\n" +
                         (in.dockerfile_path.empty()
                              ? std::string("<stdin>")
                              : fs::absolute(in.dockerfile_path, ec).lexically_normal().string()) +
                         "\n" + o.target;
    } else {
        req.explain_id = in.shown + "\n" + in.dockerfile_name + "\n" + o.target;
    }
    req.explain_id = cache::BuildRecords::id_for(req.explain_id);

    const auto runner = executor::make_run_executor(runner_options(o));
    executor::BuildResult result;
    try {
        result = executor::build(req, *store, *progress, runner.get());
    } catch (const frontend::ParseError& e) {
        progress.reset();  // the live view ends before the error is printed
        fmt::print(stderr, "{}", frontend::render(e.diagnostic()));
        return 1;
    }
    progress.reset();
    export_outputs(outputs, *store, result.image, result.names, result.source_date_epoch);
    if (!pushes.empty())
        push_built_image(*registries, *store, result.image, pushes,
                         mode == "quiet" ? nullptr : stderr);
    if (cache_to)
        export_cache(*cache_to, clients, *store, req.cache_from.get(), result.cache_export,
                     mode == "quiet" ? nullptr : stderr);

    if (!o.iidfile.empty()) write_file_atomic(o.iidfile, result.image.config.str());
    if (!o.metadata_file.empty()) write_metadata(o.metadata_file, result);

    size_t cached = 0, built = 0;
    for (const auto& s : result.steps) {
        cached += s.outcome == executor::StepReport::Outcome::kCached;
        built += s.outcome == executor::StepReport::Outcome::kBuilt;
    }
    if (o.explain && mode != "plain") {
        for (const auto& s : result.steps)
            for (const auto& line : s.explanation)
                fmt::print(stderr, "explain: {}: {}\n", s.name.empty() ? s.instruction : s.name,
                           line);
    }
    if (mode == "quiet") {
        fmt::print("{}\n", result.image.config.str());
    } else {
        std::string names;
        for (const auto& n : result.names)
            names += " " + n.familiar();
        fmt::print(stderr, "Built {} in {:.2f}s ({} steps run, {} cached){}{}\n",
                   result.image.config.str(), result.seconds, built, cached,
                   names.empty() ? "" : ":", names);
    }
    if (o.check_reproducible) return check_reproducible(req, *store, result, mode, runner.get());
    return 0;
}

}  // namespace

void add_build_command(CLI::App& app, const GlobalOptions& global) {
    auto o = std::make_shared<BuildCmdOptions>();
    CLI::App* cmd = app.add_subcommand("build", "Build an image from a Dockerfile");
    cmd->add_option("-t,--tag", o->tags, "Name and optionally a tag (NAME[:TAG]); repeatable");
    cmd->add_option("-f,--file", o->file, "Name of the Dockerfile (default: CONTEXT/Dockerfile)");
    cmd->add_option("--build-arg", o->build_args, "Set a build-time variable (K=V, or K from env)");
    cmd->add_option("--target", o->target, "Build this stage (default: the last one)");
    cmd->add_option("--build-context", o->build_contexts,
                    "Additional build context (NAME=DIR, NAME=GIT-URL, NAME=HTTP-URL or "
                    "NAME=docker-image://REF) that FROM "
                    "NAME, COPY --from=NAME and RUN --mount=from=NAME read; repeatable");
    cmd->add_flag("--no-cache", o->no_cache, "Do not use the cache");
    cmd->add_flag("--pull", o->pull, "Always attempt to pull all referenced images");
    cmd->add_option("--no-cache-filter", o->no_cache_filter, "Do not use the cache for a stage");
    cmd->add_option("--label", o->labels, "Set a label on the image (K=V); repeatable");
    cmd->add_option("--iidfile", o->iidfile, "Write the image ID to this file");
    cmd->add_option("--metadata-file", o->metadata_file,
                    "Write the build result's metadata (digests, per-step cache hits) as JSON");
    cmd->add_flag("-q,--quiet", o->quiet, "Print only the image ID");
    cmd->add_option("--progress", o->progress, "Progress output: auto, plain, tty or quiet")
        ->check(CLI::IsMember({"auto", "plain", "tty", "quiet"}))
        ->capture_default_str();
    cmd->add_option("--source-date-epoch", o->source_date_epoch,
                    "Timestamp for reproducible output (default: $SOURCE_DATE_EPOCH)");
    cmd->add_option("--jobs", o->jobs, "Stages built at once (default: the number of cores)")
        ->check(CLI::Range(1u, 256u));
    cmd->add_option("--platform", o->platform, "Target platform (the host's only, for now)");
    cmd->add_option("--network", o->network,
                    "Network of RUN steps: default is a private network with outbound access "
                    "(pasta), host shares the host's, none has only loopback")
        ->check(CLI::IsMember({"default", "host", "none"}));
    cmd->add_option("--isolation", o->isolation,
                    "Isolation of RUN steps: sandbox (namespaces, overlay), chroot (a chroot with "
                    "the namespaces allowed, for unprivileged containers), auto (sandbox, or "
                    "chroot with a warning where the sandbox is refused)")
        ->check(CLI::IsMember({"auto", "sandbox", "chroot"}))
        ->capture_default_str();
    cmd->add_option("--memory,-m", o->memory,
                    "Memory limit of each RUN step (bytes, or with b, k, m, g: 512m)");
    cmd->add_option("--cpus", o->cpus, "CPUs each RUN step may use (1.5: one and a half)");
    cmd->add_option("--pids-limit", o->pids_limit,
                    "Processes each RUN step may have at once (default 8192; -1: no limit)");
    cmd->add_option("--secret", o->secrets,
                    "Secret for RUN --mount=type=secret: id=ID[,src=FILE|,env=VAR]; repeatable");
    cmd->add_option("--ssh", o->ssh,
                    "SSH agent for RUN --mount=type=ssh: default|ID[=SOCKET|KEY[,KEY...]]; "
                    "repeatable");
    cmd->add_flag("--check-reproducible", o->check_reproducible,
                  "Build a second time without the cache and fail, with a diff report, "
                  "unless both images are the same");
    cmd->add_flag("--explain", o->explain,
                  "Say, for every step that misses the cache, which input changed");
    add_build_output_flags(*cmd, o->out);
    cmd->add_option("--cache-to", o->cache_to,
                    "Export the build cache: type=registry,ref=REF or type=local,dest=DIR "
                    "[,mode=min|max][,compression=gzip|zstd|uncompressed]");
    cmd->add_option("--cache-from", o->cache_from,
                    "Import a build cache: type=registry,ref=REF or type=local,src=DIR; "
                    "repeatable");
    cmd->add_option("context", o->context,
                    "The build context: a directory, a Git URL (URL#REF:SUBDIR), the HTTP(S) URL "
                    "of a tarball or a Dockerfile, or - for stdin")
        ->required();
    cmd->callback([o, &global] {
        const int rc = run_build(global, *o);
        if (rc != 0) throw ExitCode{rc};
    });
}

}  // namespace strata::cli
