// `strata pull [--platform P] [-q] NAME[:TAG|@DIGEST]` and `strata push
// [-q] NAME[:TAG] [DEST]`, printing what `docker pull` and `docker push`
// print (one line per layer event when the output is not a terminal).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/pull_push.hpp"
#include "cli/registry_options.hpp"
#include "cli/transfer_progress.hpp"
#include "planner/build_plan.hpp"
#include "registry/credentials.hpp"
#include "registry/pull.hpp"
#include "registry/push.hpp"
#include "registry/registry_image_source.hpp"
#include "registry/session.hpp"

namespace strata::cli {
namespace {

std::unique_ptr<registry::RegistrySession> open_session(const GlobalOptions& global) {
    return open_registry_session(global);
}

// docker's live view when stdout is a terminal, its plain lines otherwise.
TransferProgress::Options transfer_view_options() {
    TransferProgress::Options o;
    o.live = wants_live_transfer_view(STDOUT_FILENO);
    o.width_fd = o.live ? STDOUT_FILENO : -1;
    return o;
}

struct PullFlags {
    std::string ref;
    std::string platform;
    bool quiet = false;
    bool all_tags = false;
};

// "latest: Pulling from library/busybox" names the repository as Docker
// does: its path, without the domain.
std::string pulling_line(const store::Reference& ref) {
    return fmt::format("{}: Pulling from {}", ref.digest ? ref.digest->str() : ref.tag, ref.path);
}

void run_pull(const GlobalOptions& global, const PullFlags& f) {
    if (f.all_tags)
        throw Error(ErrorKind::kUsage, "strata pull does not support --all-tags; pull each tag");
    store::Reference ref = store::Reference::parse(f.ref);
    if (ref.name_only()) {
        if (!f.quiet) std::printf("Using default tag: latest\n");
        ref = ref.with_default_tag();
    }
    registry::PullOptions opts;
    const planner::Platform host = planner::host_platform();
    opts.platform.os = host.os;
    opts.platform.architecture = host.architecture;
    opts.platform.variant = host.variant;
    if (!f.platform.empty()) {
        const auto p = planner::parse_platform(f.platform);
        if (!p)
            throw Error(
                ErrorKind::kUsage,
                fmt::format("invalid platform \"{}\": expected os/arch[/variant]", f.platform));
        opts.platform.os = p->os.empty() ? "linux" : p->os;
        opts.platform.architecture = p->architecture;
        opts.platform.variant = p->variant;
        opts.platform_given = true;
    }
    if (!f.quiet) {
        std::printf("%s\n", pulling_line(ref).c_str());
        std::fflush(stdout);
        auto view = std::make_shared<TransferProgress>(stdout, transfer_view_options());
        opts.progress = [view](const registry::PullEvent& e) { view->pull(e); };
    }
    auto store = open_store(global);
    auto session = open_session(global);
    registry::RegistryClient& client = session->puller(ref.domain);
    registry::RegistryImageSource source(client, ref.domain, ref.path);
    const registry::PullResult r = registry::pull_image(*store, source, ref, opts);
    if (f.quiet) {
        std::printf("%s\n", ref.str().c_str());
        return;
    }
    std::printf("Digest: %s\n", r.resolved.str().c_str());
    const bool changed = r.newer || r.replaced || ref.digest;
    std::printf("Status: %s for %s\n", changed ? "Downloaded newer image" : "Image is up to date",
                ref.familiar().c_str());
    std::printf("%s\n", ref.str().c_str());
}

struct PushFlags {
    std::string source;
    std::string dest;
    bool quiet = false;
    std::string compression;  // "": gzip for plain layers, compressed ones as they are
};

void run_push(const GlobalOptions& global, const PushFlags& f) {
    auto store = open_store(global);
    store::Reference src = store::Reference::parse(f.source);
    if (src.name_only() && f.dest.empty()) {
        if (!f.quiet) std::printf("Using default tag: latest\n");
        src = src.with_default_tag();
    }
    const store::ImageMatch match = store->lookup(f.source);
    store::Reference dest = f.dest.empty() ? src : store::Reference::parse(f.dest);
    if (dest.digest) throw Error(ErrorKind::kUsage, "cannot push to a digest reference: " + f.dest);
    if (dest.name_only()) dest = dest.with_default_tag();

    registry::PushOptions opts;
    // Given: every layer leaves in that compression (buildx's
    // force-compression); else a pulled layer goes back as it came.
    if (!f.compression.empty()) {
        opts.compression = store::parse_compression(f.compression);
        opts.force_compression = true;
    }
    // Other repositories of the same registry that have this image (it was
    // pulled or pushed under another name there): cross-repository mounts.
    std::set<std::string> from;
    for (const auto& n : store->names().names_of(match.image.manifest))
        if (n.domain == dest.domain && n.path != dest.path) from.insert(n.path);
    opts.mount_from.assign(from.begin(), from.end());
    if (!f.quiet) {
        std::printf("The push refers to repository [%s]\n", dest.repository().c_str());
        std::fflush(stdout);
        auto view = std::make_shared<TransferProgress>(stdout, transfer_view_options());
        opts.progress = [view](const registry::PushEvent& e) { view->push(e); };
    }
    auto session = open_session(global);
    const registry::PushResult r = registry::push_image(*store, session->pusher(dest.domain),
                                                        dest.path, dest.tag, match.image, opts);
    // Pushed under a new name: the store knows it by that name too, as
    // `docker tag` + `docker push` would leave it.
    if (!f.dest.empty()) {
        auto txn = store->begin();
        txn.tag(dest, match.image.manifest);
        txn.commit();
    }
    if (f.quiet)
        std::printf("%s@%s\n", dest.repository().c_str(), r.manifest.str().c_str());
    else
        std::printf("%s: digest: %s size: %llu\n", dest.tag.c_str(), r.manifest.str().c_str(),
                    static_cast<unsigned long long>(r.manifest_size));
}

}  // namespace

std::unique_ptr<registry::RegistrySession> open_registry_session(const GlobalOptions& global) {
    return std::make_unique<registry::RegistrySession>(
        registry_hosts(global.registry),
        registry::make_credential_lookup(
            registry::default_docker_config_dir(),
            [](const std::string& m) { std::fprintf(stderr, "WARNING: %s\n", m.c_str()); }));
}

executor::ImagePuller make_image_puller(const GlobalOptions& global, store::ImageStore& store) {
    return make_image_puller(std::make_shared<LazyRegistrySession>(global), store);
}

executor::ImagePuller make_image_puller(std::shared_ptr<LazyRegistrySession> session,
                                        store::ImageStore& store) {
    return [session, &store](const store::Reference& ref_in, const planner::Platform& platform,
                             const executor::PullLog& log) {
        const store::Reference ref = ref_in.digest ? ref_in : ref_in.with_default_tag();
        registry::PullOptions opts;
        opts.platform.os = platform.os;
        opts.platform.architecture = platform.architecture;
        opts.platform.variant = platform.variant;
        registry::RegistryImageSource source(session->get().puller(ref.domain), ref.domain,
                                             ref.path);
        if (log) opts.progress = build_pull_progress(ref.str(), log);
        return registry::pull_image(store, source, ref, opts).image;
    };
}

void add_pull_push_commands(CLI::App& app, const GlobalOptions& global) {
    auto pf = std::make_shared<PullFlags>();
    CLI::App* pull = app.add_subcommand("pull", "Download an image from a registry");
    pull->add_option("NAME", pf->ref, "NAME[:TAG|@DIGEST]")->required();
    pull->add_option("--platform", pf->platform,
                     "Set platform if server is multi-platform capable");
    pull->add_flag("-q,--quiet", pf->quiet, "Suppress verbose output");
    pull->add_flag("-a,--all-tags", pf->all_tags, "Download all tagged images in the repository");
    pull->callback([&global, pf] { run_pull(global, *pf); });

    auto sf = std::make_shared<PushFlags>();
    CLI::App* push = app.add_subcommand("push", "Upload an image to a registry");
    push->add_option("NAME", sf->source, "NAME[:TAG] of the image in the store")->required();
    push->add_option("DEST", sf->dest, "push it as DEST (NAME[:TAG]) instead");
    push->add_flag("-q,--quiet", sf->quiet, "Suppress verbose output");
    push->add_option("--compression", sf->compression,
                     "Compress every layer this way (gzip, zstd, uncompressed); default: "
                     "gzip for layers the store keeps as plain tars, others as they are");
    push->callback([&global, sf] { run_push(global, *sf); });
}

}  // namespace strata::cli
