// `strata import`: a one-layer image from a root filesystem tarball (any
// compression), as `docker import` makes one. Offline tests get their base
// images this way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::store {

struct ImportOptions {
    std::optional<Reference> name;  // tagged (with_default_tag); none: an unnamed image
    std::string source = "-";       // for the default history comment "Imported from <source>"
    std::string message;            // history comment; empty: "Imported from <source>"
    Compression compression = Compression::kNone;
    // The config's and history's "created"; default: now.
    std::optional<int64_t> source_date_epoch;
    // Dockerfile instructions applied to the config, as `docker import -c`:
    // CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL,
    // ONBUILD, SHELL.
    std::vector<std::string> changes;
    // Platform of the image; empty fields: the host's.
    std::string os;
    std::string architecture;
    std::string variant;
};

struct ImportResult {
    ImageRecord image;
    std::optional<Digest> replaced;  // the image the name pointed at before, if another
};

ImportResult import_rootfs(ImageStore& store, int fd, const ImportOptions& opts);

// Applies one `docker import --change` instruction to `config`.
// Error(kUsage) naming the instruction when it is unsupported or malformed.
void apply_config_change(ContainerConfig& config, std::string_view instruction);

}  // namespace strata::store
