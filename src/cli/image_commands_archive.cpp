// `strata save [-o FILE] IMAGE...`, `strata load [-i FILE] [-q]`,
// `strata import [-c CHANGE]... [-m MSG] FILE|- [REPOSITORY[:TAG]]`
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "store/docker_archive_load.hpp"
#include "store/docker_archive_save.hpp"
#include "store/image_import.hpp"

namespace strata::cli {
namespace {

UniqueFd open_input(const std::string& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", file);
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} is a directory: give a tar archive (a directory can be "
                                "packed with tar -C DIR -cf FILE .)",
                                file));
    return fd;
}

// --- save --------------------------------------------------------------------

struct SaveOptions {
    std::vector<std::string> images;
    std::string output;
};

void run_save(const GlobalOptions& global, const SaveOptions& opts) {
    auto store = open_store(global);
    auto selected = store::select_for_save(*store, opts.images);
    if (opts.output.empty() || opts.output == "-") {
        if (::isatty(STDOUT_FILENO))
            throw Error(ErrorKind::kUsage,
                        "cowardly refusing to save to a terminal. Use the -o flag or redirect");
        store::write_archive(*store, selected, [](const void* data, size_t n) {
            write_all(STDOUT_FILENO, data, n, "standard output");
        });
        return;
    }
    // Written next to the target and renamed: no partial file on failure.
    AtomicFile out(opts.output);
    store::write_archive(*store, selected, [&](const void* data, size_t n) { out.write(data, n); });
    out.commit();
}

// --- load --------------------------------------------------------------------

struct LoadCmdOptions {
    std::string input;
    bool quiet = false;
    std::string platform;
};

void set_platform(const std::string& spec, std::string& os, std::string& arch,
                  std::string& variant) {
    if (spec.empty()) return;
    auto a = spec.find('/');
    if (a == std::string::npos)
        throw Error(ErrorKind::kUsage,
                    fmt::format("--platform: expected OS/ARCH[/VARIANT], got \"{}\"", spec));
    auto b = spec.find('/', a + 1);
    os = spec.substr(0, a);
    arch = spec.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    variant = b == std::string::npos ? "" : spec.substr(b + 1);
}

void run_load(const GlobalOptions& global, const LoadCmdOptions& opts) {
    UniqueFd owned;
    int fd = STDIN_FILENO;
    std::string what = "archive <stdin>";
    if (!opts.input.empty() && opts.input != "-") {
        owned = open_input(opts.input);
        fd = owned.get();
        what = "archive " + opts.input;
    } else if (::isatty(STDIN_FILENO)) {
        throw Error(ErrorKind::kUsage,
                    "requested load from stdin, but stdin is a terminal: use -i FILE or redirect");
    }
    store::LoadOptions lopts;
    set_platform(opts.platform, lopts.os, lopts.architecture, lopts.variant);
    auto store = open_store(global);
    auto report = store::load_archive(*store, fd, what, lopts);
    for (const auto& [name, old] : report.replaced) {
        auto old_image = store->image(old);
        fmt::print("The image {} already exists, renaming the old one with ID {} to empty string\n",
                   name.familiar(), old_image ? old_image->config.str() : old.str());
    }
    for (const auto& img : report.images) {
        if (img.names.empty()) fmt::print("Loaded image ID: {}\n", img.image.config.str());
        for (const auto& n : img.names)
            fmt::print("Loaded image: {}\n", n.familiar());
    }
}

// --- import ------------------------------------------------------------------

struct ImportCmdOptions {
    std::string source;
    std::string name;
    std::vector<std::string> changes;
    std::string message;
    std::string platform;
    std::string compression = "none";
};

void run_import(const GlobalOptions& global, const ImportCmdOptions& opts) {
    store::ImportOptions iopts;
    if (!opts.name.empty()) {
        auto ref = store::Reference::parse(opts.name);
        if (ref.digest)
            throw Error(
                ErrorKind::kUsage,
                fmt::format("refusing to create a tag with a digest reference: {}", opts.name));
        iopts.name = ref.with_default_tag();
    }
    iopts.changes = opts.changes;
    iopts.message = opts.message;
    iopts.compression = store::parse_compression(opts.compression);
    set_platform(opts.platform, iopts.os, iopts.architecture, iopts.variant);
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
        char* end = nullptr;
        long long v = std::strtoll(sde, &end, 10);
        if (*end != '\0' || v < 0)
            throw Error(ErrorKind::kUsage,
                        fmt::format("SOURCE_DATE_EPOCH: not a number: \"{}\"", sde));
        iopts.source_date_epoch = v;
    }
    UniqueFd owned;
    int fd = STDIN_FILENO;
    iopts.source = opts.source;
    if (opts.source != "-") {
        owned = open_input(opts.source);
        fd = owned.get();
    } else if (::isatty(STDIN_FILENO)) {
        throw Error(ErrorKind::kUsage,
                    "import from stdin, but stdin is a terminal: redirect a tarball");
    }
    auto store = open_store(global);
    auto result = store::import_rootfs(*store, fd, iopts);
    fmt::print("{}\n", result.image.config.str());
}

}  // namespace

void add_save_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<SaveOptions>();
    CLI::App* cmd = app.add_subcommand(
        "save",
        "Save images to a tar archive (docker-save and OCI layout in one; stdout by default)");
    cmd->add_option("-o,--output", opts->output, "Write to a file, instead of STDOUT");
    cmd->add_option("images", opts->images, "IMAGE (NAME[:TAG], NAME, or ID)")->required();
    cmd->callback([opts, &global] { run_save(global, *opts); });
}

void add_load_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<LoadCmdOptions>();
    CLI::App* cmd = app.add_subcommand(
        "load", "Load images from a docker-save or OCI archive (tar, optionally compressed)");
    cmd->add_option("-i,--input", opts->input, "Read from tar archive file, instead of STDIN");
    cmd->add_flag("-q,--quiet", opts->quiet, "Suppress progress output");
    cmd->add_option("--platform", opts->platform,
                    "From multi-platform archives, load this OS/ARCH[/VARIANT] (default: host)");
    cmd->callback([opts, &global] { run_load(global, *opts); });
}

void add_import_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<ImportCmdOptions>();
    CLI::App* cmd = app.add_subcommand(
        "import", "Import a root filesystem tarball as a one-layer image ('-' for STDIN)");
    cmd->add_option("-c,--change", opts->changes,
                    "Apply a Dockerfile instruction to the image config (CMD, ENV, ...)")
        ->allow_extra_args(false);
    cmd->add_option("-m,--message", opts->message, "History comment for the imported image");
    cmd->add_option("--platform", opts->platform,
                    "Image platform OS/ARCH[/VARIANT] (default: host)");
    cmd->add_option(
        "--compression", opts->compression,
        "How to store the layer: none (default; compressed on save/push), gzip or zstd");
    cmd->add_option("file", opts->source, "Tarball (any compression), or - for STDIN")->required();
    cmd->add_option("repository", opts->name, "REPOSITORY[:TAG] to name the image");
    cmd->callback([opts, &global] { run_import(global, *opts); });
}

}  // namespace strata::cli
