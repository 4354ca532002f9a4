#include "diff/line_diff.hpp"

#include <algorithm>
#include <vector>

namespace strata::diff {

namespace {

struct Line {
    std::string_view text;  // without the newline
    bool newline = true;
};

std::vector<Line> split_lines(std::string_view s) {
    std::vector<Line> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find('\n', i);
        if (j == std::string_view::npos) {
            out.push_back({s.substr(i), false});
            break;
        }
        out.push_back({s.substr(i, j - i), true});
        i = j + 1;
    }
    return out;
}

bool same(const Line& x, const Line& y) {
    return x.text == y.text && x.newline == y.newline;
}

enum class Op : char { kKeep = ' ', kDel = '-', kAdd = '+' };

// Myers' greedy forward search, keeping each round's frontier to walk back
// the edit script. Empty result with `ok` false when it needs more than
// max_d edits.
std::vector<Op> edit_script(const std::vector<Line>& a, const std::vector<Line>& b, int max_d,
                            bool& ok) {
    const int n = int(a.size()), m = int(b.size());
    const int offset = max_d + 1;
    std::vector<int> v(size_t(2 * offset + 1), 0);
    std::vector<std::vector<int>> trace;
    ok = false;
    int found_d = -1;
    for (int d = 0; d <= max_d; ++d) {
        trace.push_back(v);
        for (int k = -d; k <= d; k += 2) {
            int x;
            if (k == -d || (k != d && v[size_t(offset + k - 1)] < v[size_t(offset + k + 1)]))
                x = v[size_t(offset + k + 1)];
            else
                x = v[size_t(offset + k - 1)] + 1;
            int y = x - k;
            while (x < n && y < m && same(a[size_t(x)], b[size_t(y)]))
                ++x, ++y;
            v[size_t(offset + k)] = x;
            if (x >= n && y >= m) {
                found_d = d;
                break;
            }
        }
        if (found_d >= 0) break;
    }
    if (found_d < 0) return {};
    ok = true;
    std::vector<Op> ops;
    int x = n, y = m;
    for (int d = found_d; d > 0; --d) {
        const auto& pv = trace[size_t(d)];
        int k = x - y;
        int prev_k;
        if (k == -d || (k != d && pv[size_t(offset + k - 1)] < pv[size_t(offset + k + 1)]))
            prev_k = k + 1;
        else
            prev_k = k - 1;
        int prev_x = pv[size_t(offset + prev_k)];
        int prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) {
            ops.push_back(Op::kKeep);
            --x, --y;
        }
        ops.push_back(x == prev_x ? Op::kAdd : Op::kDel);
        x = prev_x, y = prev_y;
    }
    while (x > 0 && y > 0) {
        ops.push_back(Op::kKeep);
        --x, --y;
    }
    std::reverse(ops.begin(), ops.end());
    return ops;
}

void emit_line(std::string& out, char op, const Line& l) {
    out += op;
    out += l.text;
    out += '\n';
    if (!l.newline) out += "\\ No newline at end of file\n";
}

std::string range(int start, int count) {
    // diff -u: "l,s"; a count of 1 is left out; an empty range names the line before.
    if (count == 0) return std::to_string(start) + ",0";
    if (count == 1) return std::to_string(start + 1);
    return std::to_string(start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view a_text, std::string_view b_text, int context,
                         int max_edits) {
    if (a_text == b_text) return "";
    auto a = split_lines(a_text);
    auto b = split_lines(b_text);
    bool ok = false;
    std::vector<Op> ops = edit_script(a, b, max_edits, ok);
    if (!ok) {
        ops.assign(a.size(), Op::kDel);
        ops.insert(ops.end(), b.size(), Op::kAdd);
    }
    // Positions in a and b before each op.
    std::vector<int> pa(ops.size() + 1), pb(ops.size() + 1);
    for (size_t i = 0; i < ops.size(); ++i) {
        pa[i + 1] = pa[i] + (ops[i] != Op::kAdd);
        pb[i + 1] = pb[i] + (ops[i] != Op::kDel);
    }
    std::string out;
    size_t i = 0, prev_end = 0;
    while (i < ops.size()) {
        if (ops[i] == Op::kKeep) {
            ++i;
            continue;
        }
        // A hunk: from `context` keeps before this change to `context` keeps
        // after the last change that is within 2*context of the next one.
        size_t start = std::max(prev_end, i >= size_t(context) ? i - size_t(context) : 0);
        size_t end = i;
        size_t last_change = i;
        for (size_t j = i; j < ops.size(); ++j) {
            if (ops[j] != Op::kKeep) {
                last_change = j;
            } else if (j - last_change > size_t(2 * context)) {
                break;
            }
        }
        end = std::min(ops.size(), last_change + 1 + size_t(context));
        out += "@@ -" + range(pa[start], pa[end] - pa[start]) + " +" +
               range(pb[start], pb[end] - pb[start]) + " @@\n";
        for (size_t j = start; j < end; ++j) {
            if (ops[j] == Op::kAdd)
                emit_line(out, '+', b[size_t(pb[j])]);
            else
                emit_line(out, char(ops[j]), a[size_t(pa[j])]);
        }
        i = end;
        prev_end = end;
    }
    return out;
}

}  // namespace strata::diff
