#include "base/go/strconv.hpp"
#include "frontend/node.hpp"

namespace strata::frontend {

std::string dump_node(const Node& node) {
    std::string out = node.name;
    if (!node.flags.empty()) {
        out += " [";
        for (size_t i = 0; i < node.flags.size(); ++i) {
            if (i > 0) out += ' ';
            out += go::strconv::quote(node.flags[i].text);
        }
        out += ']';
    }
    if (node.trigger) out += " (" + dump_node(*node.trigger) + ")";
    for (const std::string& arg : node.args)
        out.append(" ").append(go::strconv::quote(arg));
    return out;
}

std::string dump_tree(const ParsedDockerfile& df) {
    std::string out;
    for (const Node& node : df.nodes) {
        if (!out.empty()) out += '\n';
        out.append("(").append(dump_node(node)).append(")");
    }
    return out;
}

}  // namespace strata::frontend
