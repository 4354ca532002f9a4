// What the build command needs from pull and push (pull_push_commands.cpp,
// build_push.cpp).
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "cli/commands.hpp"
#include "executor/store_image_resolver.hpp"
#include "registry/session.hpp"
#include "store/image_store.hpp"

namespace strata::cli {

// The registries configured as for `strata pull` and `push`: hosts
// (daemon.json, certs.d, --insecure-registry) and credentials (DOCKER_CONFIG).
std::unique_ptr<registry::RegistrySession> open_registry_session(const GlobalOptions& global);

// A session opened on first use — a build that pulls and pushes nothing
// reads no registry configuration — and shared by a build's FROM pulls and
// its pushes (one client per domain, one token cache).
class LazyRegistrySession {
  public:
    explicit LazyRegistrySession(const GlobalOptions& global) : global_(global) {}
    registry::RegistrySession& get() {
        std::call_once(once_, [this] { session_ = open_registry_session(global_); });
        return *session_;
    }

  private:
    const GlobalOptions& global_;
    std::once_flag once_;
    std::unique_ptr<registry::RegistrySession> session_;
};

// Pulls a FROM image into `store` from its registry through `session`.
executor::ImagePuller make_image_puller(std::shared_ptr<LazyRegistrySession> session,
                                        store::ImageStore& store);
// The same with a session of its own.
executor::ImagePuller make_image_puller(const GlobalOptions& global, store::ImageStore& store);

// `strata build --push` / `--output type=registry`: pushes `image` to each of
// `dests` (names with a tag) in order, printing `docker push`'s lines to
// `out` (nullptr: silent). Other names of the image in the same registry are
// offered as cross-repository mount sources, so the second repository mounts
// what the first received.
void push_built_image(LazyRegistrySession& session, store::ImageStore& store,
                      const store::ImageRecord& image, const std::vector<store::Reference>& dests,
                      std::FILE* out);

}  // namespace strata::cli
