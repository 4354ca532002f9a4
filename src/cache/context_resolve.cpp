#include "cache/context_resolve.hpp"

#include <deque>
#include <vector>

#include "base/error.hpp"
#include "cache/context_snapshot.hpp"

namespace strata::cache {
namespace {

constexpr int kMaxLinks = 40;  // Linux's MAXSYMLINKS

// Pushes the components of `path` onto the front of `todo`, in order.
void prepend(std::deque<std::string>& todo, std::string_view path) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        if (j > i) parts.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
}

std::string join(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) {
        if (!s.empty()) s += '/';
        s += p;
    }
    return s;
}

[[noreturn]] void outside(std::string_view source, std::string_view how) {
    throw Error(ErrorKind::kUsage, "COPY source '" + std::string(source) +
                                       "' resolves outside the build context" +
                                       (how.empty() ? "" : ": " + std::string(how)));
}

}  // namespace

std::optional<std::string> clean_context_path(std::string_view path) {
    std::deque<std::string> todo;
    prepend(todo, path);
    std::vector<std::string> parts;
    for (auto& c : todo) {
        if (c == ".") continue;
        if (c == "..") {
            if (parts.empty()) return std::nullopt;
            parts.pop_back();
            continue;
        }
        parts.push_back(std::move(c));
    }
    return join(parts);
}

Resolution resolve_in_context(const ContextSnapshot& snapshot, std::string_view path,
                              bool follow_last) {
    std::deque<std::string> todo;
    prepend(todo, path);
    std::vector<std::string> done;  // resolved components: no symlinks among them
    int links = 0;
    while (!todo.empty()) {
        std::string c = std::move(todo.front());
        todo.pop_front();
        if (c == ".") continue;
        if (c == "..") {
            if (done.empty())
                outside(path, links ? "a symlink on the way leads above the root" : "");
            done.pop_back();
            continue;
        }
        done.push_back(std::move(c));
        std::string here = join(done);
        const Entry* e = snapshot.find(here);
        if (!e) return Resolution{nullptr, here};
        if (e->type == EntryType::kSymlink && (!todo.empty() || follow_last)) {
            if (++links > kMaxLinks)
                throw Error(ErrorKind::kNotFound, "COPY source '" + std::string(path) +
                                                      "': too many levels of symbolic links");
            std::string_view target = e->link_target;
            done.pop_back();
            if (!target.empty() && target.front() == '/') {
                // A host path: following it would leave the context (and
                // re-rooting it inside, as BuildKit does, hides mistakes).
                outside(path, "'" + here + "' is a symlink to '" + std::string(target) + "'");
            } else {
                // Check that ".." in the target stays inside, naming the link.
                std::vector<std::string> probe = done;
                std::deque<std::string> parts;
                prepend(parts, target);
                for (const auto& p : parts) {
                    if (p == "..") {
                        if (probe.empty())
                            outside(path,
                                    "'" + here + "' is a symlink to '" + std::string(target) + "'");
                        probe.pop_back();
                    } else if (p != ".") {
                        break;  // deeper components are checked as they are resolved
                    }
                }
                prepend(todo, target);
            }
            continue;
        }
        if (!todo.empty() && e->type != EntryType::kDir) return Resolution{nullptr, here};
    }
    std::string here = join(done);
    return Resolution{snapshot.find(here), here};
}

}  // namespace strata::cache
