#include "cli/build_output.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "base/unique_fd.hpp"
#include "planner/build_plan.hpp"
#include "store/docker_archive_save.hpp"
#include "store/rootfs_export.hpp"

namespace strata::cli {

namespace {

[[noreturn]] void usage(const std::string& message) {
    throw Error(ErrorKind::kUsage, message);
}

// The fields of a CSV record, as buildx reads --output: commas separate,
// a field in double quotes may hold commas, "" is a quote inside one.
std::vector<std::string> csv_fields(const std::string& text, const std::string& flag) {
    std::vector<std::string> out;
    std::string field;
    size_t i = 0;
    for (;;) {
        field.clear();
        if (i < text.size() && text[i] == '"') {
            ++i;
            for (;;) {
                if (i >= text.size())
                    usage(fmt::format("{} \"{}\": a quote is not closed", flag, text));
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += text[i++];
            }
            if (i < text.size() && text[i] != ',')
                usage(fmt::format("{} \"{}\": text after a closing quote", flag, text));
        } else {
            while (i < text.size() && text[i] != ',')
                field += text[i++];
        }
        out.push_back(field);
        if (i >= text.size()) return out;
        ++i;  // the comma
    }
}

std::vector<store::Reference> parse_names(const std::string& value, const std::string& spec) {
    std::vector<store::Reference> out;
    for (const auto& n : csv_fields(value, "--output")) {
        if (n.empty()) continue;
        auto r = store::Reference::try_parse(n);
        if (!r || r->digest)
            usage(fmt::format("--output \"{}\": invalid name \"{}\": invalid reference format",
                              spec, n));
        out.push_back(r->with_default_tag());
    }
    return out;
}

const char* type_name(OutputSpec::Type t) {
    switch (t) {
        case OutputSpec::Type::kImage:
            return "image";
        case OutputSpec::Type::kDocker:
            return "docker";
        case OutputSpec::Type::kOci:
            return "oci";
        case OutputSpec::Type::kTar:
            return "tar";
        case OutputSpec::Type::kLocal:
            return "local";
    }
    return "?";
}

// A sink for `dest`: standard output for "-", else a file written beside
// its final name and renamed into place when complete (no partial file).
template <typename Write>
void write_to_dest(const std::string& dest, Write&& write) {
    if (dest == "-") {
        write([](const void* d, size_t n) { write_all(STDOUT_FILENO, d, n, "standard output"); });
        return;
    }
    AtomicFile out(dest);
    write([&out](const void* d, size_t n) { out.write(d, n); });
    out.commit();
}

}  // namespace

void add_build_output_flags(CLI::App& cmd, BuildOutputFlags& flags) {
    cmd.add_option("-o,--output", flags.outputs,
                   "Output destination: type=image (the store, default), "
                   "type=docker|oci[,dest=FILE][,name=NAME], type=tar,dest=FILE|-, "
                   "type=local,dest=DIR, DIR, or - (a tar on stdout); repeatable");
    cmd.add_option("--annotation", flags.annotations,
                   "Add an annotation to the image manifest: [manifest:]KEY=VALUE; repeatable");
    cmd.add_flag("--rewrite-timestamp", flags.rewrite_timestamp,
                 "Clamp file timestamps to SOURCE_DATE_EPOCH (strata does whenever an epoch is "
                 "set; accepted as BuildKit's explicit spelling)");
    cmd.add_flag("--push", flags.push,
                 "Push the image to the registry of each -t name (--output=type=registry)");
}

OutputSpec parse_output(const std::string& text) {
    OutputSpec out;
    out.text = text;
    const auto fields = csv_fields(text, "--output");
    // buildx: a lone value that is not type=… is a directory, "-" a tar on stdout.
    if (fields.size() == 1 && fields[0].find('=') == std::string::npos) {
        if (fields[0].empty()) usage("--output: empty value");
        out.type = fields[0] == "-" ? OutputSpec::Type::kTar : OutputSpec::Type::kLocal;
        out.dest = fields[0];
        return out;
    }
    std::optional<std::string> type;
    bool push = false;
    for (const auto& f : fields) {
        const size_t eq = f.find('=');
        if (eq == std::string::npos)
            usage(
                fmt::format("--output \"{}\": invalid value \"{}\": expected KEY=VALUE", text, f));
        std::string key = f.substr(0, eq);
        for (auto& c : key)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::string value = f.substr(eq + 1);
        if (key == "type") {
            type = value;
        } else if (key == "dest") {
            out.dest = value;
        } else if (key == "name") {
            auto names = parse_names(value, text);
            out.names.insert(out.names.end(), names.begin(), names.end());
        } else if (key == "rewrite-timestamp" || key == "push") {
            const auto b = go::strconv::parse_bool(value);
            if (!b)
                usage(
                    fmt::format("--output \"{}\": invalid value \"{}\" for {}: expected true or "
                                "false",
                                text, value, key));
            if (key == "push")
                push = *b;
            else
                out.rewrite_timestamp = *b;
        } else if (key == "compression" &&
                   (value == "gzip" || value == "zstd" || value == "uncompressed")) {
            out.compression = store::parse_compression(value);
        } else if (key == "oci-mediatypes" && go::strconv::parse_bool(value).value_or(false)) {
            // Likewise: strata's manifests and layers use the OCI media types.
        } else {
            usage(fmt::format(
                "--output \"{}\": strata does not support the option \"{}\" (it knows type, dest, "
                "name, rewrite-timestamp, push, compression=gzip|zstd|uncompressed, "
                "oci-mediatypes=true)",
                text, f));
        }
    }
    if (!type) usage(fmt::format("--output \"{}\": type is required for output", text));
    // buildx: type=registry is type=image,push=true.
    out.push = push || *type == "registry";
    if (*type == "image" || *type == "registry")
        out.type = OutputSpec::Type::kImage;
    else if (*type == "docker")
        out.type = OutputSpec::Type::kDocker;
    else if (*type == "oci")
        out.type = OutputSpec::Type::kOci;
    else if (*type == "tar")
        out.type = OutputSpec::Type::kTar;
    else if (*type == "local")
        out.type = OutputSpec::Type::kLocal;
    else
        usage(
            fmt::format("--output \"{}\": unknown type \"{}\" (strata writes image, docker, oci, "
                        "tar, local and registry)",
                        text, *type));
    switch (out.type) {
        case OutputSpec::Type::kImage:
            if (!out.dest.empty())
                usage(
                    fmt::format("--output \"{}\": type=image has no dest (the image goes to the "
                                "store; use type=docker,dest=FILE for an archive)",
                                text));
            break;
        case OutputSpec::Type::kLocal:
            if (out.dest.empty() || out.dest == "-")
                usage(
                    fmt::format("--output \"{}\": dest directory is required for local exporter "
                                "(for a tar on stdout: type=tar,dest=-)",
                                text));
            [[fallthrough]];
        case OutputSpec::Type::kTar:
            if (!out.names.empty())
                usage(
                    fmt::format("--output \"{}\": type={} writes files, not an image: name= "
                                "does not apply",
                                text, *type));
            break;
        case OutputSpec::Type::kDocker:
        case OutputSpec::Type::kOci:
            break;
    }
    if (out.push && out.type != OutputSpec::Type::kImage)
        usage(fmt::format("--output \"{}\": push=true applies to type=image (or type=registry)",
                          text));
    // As buildx: an archive without dest goes to stdout, never to a terminal.
    // type=docker without dest "loads" the image: with strata it is in the store.
    if (out.dest.empty() &&
        (out.type == OutputSpec::Type::kTar || out.type == OutputSpec::Type::kOci)) {
        if (::isatty(STDOUT_FILENO))
            usage(
                fmt::format("--output \"{}\": dest file is required for {} exporter. refusing "
                            "to write to console",
                            text, *type));
        out.dest = "-";
    }
    return out;
}

std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& flags) {
    std::map<std::string, std::string> out;
    for (const auto& a : flags) {
        const size_t eq = a.find('=');
        if (eq == std::string::npos)
            usage(fmt::format("invalid annotation \"{}\", expected key=value", a));
        std::string key = a.substr(0, eq);
        const std::string value = a.substr(eq + 1);
        // BuildKit's levels: TYPE[,TYPE…][PLATFORM]:KEY. strata writes the
        // manifest only (its builds make no index).
        if (const size_t colon = key.find(':'); colon != std::string::npos) {
            for (const auto& level : csv_fields(key.substr(0, colon), "--annotation")) {
                std::string type = level;
                if (const size_t br = level.find('['); br != std::string::npos) {
                    if (level.back() != ']')
                        usage(fmt::format("invalid annotation \"{}\": \"{}\" lacks a closing ']'",
                                          a, level));
                    type = level.substr(0, br);
                    const std::string platform = level.substr(br + 1, level.size() - br - 2);
                    const auto p = planner::parse_platform(platform);
                    if (!p)
                        usage(fmt::format("invalid annotation \"{}\": failed to parse platform {}",
                                          a, platform));
                    if (!(*p == planner::host_platform()))
                        usage(
                            fmt::format("invalid annotation \"{}\": strata builds for the host "
                                        "platform {} only",
                                        a, planner::host_platform().str()));
                }
                if (type == "index" || type == "manifest-descriptor" || type == "index-descriptor")
                    usage(fmt::format(
                        "--annotation \"{}\": strata writes annotations on the image manifest "
                        "only; the {} level is not supported (a strata build makes no image "
                        "index)",
                        a, type));
                if (type != "manifest")
                    usage(
                        fmt::format("invalid annotation \"{}\": unknown annotation type \"{}\" "
                                    "(manifest, index, manifest-descriptor, index-descriptor)",
                                    a, type));
            }
            key = key.substr(colon + 1);
        }
        if (key.empty()) usage(fmt::format("invalid annotation \"{}\": empty key", a));
        out[key] = value;
    }
    return out;
}

OutputPlan plan_outputs(const BuildOutputFlags& flags, bool quiet) {
    OutputPlan plan;
    plan.push_tags = flags.push;
    plan.annotations = parse_annotations(flags.annotations);
    plan.rewrite_timestamp = flags.rewrite_timestamp;
    bool to_stdout = false;
    for (const auto& text : flags.outputs) {
        OutputSpec spec = parse_output(text);
        if (spec.rewrite_timestamp) {
            plan.rewrite_timestamp = plan.rewrite_timestamp || *spec.rewrite_timestamp;
            plan.rewrite_timestamp_off = plan.rewrite_timestamp_off || !*spec.rewrite_timestamp;
        }
        if (spec.dest == "-") {
            if (to_stdout) usage("--output: only one output can go to standard output");
            if (quiet)
                usage(
                    "-q prints the image ID on standard output: it cannot be used with an "
                    "--output to standard output");
            to_stdout = true;
        }
        if (spec.type == OutputSpec::Type::kImage ||
            (spec.type == OutputSpec::Type::kDocker && spec.dest.empty())) {
            plan.image_names.insert(plan.image_names.end(), spec.names.begin(), spec.names.end());
            if (spec.push) {
                if (spec.names.empty()) plan.push_tags = true;
                plan.push_names.insert(plan.push_names.end(), spec.names.begin(), spec.names.end());
            }
            continue;  // the store: what every build writes
        }
        plan.outputs.push_back(std::move(spec));
    }
    return plan;
}

std::vector<store::Reference> push_destinations(const OutputPlan& plan,
                                                const std::vector<store::Reference>& tags) {
    std::vector<store::Reference> out;
    auto add = [&out](const store::Reference& r) {
        for (const auto& o : out)
            if (o.str() == r.str()) return;
        out.push_back(r);
    };
    for (const auto& r : plan.push_names)
        add(r);
    if (plan.push_tags) {
        for (const auto& r : tags)
            add(r);
        if (out.empty()) usage("tag is needed when pushing to registry (add -t HOST/REPO:TAG)");
    }
    return out;
}

void export_outputs(const OutputPlan& plan, store::ImageStore& store,
                    const store::ImageRecord& image, const std::vector<store::Reference>& tags,
                    std::optional<int64_t> source_date_epoch) {
    // BuildKit logs this in its daemon only; strata says it where it is seen.
    if (plan.rewrite_timestamp && !source_date_epoch)
        fmt::print(stderr,
                   "WARNING: rewrite-timestamp is specified, but no source-date-epoch was found "
                   "(set SOURCE_DATE_EPOCH or --source-date-epoch)\n");
    if (plan.rewrite_timestamp_off && source_date_epoch)
        fmt::print(stderr,
                   "WARNING: rewrite-timestamp=false: strata clamps timestamps to "
                   "SOURCE_DATE_EPOCH whenever it is set (layers are clamped as they are written "
                   "and shared through the cache)\n");
    store::RootfsExportOptions ro;
    ro.source_date_epoch = source_date_epoch;
    ro.same_owner = ::geteuid() == 0;
    for (const auto& out : plan.outputs) {
        try {
            switch (out.type) {
                case OutputSpec::Type::kDocker:
                case OutputSpec::Type::kOci: {
                    // One archive that is both a docker-save and an OCI layout
                    // (strata save's format): `docker load` and OCI tools read it.
                    store::SaveEntry entry{image, out.names.empty() ? tags : out.names};
                    write_to_dest(out.dest, [&](const store::ByteSink& sink) {
                        store::ExportOptions eo;
                        eo.compression = out.compression;
                        store::write_archive(store, {entry}, sink, eo);
                    });
                    break;
                }
                case OutputSpec::Type::kTar:
                    write_to_dest(out.dest, [&](const store::ByteSink& sink) {
                        store::export_rootfs_tar(store, image, sink, ro);
                    });
                    break;
                case OutputSpec::Type::kLocal:
                    // Files land in the user's directory as each layer is
                    // applied: a pulled layer is checked against its diffID
                    // first (ImageStore::measure, once per layer), so a
                    // lying one writes nothing there.
                    store::export_rootfs_dir(store, store.measure(image), out.dest, ro);
                    break;
                case OutputSpec::Type::kImage:
                    break;
            }
        } catch (const Error& e) {
            throw Error(e.kind(), fmt::format("exporting to type={} ({}): {}", type_name(out.type),
                                              out.text, e.what()));
        }
    }
}

}  // namespace strata::cli
