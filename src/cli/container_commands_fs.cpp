// A container's filesystem as data:
//   strata commit [-m MSG] [-a AUTHOR] [-c INSTRUCTION]... [-p|--pause] CTR [REPOSITORY[:TAG]]
//   strata export [-o FILE] CTR
//   strata cp [-a] [-L] CTR:SRC DEST|-   and   strata cp [-a] [-L] SRC|- CTR:DEST
// and the container half of `strata diff` (diff_command.cpp).
// docs/containers.md; the rules are in src/containers/container_{diff,commit,export,copy}.hpp.
#include "cli/container_commands_fs.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/rootless.hpp"
#include "containers/container_commit.hpp"
#include "containers/container_copy.hpp"
#include "containers/container_diff.hpp"
#include "containers/container_export.hpp"
#include "containers/container_record.hpp"
#include "containers/image_layers.hpp"
#include "store/store_root.hpp"

namespace strata::cli {

namespace fs = std::filesystem;
using containers::Container;
using containers::ContainerStore;

namespace {

// The container and the image store it lives in.
struct Opened {
    std::unique_ptr<store::ImageStore> store;
    std::optional<ContainerStore> containers;
    Container c;
};

Opened open_container(const GlobalOptions& global, const std::string& id_or_name) {
    Opened o;
    o.store = open_store(global);
    o.containers.emplace(o.store->root());
    o.c = o.containers->get(id_or_name);
    o.containers->refresh(o.c);
    return o;
}

std::vector<fs::path> lower_layers(store::ImageStore& store, const Container& c) {
    const auto image = store.image(store::Digest::parse(c.spec.image_manifest));
    if (!image)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("the image of container {} ({}) is no longer in the store",
                                c.short_id(), c.spec.image_name));
    return containers::image_layer_dirs(store, *image);
}

// --- commit ----------------------------------------------------------------------

struct CommitCmdOptions {
    std::string message, author;
    std::vector<std::string> changes;
    bool pause = true;
    std::string container, repository;
};

void run_commit(const GlobalOptions& global, const CommitCmdOptions& opts) {
    containers::CommitOptions co;
    co.comment = opts.message;
    co.author = opts.author;
    co.changes = opts.changes;
    co.pause = opts.pause;
    if (!opts.repository.empty()) {
        auto ref = store::Reference::parse(opts.repository);
        if (ref.digest)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid reference format: a commit takes a name and tag, "
                                    "not a digest: {}",
                                    opts.repository));
        co.name = ref.with_default_tag();
    }
    Opened o = open_container(global, opts.container);
    const auto result = containers::commit_container(*o.store, o.c, co);
    fmt::print("{}\n", result.image.config.str());
}

// --- export ------------------------------------------------------------------------

void run_export(const GlobalOptions& global, const std::string& container,
                const std::string& output) {
    if ((output.empty() || output == "-") && ::isatty(STDOUT_FILENO))
        throw Error(ErrorKind::kUsage,
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    Opened o = open_container(global, container);
    if (output.empty() || output == "-") {
        containers::export_container(*o.store, o.c, [](const void* data, size_t n) {
            write_all(STDOUT_FILENO, data, n, "standard output");
        });
        return;
    }
    // Written next to the target and renamed: no partial file on failure.
    AtomicFile out(output);
    containers::export_container(*o.store, o.c,
                                 [&](const void* data, size_t n) { out.write(data, n); });
    out.commit();
}

// --- cp --------------------------------------------------------------------------------

struct CpCmdOptions {
    bool archive = false, follow_link = false, quiet = false;
    std::string src, dest;
};

void run_cp(const GlobalOptions& global, const CpCmdOptions& opts) {
    const auto from = containers::split_container_path(opts.src);
    const auto to = containers::split_container_path(opts.dest);
    if (from && to) throw Error(ErrorKind::kUsage, "copying between containers is not supported");
    if (!from && !to)
        throw Error(ErrorKind::kUsage,
                    "must specify at least one container source (CONTAINER:PATH)");
    if ((from && from->path.empty()) || (to && to->path.empty()))
        throw Error(ErrorKind::kUsage, "filepath can not be empty");
    Opened o = open_container(global, from ? from->container : to->container);
    Container& c = o.c;
    // Rootless: into the user namespace its namespaces belong to, first.
    if (c.state.status == containers::Status::kRunning)
        join_user_namespace_of(c.state.pid, c.state.pid_start);

    containers::CopyOptions co;
    co.archive = opts.archive;
    co.follow_link = opts.follow_link;
    co.container_name = c.name;
    co.scratch_parent = o.store->tmp_dir();
    co.read_only = c.spec.read_only;
    // A stopped container cannot start while its overlay is mounted here.
    std::optional<LockFile> lock;
    if (c.state.status != containers::Status::kRunning) {
        lock.emplace(o.containers->lock(c));
        o.containers->reload_state(c);
    }
    LockFile lease = o.store->lease();  // the scratch directory under tmp/
    const containers::ContainerRoot root =
        containers::open_container_root(*o.store, c, &co.unreachable);
    co.live = root.live();
    if (from)
        containers::copy_out(root.fd(), from->path, opts.dest, STDOUT_FILENO, co);
    else
        containers::copy_in(root.fd(), opts.src, STDIN_FILENO, to->path, co);
}

}  // namespace

bool print_container_diff(const GlobalOptions& global, const std::string& id_or_name, bool json) {
    ContainerStore containers(store::resolve_store_root(global.root));
    auto c = containers.find(id_or_name);
    if (!c) return false;
    auto store = open_store(global);
    const std::vector<fs::path> lower = lower_layers(*store, *c);
    const auto stubs =
        containers::mount_stubs(lower, c->upper(), containers::container_mount_points(*c));
    const auto changes = containers::upper_changes(lower, c->upper(), stubs);
    if (json) {
        // Docker's API answer: Kind 0 modified, 1 added, 2 deleted.
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& ch : changes)
            out.push_back({{"Kind", static_cast<int>(ch.kind)}, {"Path", ch.path}});
        std::fputs((out.dump() + "\n").c_str(), stdout);
    } else {
        std::fputs(containers::render_changes(changes).c_str(), stdout);
    }
    return true;
}

namespace {

// commit, export and cp on `app`: the top level, and `strata container`.
void add_fs_commands_to(CLI::App& app, const GlobalOptions& global) {
    {
        auto opts = std::make_shared<CommitCmdOptions>();
        CLI::App* cmd =
            app.add_subcommand("commit", "Create a new image from a container's changes");
        cmd->add_option("-m,--message", opts->message, "Commit message");
        cmd->add_option("-a,--author", opts->author,
                        "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
        cmd->add_option("-c,--change", opts->changes,
                        "Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, "
                        "ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR)")
            ->allow_extra_args(false);
        cmd->add_flag("-p,--pause,!--no-pause", opts->pause,
                      "Pause container during commit (default true; --pause=false to not)");
        cmd->add_option("container", opts->container, "CONTAINER (name, ID or ID prefix)")
            ->required();
        cmd->add_option("repository", opts->repository, "REPOSITORY[:TAG]");
        cmd->callback([opts, &global] { run_commit(global, *opts); });
    }
    {
        auto output = std::make_shared<std::string>();
        auto container = std::make_shared<std::string>();
        CLI::App* cmd = app.add_subcommand(
            "export", "Export a container's filesystem as a tar archive (to STDOUT by default)");
        cmd->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
        cmd->add_option("container", *container, "CONTAINER (name, ID or ID prefix)")->required();
        cmd->callback([output, container, &global] { run_export(global, *container, *output); });
    }
    {
        auto opts = std::make_shared<CpCmdOptions>();
        CLI::App* cmd = app.add_subcommand(
            "cp",
            "Copy files/folders between a container and the local filesystem\n"
            "  strata cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
            "  strata cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n"
            "Use '-' as the source to read a tar archive from stdin and extract it to a "
            "directory destination in a container. Use '-' as the destination to stream a tar "
            "archive of a container source to stdout.");
        cmd->add_flag("-a,--archive", opts->archive, "Archive mode (copy all uid/gid information)");
        cmd->add_flag("-L,--follow-link", opts->follow_link,
                      "Always follow symbol link in SRC_PATH");
        cmd->add_flag("-q,--quiet", opts->quiet, "Suppress progress output during copy");
        cmd->add_option("src", opts->src, "SRC_PATH, CONTAINER:SRC_PATH or -")->required();
        cmd->add_option("dest", opts->dest, "DEST_PATH, CONTAINER:DEST_PATH or -")->required();
        cmd->callback([opts, &global] { run_cp(global, *opts); });
    }
}

}  // namespace

void add_container_fs_commands(CLI::App& app, const GlobalOptions& global) {
    add_fs_commands_to(app, global);
    CLI::App& group = container_command_group(app);
    add_fs_commands_to(group, global);
    // `strata container diff CTR`: containers only (the top-level diff also
    // compares images).
    auto target = std::make_shared<std::string>();
    CLI::App* diff =
        group.add_subcommand("diff",
                             "Inspect changes to files or directories on a container's "
                             "filesystem (A added, C changed, D deleted)");
    diff->add_option("container", *target, "CONTAINER (name, ID or ID prefix)")->required();
    diff->callback([target, &global] {
        if (!print_container_diff(global, *target, false))
            throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", *target));
    });
}

}  // namespace strata::cli
