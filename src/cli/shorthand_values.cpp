#include "cli/shorthand_values.hpp"

namespace strata::cli {
namespace {

// The option `name` ("-q", "--tag") of `app` or of a command above it.
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
    for (; app != nullptr; app = app->get_parent())
        if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
    return nullptr;
}

bool takes_value(const CLI::Option& o) {
    return o.get_items_expected_max() != 0;
}

const CLI::App* find_subcommand(const CLI::App& app, const std::string& name) {
    const auto found =
        app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); });
    return found.empty() ? nullptr : found.front();
}

}  // namespace

std::vector<std::string> expand_shorthand_values(const CLI::App& app,
                                                 const std::vector<std::string>& args) {
    std::vector<std::string> out;
    out.reserve(args.size());
    const CLI::App* current = &app;
    size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") break;
        if (a.size() >= 2 && a[0] == '-' && a[1] == '-') {  // --long[=value]
            out.push_back(a);
            const CLI::Option* o = find_option(current, a.substr(0, a.find('=')));
            if (o && takes_value(*o) && a.find('=') == std::string::npos && i + 1 < args.size())
                out.push_back(args[++i]);
            continue;
        }
        if (a.size() >= 2 && a[0] == '-') {  // -X, -XVALUE, -X=VALUE, -abc
            const CLI::Option* o = find_option(current, a.substr(0, 2));
            if (o && a.size() > 2 && a[2] == '=') {
                if (takes_value(*o)) {
                    out.push_back(a.substr(0, 2));
                    out.push_back(a.substr(3));
                    continue;
                }
                if (!o->get_lnames().empty()) {
                    out.push_back("--" + o->get_lnames().front() + a.substr(2));
                    continue;
                }
            }
            out.push_back(a);
            if (o && takes_value(*o) && a.size() == 2 && i + 1 < args.size())
                out.push_back(args[++i]);
            continue;
        }
        // A positional: a subcommand's name, or where a prefix command's own
        // arguments end.
        out.push_back(a);
        if (const CLI::App* sub = find_subcommand(*current, a)) {
            current = sub;
        } else if (current->get_prefix_command()) {
            ++i;
            break;
        }
    }
    out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return out;
}

}  // namespace strata::cli
