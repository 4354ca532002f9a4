#include "executor/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace strata::executor {

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> values(const Fields& fields, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : fields)
        if (k == name) out.push_back(v);
    return out;
}

// "NAME=value" fields (and "var-unset" names) as a map; nullopt value = unset.
std::map<std::string, std::optional<std::string>> assignments(const Fields& fields,
                                                              const std::string& set_name,
                                                              const std::string& unset_name) {
    std::map<std::string, std::optional<std::string>> out;
    for (const auto& [k, v] : fields) {
        if (k == set_name) {
            const size_t eq = v.find('=');
            if (eq == std::string::npos)
                out[v] = std::string();
            else
                out[v.substr(0, eq)] = v.substr(eq + 1);
        } else if (k == unset_name) {
            out[v] = std::nullopt;
        }
    }
    return out;
}

std::string shown(const std::optional<std::string>& v) {
    return v ? fmt::format("\"{}\"", *v) : "unset";
}

void variable_changes(const Fields& before, const Fields& now, const std::string& set_name,
                      const std::string& unset_name, const char* what,
                      std::vector<std::string>& out) {
    const auto a = assignments(before, set_name, unset_name);
    const auto b = assignments(now, set_name, unset_name);
    std::set<std::string> names;
    for (const auto& [k, v] : a)
        names.insert(k);
    for (const auto& [k, v] : b)
        names.insert(k);
    for (const std::string& n : names) {
        auto ia = a.find(n);
        auto ib = b.find(n);
        const std::optional<std::string> va = ia == a.end() ? std::nullopt : ia->second;
        const std::optional<std::string> vb = ib == b.end() ? std::nullopt : ib->second;
        if (ia != a.end() && ib != b.end() && va == vb) continue;
        if (ia == a.end() && ib != b.end() && !vb) continue;  // newly read, still unset
        out.push_back(fmt::format("{} {} changed: {} -> {}", what, n, shown(va), shown(vb)));
    }
}

bool under(const std::string& path, const std::string& root) {
    return root.empty() || path == root ||
           (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
            path[root.size()] == '/');
}

}  // namespace

std::vector<std::string> diff_listings(const cache::FileListing& before,
                                       const cache::FileListing& now,
                                       const std::vector<std::string>& roots, size_t limit) {
    std::vector<std::string> out;
    size_t total = 0;
    auto in_roots = [&](const std::string& p) {
        return std::any_of(roots.begin(), roots.end(),
                           [&](const std::string& r) { return under(p, r); });
    };
    auto emit = [&](std::string line) {
        ++total;
        if (out.size() < limit) out.push_back(std::move(line));
    };
    auto a = before.begin();
    auto b = now.begin();
    while (a != before.end() || b != now.end()) {
        if (b == now.end() || (a != before.end() && a->first < b->first)) {
            if (in_roots(a->first)) emit("file removed: " + a->first);
            ++a;
        } else if (a == before.end() || b->first < a->first) {
            if (in_roots(b->first)) emit("file added: " + b->first);
            ++b;
        } else {
            if (a->second != b->second && in_roots(a->first)) emit("file changed: " + a->first);
            ++a;
            ++b;
        }
    }
    if (total > out.size()) out.push_back(fmt::format("... and {} more", total - out.size()));
    return out;
}

std::vector<std::string> explain_miss(const MissFacts& f) {
    if (f.no_cache) return {"--no-cache (or --no-cache-filter) asked to build it again"};
    if (!f.had_record) return {"no earlier build of this Dockerfile and context to compare with"};
    if (!f.before) return {"a new step: the last build had no step here"};
    const cache::StepRecord& now = *f.now;
    const cache::StepRecord& before = *f.before;
    if (before.key == now.key)
        return {
            "its inputs are the same as in the last build, but its cache entry is gone "
            "(removed by `strata prune`, or the last build stopped before storing it)"};

    std::vector<std::string> out;
    if (before.parent_key != now.parent_key)
        out.push_back(f.parent_change.empty() ? "the step it builds on changed" : f.parent_change);

    // Field names in the order they first appear in either build.
    std::vector<std::string> names;
    for (const Fields* fs : {&now.fields, &before.fields})
        for (const auto& [k, v] : *fs)
            if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);

    bool instruction_changed = false;
    for (const std::string& name : names) {
        if (name == "var-unset" || name == "env") continue;  // with "var" / below
        if (values(before.fields, name) == values(now.fields, name)) continue;
        if (name == "var") {
            variable_changes(before.fields, now.fields, "var", "var-unset", "variable", out);
        } else if (name == "context-sources") {
            std::vector<std::string> files;
            if (f.changed_files) files = f.changed_files();
            if (files.empty()) files.push_back("the files it copies from the context changed");
            out.insert(out.end(), files.begin(), files.end());
        } else if (name == "stage-sources") {
            out.push_back("the files it copies from " +
                          std::string(now.instruction.find("--from") != std::string::npos
                                          ? "its --from source"
                                          : "the source") +
                          " changed");
        } else if (name == "from-stage-key") {
            out.push_back("the stage it copies from was rebuilt");
        } else if (name == "url-content") {
            out.push_back("the content downloaded from its URL changed");
        } else if (name == "mount-context") {
            out.push_back("the part of the context it mounts changed");
        } else if (name == "mount-stage-key") {
            out.push_back("a stage it mounts was rebuilt");
        } else {
            instruction_changed = true;
        }
    }
    if (values(before.fields, "env") != values(now.fields, "env"))
        variable_changes(before.fields, now.fields, "env", "", "environment variable", out);
    if (instruction_changed) {
        if (before.instruction != now.instruction)
            out.push_back(fmt::format("the instruction changed: `{}` -> `{}`", before.instruction,
                                      now.instruction));
        else
            out.push_back(
                "what the instruction expands to changed (a variable, WORKDIR, USER "
                "or SHELL before it)");
    }
    if (out.empty()) out.push_back("its cache key changed");
    return out;
}

}  // namespace strata::executor
