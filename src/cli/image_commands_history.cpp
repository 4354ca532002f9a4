// `strata history [--no-trunc] [-q] [-H=false] [--format table|json] IMAGE`
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"

namespace strata::cli {
namespace {

struct HistoryOptions {
    std::string image;
    bool no_trunc = false;
    bool quiet = false;
    bool human = true;
    std::string format = "table";
};

struct HistoryRow {
    std::string id;  // the image ID on the newest row, "<missing>" below it
    std::string created;
    std::string created_by;
    std::string comment;
    uint64_t size = 0;
};

// One row per history entry, newest first, with each non-empty entry's layer
// size; an image without history gets one row per layer.
std::vector<HistoryRow> history_rows(const store::ImageRecord& img,
                                     const store::ImageConfig& config) {
    std::vector<HistoryRow> rows;
    size_t layer = 0;
    for (const auto& h : config.history) {
        HistoryRow r;
        r.created = h.created.value_or("");
        r.created_by = h.created_by;
        r.comment = h.comment;
        if (!h.empty_layer && layer < img.layers.size())
            r.size = img.layers[layer++].unpacked_size.value_or(0);
        rows.push_back(std::move(r));
    }
    for (; layer < img.layers.size(); ++layer) {
        HistoryRow r;
        r.created = config.created.value_or("");
        r.size = img.layers[layer].unpacked_size.value_or(0);
        rows.push_back(std::move(r));
    }
    std::reverse(rows.begin(), rows.end());
    for (auto& r : rows)
        r.id = "<missing>";
    return rows;
}

void run_history(const GlobalOptions& global, const HistoryOptions& opts) {
    if (opts.format != "table" && opts.format != "json")
        throw Error(ErrorKind::kUsage,
                    fmt::format("--format: expected table or json, got \"{}\"", opts.format));
    auto store = open_store(global);
    auto match = store->lookup(opts.image);
    if (!opts.quiet) match.image = measured(*store, match.image);
    auto rows = history_rows(match.image, store->config(match.image));
    if (!rows.empty())
        rows.front().id =
            opts.no_trunc ? match.image.config.str() : store::short_id(match.image.config);

    auto created = [&](const HistoryRow& r) {
        return opts.human ? created_since(r.created) : r.created;
    };
    auto size = [&](const HistoryRow& r) {
        return opts.human ? human_size(r.size) : std::to_string(r.size);
    };
    auto created_by = [&](const HistoryRow& r) {
        std::string s = r.created_by;
        std::replace(s.begin(), s.end(), '\t', ' ');
        return opts.no_trunc ? s : ellipsis(s, 45);
    };
    if (opts.quiet) {
        for (const auto& r : rows)
            fmt::print("{}\n", r.id);
        return;
    }
    if (opts.format == "json") {
        for (const auto& r : rows) {
            nlohmann::ordered_json j;
            j["Comment"] = r.comment;
            j["CreatedAt"] = r.created;
            j["CreatedBy"] = created_by(r);
            j["CreatedSince"] = created_since(r.created);
            j["ID"] = r.id;
            j["Size"] = size(r);
            fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        return;
    }
    Table table({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
    for (const auto& r : rows)
        table.add({r.id, created(r), created_by(r), size(r), r.comment});
    fmt::print("{}", table.render());
}

}  // namespace

void add_history_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<HistoryOptions>();
    CLI::App* cmd = app.add_subcommand("history", "Show the history of an image");
    cmd->add_flag("--no-trunc", opts->no_trunc, "Don't truncate output");
    cmd->add_flag("-q,--quiet", opts->quiet, "Only show image IDs");
    cmd->add_flag("-H,--human", opts->human,
                  "Print sizes and dates in human readable format (--human=false: raw)");
    cmd->add_option("--format", opts->format, "Output format: table (default) or json");
    cmd->add_option("image", opts->image, "IMAGE (name or ID)")->required();
    cmd->callback([opts, &global] { run_history(global, *opts); });
}

}  // namespace strata::cli
