// --chmod for COPY/ADD: an octal mode ("0755", "640") or a symbolic one as
// chmod(1) and newer Dockerfile frontends accept ("u+x,g-w", "a=rX", "go=u-w").
//
// Octal replaces the permission and set-id/sticky bits. Symbolic clauses are
// applied in order to each entry's own mode with BSD setmode semantics (what
// BuildKit uses): `X` adds execute only to directories and to files that have
// some execute bit already; a clause without who letters ("+x") is limited by
// the umask, which strata fixes at 022 (a BuildKit daemon's usual umask) so
// results do not depend on the calling process.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::executor {

class ModeSpec {
  public:
    ModeSpec() = default;  // no --chmod: modes are kept

    // Throws strata::Error(kUsage) naming the value when it is not valid.
    static ModeSpec parse(std::string_view text);

    bool empty() const { return text_.empty(); }
    const std::string& text() const { return text_; }

    // The new permission bits (07777 range) for an entry whose current bits
    // are `mode`.
    uint32_t apply(uint32_t mode, bool is_dir) const;

  private:
    struct Action {
        char op = '+';       // '+', '-', '=' (clear then set), 'X', or 'c' (copy)
        uint32_t who = 0;    // bits the action may touch; 0 = all, limited by umask
        uint32_t bits = 0;   // permission bits
        char copy_from = 0;  // 'u', 'g' or 'o' for op 'c'
        char copy_op = 0;    // '+', '-', '=' for op 'c'
    };
    std::string text_;
    bool octal_ = false;
    uint32_t octal_value_ = 0;
    std::vector<Action> actions_;
};

}  // namespace strata::executor
