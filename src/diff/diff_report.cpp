// Text and JSON renderings of a DiffReport and of one image's layer changes.
// The JSON shape is documented in docs/reproducibility.md (schemaVersion 1).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "diff/image_diff.hpp"

namespace strata::diff {

using nlohmann::ordered_json;

namespace {

std::string short_digest(const std::string& d) {
    auto colon = d.find(':');
    return colon == std::string::npos ? d : d.substr(colon + 1, 12);
}

std::string side(const std::optional<std::string>& v) {
    return v ? *v : "(absent)";
}

std::string indent(const std::string& text, const std::string& pad) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        out += pad + text.substr(i, j - i) + "\n";
        i = j + 1;
    }
    return out;
}

std::string line_for(const Difference& d) {
    std::string what = d.path.empty() ? d.field : d.path;
    if (d.field == "presence") {
        if (d.path.empty()) return d.a ? "only in A: " + *d.a : "only in B: " + *d.b;
        return what + ": " + (d.a ? "only in A: " + *d.a : "only in B: " + *d.b);
    }
    if (d.field == "moved") return what + ": in " + side(d.a) + " of A, " + side(d.b) + " of B";
    if (d.field == "order") return "the same entries in another order in the tar";
    if (d.field == "tar")
        return "the tar bytes differ though every entry matches (header encoding): " + side(d.a) +
               " → " + side(d.b);
    if (!d.path.empty()) return what + ": " + d.field + " " + side(d.a) + " → " + side(d.b);
    return what + ": " + side(d.a) + " → " + side(d.b);
}

ordered_json side_json(const LoadedImage& img) {
    ordered_json j;
    j["name"] = img.name;
    j["manifest"] =
        img.manifest_digest.empty() ? ordered_json(nullptr) : ordered_json(img.manifest_digest);
    j["config"] = img.config_digest;
    j["layers"] = ordered_json::array();
    for (const auto& l : img.layers)
        j["layers"].push_back({{"diffID", l.diff_id}, {"createdBy", l.created_by}});
    return j;
}

}  // namespace

std::string identical_line(const DiffReport& report, const LoadedImage& a, const LoadedImage& b) {
    auto ig = ignore_names(report.ignored);
    if (a.config_digest == b.config_digest &&
        (a.manifest_digest == b.manifest_digest || a.manifest_digest.empty() ||
         b.manifest_digest.empty()))
        return "identical: " + a.config_digest + "\n";
    std::string list;
    for (const auto& n : ig)
        list += (list.empty() ? "" : ",") + n;
    return "identical" + (list.empty() ? std::string() : " ignoring " + list) + ": " +
           a.config_digest + " and " + b.config_digest + "\n";
}

std::string render_text(const DiffReport& report, const LoadedImage& a, const LoadedImage& b) {
    if (report.identical()) return identical_line(report, a, b);
    std::string out;
    out += fmt::format("A: {} (image {}{})\n", a.name, a.config_digest,
                       a.manifest_digest.empty() ? "" : ", manifest " + a.manifest_digest);
    out += fmt::format("B: {} (image {}{})\n", b.name, b.config_digest,
                       b.manifest_digest.empty() ? "" : ", manifest " + b.manifest_digest);
    std::string group;
    for (const auto& d : report.differences) {
        std::string g = d.scope == "layer" ? "layer " + std::to_string(d.layer) : d.scope;
        if (g != group) {
            group = g;
            if (d.scope == "layer") {
                const size_t i = size_t(d.layer - 1);
                const ImageLayer* la = i < a.layers.size() ? &a.layers[i] : nullptr;
                const ImageLayer* lb = i < b.layers.size() ? &b.layers[i] : nullptr;
                std::string step;
                if (la && lb && la->created_by != lb->created_by)
                    step = "A: " + la->created_by + " | B: " + lb->created_by;
                else
                    step = la ? la->created_by : lb->created_by;
                out += fmt::format(
                    "layer {} ({} → {}){}\n", d.layer, la ? short_digest(la->diff_id) : "none",
                    lb ? short_digest(lb->diff_id) : "none", step.empty() ? "" : ": " + step);
            } else if (d.scope == "merged") {
                out += "merged filesystem (not explained by a layer above):\n";
            } else {
                out += d.scope + ":\n";
            }
        }
        out += "  " + line_for(d) + "\n";
        if (!d.unified.empty())
            out += indent("--- A" + d.path + "\n+++ B" + d.path + "\n" + d.unified, "    ");
    }
    const size_t n = report.differences.size();
    std::string ig;
    for (const auto& name : ignore_names(report.ignored))
        ig += (ig.empty() ? "" : ",") + name;
    out += fmt::format("{} difference{}{}\n", n, n == 1 ? "" : "s",
                       ig.empty() ? "" : " (ignored: " + ig + ")");
    return out;
}

std::string render_json(const DiffReport& report, const LoadedImage& a, const LoadedImage& b) {
    ordered_json j;
    j["schemaVersion"] = 1;
    j["identical"] = report.identical();
    j["ignored"] = ignore_names(report.ignored);
    j["a"] = side_json(a);
    j["b"] = side_json(b);
    j["differences"] = ordered_json::array();
    for (const auto& d : report.differences) {
        ordered_json e;
        e["scope"] = d.scope;
        if (d.scope == "layer") e["layer"] = d.layer;
        if (!d.path.empty()) e["path"] = d.path;
        e["field"] = d.field;
        e["a"] = d.a ? ordered_json(*d.a) : ordered_json(nullptr);
        e["b"] = d.b ? ordered_json(*d.b) : ordered_json(nullptr);
        if (!d.unified.empty()) e["unifiedDiff"] = d.unified;
        j["differences"].push_back(std::move(e));
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_changes_text(const std::vector<LayerChanges>& changes) {
    std::string out;
    for (const auto& l : changes) {
        out += fmt::format("layer {} ({}){}\n", l.layer, short_digest(l.diff_id),
                           l.created_by.empty() ? "" : ": " + l.created_by);
        for (const auto& c : l.changes)
            out += fmt::format("{} {}\n", c.kind, c.path);
    }
    return out;
}

std::string render_changes_json(const std::vector<LayerChanges>& changes) {
    ordered_json j = ordered_json::array();
    for (const auto& l : changes) {
        ordered_json e;
        e["layer"] = l.layer;
        e["diffID"] = l.diff_id;
        e["createdBy"] = l.created_by;
        e["changes"] = ordered_json::array();
        for (const auto& c : l.changes)
            e["changes"].push_back({{"kind", std::string(1, c.kind)}, {"path", c.path}});
        j.push_back(std::move(e));
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace strata::diff
