// `strata images [--digests] [-q] [--no-trunc] [--format table|json] [-f KEY=VALUE]...
// [REPOSITORY[:TAG]]`
#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "base/error.hpp"
#include "base/go/time.hpp"
#include "cli/filter_args.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "frontend/instructions.hpp"

namespace strata::cli {
namespace {

struct ImagesOptions {
    bool digests = false;
    bool quiet = false;
    bool no_trunc = false;
    bool all = false;  // accepted for Docker compatibility: strata has no intermediate images
    std::string format = "table";
    std::string filter;
    std::vector<std::string> filters;  // -f KEY=VALUE
};

// Docker's image filters (daemon/images/images.go): dangling=true|false,
// label=KEY[=VALUE], before=IMAGE, since=IMAGE (created strictly before or
// after that image), until=TIME, reference=PATTERN (path.Match against the
// familiar name with its tag, or without it; only the matching names are
// listed).
struct ImageFilter {
    FilterArgs args;
    std::optional<bool> dangling;
    std::optional<store::Timestamp> before, since, until;

    static ImageFilter parse(const std::vector<std::string>& given, store::ImageStore& store) {
        ImageFilter f;
        f.args = FilterArgs::parse(given,
                                   {"dangling", "label", "before", "since", "reference", "until"});
        for (const std::string& v : f.args.values("dangling")) {
            if (v != "true" && v != "false")
                throw Error(ErrorKind::kUsage, fmt::format("invalid filter 'dangling={}'", v));
            f.dangling = v == "true";
        }
        const auto created = [&](const std::string& image) {
            return store::parse_timestamp(store.lookup(image).image.created)
                .value_or(store::Timestamp{});
        };
        for (const std::string& v : f.args.values("before"))
            f.before = created(v);
        for (const std::string& v : f.args.values("since"))
            f.since = created(v);
        for (const std::string& v : f.args.values("until"))
            f.until = until_time(v);
        return f;
    }

    static bool reference_matches(const std::string& pattern, const store::Reference& n) {
        const auto glob = [&](const std::string& text) {
            return ::fnmatch(pattern.c_str(), text.c_str(), FNM_PATHNAME) == 0;
        };
        return glob(n.familiar()) || glob(n.familiar_repository());
    }

    // Whether the image passes; `names` keeps only the names reference=
    // lets through (none left: the image is not listed).
    bool keep(const store::ImageStore& store, const store::ImageRecord& img,
              std::vector<store::Reference>& names) const {
        if (dangling && *dangling != names.empty()) return false;
        const auto t = store::parse_timestamp(img.created).value_or(store::Timestamp{});
        if (before && !(t < *before)) return false;
        if (since && !(t > *since)) return false;
        if (until && !(t < *until)) return false;
        if (args.has("reference")) {
            std::erase_if(names, [&](const store::Reference& n) {
                const auto& patterns = args.values("reference");
                return std::none_of(patterns.begin(), patterns.end(),
                                    [&](const std::string& p) { return reference_matches(p, n); });
            });
            if (names.empty()) return false;
        }
        // The config is read only when a label= asks for it.
        return !args.has("label") || args.labels_match(store.config(img).config.labels);
    }
};

struct Row {
    std::string repository = "<none>";
    std::string tag = "<none>";
    store::ImageRecord* image = nullptr;  // in run_images' list, measured there
};

void run_images(const GlobalOptions& global, const ImagesOptions& opts) {
    if (opts.format != "table" && opts.format != "json")
        throw Error(ErrorKind::kUsage,
                    fmt::format("--format: expected table or json, got \"{}\"", opts.format));
    auto store = open_store(global);
    auto names = store->names();
    // A damaged record must not hide the others: warn, list the rest
    // (`strata store check` says more).
    std::vector<std::string> problems;
    auto images = store->images(&problems);
    for (const auto& p : problems)
        fmt::print(stderr, "strata: warning: {}\n", p);
    std::optional<store::Reference> filter;
    if (!opts.filter.empty()) filter = store::Reference::parse(opts.filter);
    const ImageFilter filters = ImageFilter::parse(opts.filters, *store);

    std::vector<Row> rows;
    for (auto& img : images) {
        auto img_names = names.names_of(img.manifest);
        if (filter) {
            std::erase_if(img_names, [&](const store::Reference& n) {
                return n.repository() != filter->repository() ||
                       (!filter->tag.empty() && n.tag != filter->tag);
            });
            if (img_names.empty()) continue;
        }
        if (!filters.keep(*store, img, img_names)) continue;
        if (img_names.empty()) rows.push_back(Row{"<none>", "<none>", &img});
        for (const auto& n : img_names)
            rows.push_back(Row{n.familiar_repository(), n.tag, &img});
    }
    // Newest first, as `docker images` lists them.
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        auto ta = store::parse_timestamp(a.image->created).value_or(store::Timestamp{});
        auto tb = store::parse_timestamp(b.image->created).value_or(store::Timestamp{});
        if (ta != tb) return ta > tb;
        return std::tie(a.repository, a.tag) < std::tie(b.repository, b.tag);
    });

    auto id = [&](const store::ImageRecord& img) {
        return opts.no_trunc ? img.config.str() : store::short_id(img.config);
    };
    if (opts.quiet) {
        for (const auto& r : rows)
            fmt::print("{}\n", id(*r.image));
        return;
    }
    // Pulled layers are measured when first shown, each image once.
    std::set<store::ImageRecord*> measured_images;
    for (const auto& r : rows)
        if (measured_images.insert(r.image).second) *r.image = measured(*store, *r.image);
    if (opts.format == "json") {
        for (const auto& r : rows) {
            nlohmann::ordered_json j;
            j["Containers"] = "N/A";
            j["CreatedAt"] = created_at(r.image->created);
            j["CreatedSince"] = created_since(r.image->created);
            j["Digest"] = r.image->manifest.str();
            j["ID"] = id(*r.image);
            j["Repository"] = r.repository;
            j["SharedSize"] = "N/A";
            j["Size"] = human_size(r.image->unpacked_size());
            j["Tag"] = r.tag;
            j["UniqueSize"] = "N/A";
            j["VirtualSize"] = human_size(r.image->unpacked_size());
            fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        return;
    }
    std::vector<std::string> header{"REPOSITORY", "TAG"};
    if (opts.digests) header.push_back("DIGEST");
    for (const char* h : {"IMAGE ID", "CREATED", "SIZE"})
        header.emplace_back(h);
    Table table(header);
    for (const auto& r : rows) {
        std::vector<std::string> cells{r.repository, r.tag};
        if (opts.digests) cells.push_back(r.image->manifest.str());
        cells.push_back(id(*r.image));
        cells.push_back(created_since(r.image->created));
        cells.push_back(human_size(r.image->unpacked_size()));
        table.add(std::move(cells));
    }
    fmt::print("{}", table.render());
}

}  // namespace

void add_images_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<ImagesOptions>();
    CLI::App* cmd = app.add_subcommand("images", "List images");
    cmd->add_flag("--digests", opts->digests, "Show digests");
    cmd->add_flag("-q,--quiet", opts->quiet, "Only show image IDs");
    cmd->add_flag("--no-trunc", opts->no_trunc, "Don't truncate output");
    cmd->add_flag("-a,--all", opts->all, "Show all images (strata keeps no intermediate images)");
    cmd->add_option("--format", opts->format, "Output format: table (default) or json");
    cmd->add_option("-f,--filter", opts->filters,
                    "Filter output: dangling=true|false, label=KEY[=VALUE], before=IMAGE, "
                    "since=IMAGE, until=TIME, reference=PATTERN");
    cmd->add_option("repository", opts->filter, "Only images in REPOSITORY[:TAG]");
    cmd->callback([opts, &global] { run_images(global, *opts); });
}

}  // namespace strata::cli
