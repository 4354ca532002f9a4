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

namespace strata::cli {

namespace {

using Clock = std::chrono::steady_clock;

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
    TtyProgress(FILE* out, int width) : out_(out), width_(width < 20 ? 80 : width) {
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
        it.name = name;
        it.start = Clock::now();
        order_.push_back(id);
        redraw();
    }
    void log(int id, std::string_view line) override {
        std::lock_guard lock(mu_);
        auto& logs = items_[id].logs;
        logs.emplace_back(line);
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

    std::string fit(const std::string& left, const std::string& right) const {
        const size_t w = static_cast<size_t>(width_);
        std::string l = left;
        const size_t room = w > right.size() + 1 ? w - right.size() - 1 : 0;
        if (l.size() > room) l = l.substr(0, room > 3 ? room - 3 : 0) + "...";
        return l + std::string(room - std::min(room, l.size()) + 1, ' ') + right;
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

    void draw_live() {
        const double total = std::chrono::duration<double>(Clock::now() - start_).count();
        std::string s = fmt::format("[+] Building {:.1f}s ({}/{})\n", total, ended_, order_.size());
        int lines = 1;
        for (int id : order_) {
            const Item& it = items_.at(id);
            if (it.state != State::kRunning) continue;
            s += line_for(it) + "\n";
            ++lines;
            for (const auto& l : it.logs) {
                s += fit(" => => " + l, "") + "\n";
                ++lines;
            }
        }
        fmt::print(out_, "{}", s);
        live_lines_ = lines;
        std::fflush(out_);
    }

    // Finished vertices go above the live region, printed once, in the order
    // they started; the live region (header and running vertices) is drawn
    // again below them.
    void redraw() {
        clear_live();
        for (int id : order_) {
            Item& it = items_.at(id);
            if (it.printed || it.state == State::kRunning) continue;
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

std::unique_ptr<executor::ProgressSink> make_tty_progress(FILE* out, int width) {
    return std::make_unique<TtyProgress>(out, width);
}

bool is_terminal(int fd) {
    return ::isatty(fd) == 1;
}

int terminal_width(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

}  // namespace strata::cli
