// `strata build --output/-o`, `--annotation`, `--rewrite-timestamp` and
// `--push`, spelled as `docker buildx build` spells them (docs/build.md,
// "--output"): parsed before the build starts, so a mistake costs nothing;
// the exports run after it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "store/compression.hpp"
#include "store/image_store.hpp"

namespace strata::cli {

// The flags as given.
struct BuildOutputFlags {
    std::vector<std::string> outputs;      // -o/--output, repeatable
    std::vector<std::string> annotations;  // --annotation, repeatable
    bool rewrite_timestamp = false;        // --rewrite-timestamp
    bool push = false;                     // --push: every -t name
};
void add_build_output_flags(CLI::App& cmd, BuildOutputFlags& flags);

// One `--output`: `type=TYPE[,dest=…][,name=…][,rewrite-timestamp=BOOL]`,
// or `DIR` (type=local,dest=DIR), or `-` (type=tar to stdout).
struct OutputSpec {
    enum class Type { kImage, kDocker, kOci, kTar, kLocal };
    Type type = Type::kImage;
    std::string dest;                       // "-": standard output; empty: none
    std::vector<store::Reference> names;    // name=… (comma-separated when quoted)
    std::optional<bool> rewrite_timestamp;  // rewrite-timestamp=BOOL
    // compression=gzip|zstd|uncompressed: the layers of a docker/oci archive.
    store::Compression compression = store::Compression::kGzip;
    bool push = false;  // type=registry, or type=image,push=true
    std::string text;   // as given, for messages
};
// type=registry is type=image,push=true. Error(kUsage) for a malformed spec,
// an unknown type or option, push=true on a type other than image.
OutputSpec parse_output(const std::string& text);

// `KEY=VALUE`, `manifest:KEY=VALUE` or `manifest[PLATFORM]:KEY=VALUE` (the
// host's platform); later keys win. The other levels BuildKit knows (index,
// manifest-descriptor, index-descriptor) are Error(kUsage): strata writes no
// index for a build.
std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& flags);

// Everything the flags decide, checked before the build.
struct OutputPlan {
    std::vector<OutputSpec> outputs;  // without the implicit type=image
    std::map<std::string, std::string> annotations;
    std::vector<store::Reference> image_names;  // type=image,name=…: more tags
    bool rewrite_timestamp = false;             // asked for by the flag or an output
    bool rewrite_timestamp_off = false;         // rewrite-timestamp=false given
    // Pushed after the build (push_destinations): the names of type=registry
    // / push=true outputs, and every name of the image (-t) when --push or a
    // pushing output names none.
    std::vector<store::Reference> push_names;
    bool push_tags = false;
};
OutputPlan plan_outputs(const BuildOutputFlags& flags, bool quiet);

// The names a build pushes, without repeats: plan.push_names, then `tags`
// when plan.push_tags. Error(kUsage) when a push is asked for and there is no
// name (buildx: "tag is needed when pushing to registry").
std::vector<store::Reference> push_destinations(const OutputPlan& plan,
                                                const std::vector<store::Reference>& tags);

// After the build: warnings about rewrite-timestamp (on stderr), then every
// output in order. `tags` are the image's names (-t), used by type=docker|oci
// when the output names none.
void export_outputs(const OutputPlan& plan, store::ImageStore& store,
                    const store::ImageRecord& image, const std::vector<store::Reference>& tags,
                    std::optional<int64_t> source_date_epoch);

}  // namespace strata::cli
