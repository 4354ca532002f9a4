#include "cli/build_progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/go/utf8.hpp"

namespace strata::cli {

namespace {

using Clock = std::chrono::steady_clock;

// What a terminal would show of one output line, as plain text: what
// follows the last carriage return (a progress bar's final state), CSI
// escape sequences (colours, cursor moves) removed, tabs as one space, other
// control characters dropped. The live view counts the lines it drew to
// move the cursor back over them; a stray cursor move or tab would break it.
std::string printable(std::string_view line) {
    while (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (const size_t cr = line.rfind('\r'); cr != std::string_view::npos)
        line.remove_prefix(cr + 1);
    std::string out;
    out.reserve(line.size());
    for (size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c == 0x1b) {  // ECMA-48 escape sequences
            const char kind = i + 1 < line.size() ? line[i + 1] : '\0';
            if (kind == '[') {  // CSI: parameters, intermediates, a final byte 0x40-0x7e
                i += 2;
                while (i < line.size() && !(line[i] >= 0x40 && line[i] <= 0x7e))
                    ++i;
            } else if (kind == ']') {  // OSC (titles, links): up to BEL or ESC backslash
                i += 2;
                while (i < line.size() && line[i] != '\a' &&
                       !(line[i] == 0x1b && i + 1 < line.size() && line[i + 1] == '\\'))
                    ++i;
                if (i < line.size() && line[i] == 0x1b) ++i;
            } else {  // intermediates 0x20-0x2f, then a final byte
                ++i;
                while (i < line.size() && line[i] >= 0x20 && line[i] <= 0x2f)
                    ++i;
            }
            continue;
        }
        if (c == '\t') {
            out += ' ';
        } else if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// Columns `s` takes, counting one per code point (Go's utf8.RuneCountInString:
// an invalid byte counts as one).
size_t columns(std::string_view s) {
    return go::utf8::rune_count(s);
}

// The first `cols` code points of `s`, never cutting a UTF-8 sequence.
std::string first_columns(std::string_view s, size_t cols) {
    size_t i = 0;
    for (size_t n = 0; i < s.size() && n < cols; ++n)
        i += go::utf8::decode(s, i).width;
    return std::string(s.substr(0, i));
}

// ---------------------------------------------------------------- plain ---

class PlainProgress final : public executor::ProgressSink {
  public:
    explicit PlainProgress(FILE* out) : out_(out) {}

    void started(int id, const std::string& name) override {
        std::lock_guard lock(mu_);
        names_[id] = name;
        fmt::print(out_, "#{} {}\n", id, name);
        last_ = id;
        std::fflush(out_);
    }
    void log(int id, std::string_view line) override {
        std::lock_guard lock(mu_);
        header_if_switched(id);
        fmt::print(out_, "#{} {}\n", id, line);
        std::fflush(out_);
    }
    void cached(int id) override { end(id, "CACHED"); }
    void done(int id, double seconds) override { end(id, fmt::format("DONE {:.1f}s", seconds)); }
    void failed(int id, double, const std::string& error) override { end(id, "ERROR: " + error); }
    void note(const std::string& text) override {
        std::lock_guard lock(mu_);
        fmt::print(out_, "{}{}", text, text.ends_with('\n') ? "" : "\n");
        last_ = 0;
        std::fflush(out_);
    }

  private:
    // Another vertex printed in between: say again whose lines these are.
    void header_if_switched(int id) {
        if (last_ != id && names_.count(id)) fmt::print(out_, "#{} {}\n", id, names_[id]);
        last_ = id;
    }
    void end(int id, const std::string& what) {
        std::lock_guard lock(mu_);
        header_if_switched(id);
        fmt::print(out_, "#{} {}\n\n", id, what);
        last_ = 0;
        std::fflush(out_);
    }

    FILE* out_;
    std::mutex mu_;
    std::map<int, std::string> names_;
    int last_ = 0;
};

// ------------------------------------------------------------------ tty ---

class TtyProgress final : public executor::ProgressSink {
  public:
    TtyProgress(FILE* out, int width, int height)
        : out_(out), width_(width < 20 ? 80 : width), height_(height < 4 ? 24 : height) {
        ticker_ = std::thread([this] {
            std::unique_lock lock(mu_);
            while (!stop_) {
                cv_.wait_for(lock, std::chrono::milliseconds(100));
                if (!stop_) redraw();
            }
        });
    }
    ~TtyProgress() override {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
            redraw();
            clear_live();
            const double total = std::chrono::duration<double>(Clock::now() - start_).count();
            fmt::print(out_, "[+] Building {:.1f}s ({}/{}) FINISHED\n", total, ended_,
                       order_.size());
            std::fflush(out_);
        }
        cv_.notify_all();
        ticker_.join();
    }

    void started(int id, const std::string& name) override {
        std::lock_guard lock(mu_);
        Item& it = items_[id];
        it.name = printable(name);  // instruction text may hold tabs
        it.start = Clock::now();
        order_.push_back(id);
        redraw();
    }
    void log(int id, std::string_view line) override {
        std::lock_guard lock(mu_);
        auto& logs = items_[id].logs;
        logs.push_back(printable(line));
        if (logs.size() > kLogLines) logs.pop_front();
    }
    void cached(int id) override { end(id, State::kCached, 0); }
    void done(int id, double seconds) override { end(id, State::kDone, seconds); }
    void failed(int id, double seconds, const std::string& error) override {
        {
            std::lock_guard lock(mu_);
            items_[id].error = error;
        }
        end(id, State::kFailed, seconds);
    }
    void note(const std::string& text) override {
        std::lock_guard lock(mu_);
        clear_live();
        fmt::print(out_, "{}{}", text, text.ends_with('\n') ? "" : "\n");
        draw_live();
    }

  private:
    static constexpr size_t kLogLines = 6;
    enum class State { kRunning, kCached, kDone, kFailed };
    struct Item {
        std::string name;
        Clock::time_point start;
        State state = State::kRunning;
        double seconds = 0;
        bool printed = false;  // its final line is on the screen for good
        std::string error;
        std::deque<std::string> logs;
    };

    void end(int id, State state, double seconds) {
        std::lock_guard lock(mu_);
        Item& it = items_[id];
        if (it.state != State::kRunning) return;
        it.state = state;
        it.seconds = seconds;
        ++ended_;
        redraw();
    }

    // `left` and `right` on one line that does not wrap: the last column
    // stays free (some terminals wrap when it is written).
    std::string fit(const std::string& left, const std::string& right) const {
        const size_t w = static_cast<size_t>(width_) - 1;
        std::string l = left;
        const size_t room = w > right.size() + 1 ? w - right.size() - 1 : 0;
        if (columns(l) > room) l = first_columns(l, room > 3 ? room - 3 : 0) + "...";
        return l + std::string(room - std::min(room, columns(l)) + 1, ' ') + right;
    }

    std::string line_for(const Item& it) const {
        const char* prefix = it.state == State::kCached   ? "CACHED "
                             : it.state == State::kFailed ? "ERROR "
                                                          : "";
        const double secs = it.state == State::kRunning
                                ? std::chrono::duration<double>(Clock::now() - it.start).count()
                                : it.seconds;
        return fit(fmt::format(" => {}{}", prefix, it.name), fmt::format("{:.1f}s", secs));
    }

    void clear_live() {
        if (live_lines_ > 0) fmt::print(out_, "\x1b[{}A\r\x1b[J", live_lines_);
        live_lines_ = 0;
    }

    // The header, then each running vertex with its last output lines. The
    // cursor cannot move above the top of the screen, so the region is kept
    // shorter than the terminal: output lines go first, then vertices.
    void draw_live() {
        const double total = std::chrono::duration<double>(Clock::now() - start_).count();
        std::vector<const Item*> pending;  // running, or ended after one still running
        size_t log_lines = 0;
        for (int id : order_) {
            const Item& it = items_.at(id);
            if (it.printed) continue;
            pending.push_back(&it);
            if (it.state == State::kRunning) log_lines += it.logs.size();
        }
        const size_t room = static_cast<size_t>(height_) - 2;  // header + cursor line
        const bool with_logs = pending.size() + log_lines <= room;
        const size_t shown = std::min(pending.size(), pending.size() <= room ? room : room - 1);
        std::string s = fmt::format("[+] Building {:.1f}s ({}/{})\n", total, ended_, order_.size());
        int lines = 1;
        for (size_t i = 0; i < shown; ++i) {
            s += line_for(*pending[i]) + "\n";
            ++lines;
            if (!with_logs || pending[i]->state != State::kRunning) continue;
            for (const auto& l : pending[i]->logs) {
                s += fit(" => => " + l, "") + "\n";
                ++lines;
            }
        }
        if (shown < pending.size()) {
            s += fit(fmt::format(" => ... and {} more", pending.size() - shown), "") + "\n";
            ++lines;
        }
        fmt::print(out_, "{}", s);
        live_lines_ = lines;
        std::fflush(out_);
    }

    // Finished vertices go above the live region, printed once, in the order
    // they started: a vertex that ends while one started before it still
    // runs waits in the live region. The live region (header, then the
    // vertices not printed yet) is drawn again below them.
    void redraw() {
        clear_live();
        for (int id : order_) {
            Item& it = items_.at(id);
            if (it.printed) continue;
            if (it.state == State::kRunning && !stop_) break;  // at the end, print everything
            fmt::print(out_, "{}\n", line_for(it));
            if (it.state == State::kFailed) {
                fmt::print(out_, "------\n > {}:\n", it.name);
                for (const auto& l : it.logs)
                    fmt::print(out_, "{}\n", l);
                fmt::print(out_, "{}\n------\n", it.error);
            }
            it.printed = true;
        }
        if (!stop_) draw_live();
        std::fflush(out_);
    }

    FILE* out_;
    int width_;
    int height_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    Clock::time_point start_ = Clock::now();
    std::map<int, Item> items_;
    std::vector<int> order_;
    size_t ended_ = 0;
    int live_lines_ = 0;
    std::thread ticker_;
};

}  // namespace

std::unique_ptr<executor::ProgressSink> make_plain_progress(FILE* out) {
    return std::make_unique<PlainProgress>(out);
}

std::unique_ptr<executor::ProgressSink> make_tty_progress(FILE* out, int width, int height) {
    return std::make_unique<TtyProgress>(out, width, height);
}

bool is_terminal(int fd) {
    return ::isatty(fd) == 1;
}

int terminal_width(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

int terminal_height(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
    return 24;
}

}  // namespace strata::cli
