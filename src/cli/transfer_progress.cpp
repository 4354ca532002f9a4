#include "cli/transfer_progress.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iterator>
#include <utility>

#include "cli/human_size.hpp"
#include "executor/progress.hpp"

namespace strata::cli {

std::string transfer_size(int64_t bytes) {
    return human_size(static_cast<uint64_t>(std::max<int64_t>(bytes, 0)), 4);
}

std::string progress_text(int64_t current, int64_t total, int width) {
    if (current <= 0 && total <= 0) return "";
    if (total <= 0) return fmt::format("{:>8}", transfer_size(current));
    int filled =
        static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
    if (filled > 50) filled = 50;
    if (filled < 0) filled = 0;
    std::string bar;
    if (width > 110)
        bar = "[" + std::string(static_cast<size_t>(filled), '=') + ">" +
              std::string(static_cast<size_t>(50 - filled), ' ') + "] ";
    // A count past the total (a wrong size from the server) shows alone.
    if (current > total) return bar + fmt::format("{:>8}", transfer_size(current));
    return bar + fmt::format("{:>8}/{}", transfer_size(current), transfer_size(total));
}

bool wants_live_transfer_view(int fd) {
    if (::isatty(fd) != 1) return false;
    const char* term = std::getenv("TERM");
    return !(term && std::string_view(term) == "dumb");
}

TransferProgress::TransferProgress(FILE* out, Options options)
    : out_(out), opt_(std::move(options)) {
    if (!opt_.now) opt_.now = [] { return TransferClock::now(); };
}

int TransferProgress::width() const {
    if (opt_.width_fd >= 0) {
        struct winsize ws {};
        if (::ioctl(opt_.width_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    }
    return opt_.width;
}

void TransferProgress::pull(const registry::PullEvent& e) {
    using K = registry::PullEvent::Kind;
    std::lock_guard lock(mu_);
    if (!opt_.live) {
        const char* what = nullptr;
        switch (e.kind) {
            case K::kWaiting:
                what = "Pulling fs layer";
                break;
            case K::kAlreadyExists:
                what = "Already exists";
                break;
            case K::kVerifying:
                what = "Verifying Checksum";
                break;
            case K::kComplete:
                fmt::print(out_, "{}: Download complete\n", e.id);
                what = "Pull complete";
                break;
            case K::kResolved:
            case K::kDownloading:
                break;
        }
        if (what) fmt::print(out_, "{}: {}\n", e.id, what);
        std::fflush(out_);
        return;
    }
    switch (e.kind) {
        case K::kResolved:
            return;
        case K::kWaiting:
            status(e.id, "Pulling fs layer", 0, 0, false);
            break;
        case K::kAlreadyExists:
            status(e.id, "Already exists", 0, 0, false);
            break;
        case K::kDownloading:
            status(e.id, "Downloading", e.done, e.total, true);
            break;
        case K::kVerifying:
            status(e.id, "Verifying Checksum", 0, 0, false);
            break;
        case K::kComplete:
            // docker shows "Download complete" while it extracts; strata
            // unpacks a layer when a build needs it, so the pull is done.
            status(e.id, "Pull complete", 0, 0, false);
            break;
    }
    std::fflush(out_);
}

void TransferProgress::push(const registry::PushEvent& e) {
    using K = registry::PushEvent::Kind;
    std::lock_guard lock(mu_);
    std::string what;
    switch (e.kind) {
        case K::kPreparing:
            what = "Preparing";
            break;
        case K::kPushing:
            if (opt_.live)
                status(e.id, "Pushing", static_cast<int64_t>(e.done), static_cast<int64_t>(e.total),
                       true);
            std::fflush(out_);
            return;
        case K::kPushed:
            what = "Pushed";
            break;
        case K::kExists:
            what = "Layer already exists";
            break;
        case K::kMounted:
            what = "Mounted from " + e.from;
            break;
    }
    if (opt_.live)
        status(e.id, what, 0, 0, false);
    else
        fmt::print(out_, "{}: {}\n", e.id, what);
    std::fflush(out_);
}

void TransferProgress::line(std::string_view text) {
    std::lock_guard lock(mu_);
    fmt::print(out_, "{}\n", text);
    rows_.clear();
    std::fflush(out_);
}

// One layer's line, as docker/cli's DisplayJSONMessagesStream draws it: a new
// layer gets a line below the block; the cursor goes up to the layer's line,
// which is erased and written ("ID: Status PROGRESS", a carriage return at
// the end), and comes back down below the block.
void TransferProgress::status(const std::string& id, const std::string& text, int64_t current,
                              int64_t total, bool counts) {
    const TransferClock::time_point now = opt_.now();
    auto it = rows_.find(id);
    const bool fresh = it == rows_.end();
    if (!fresh && counts && it->second.text == text && current < total &&
        now - it->second.drawn < opt_.min_interval)
        return;  // a byte count, drawn a moment ago
    if (fresh) {
        it = rows_.emplace(id, Row{rows_.size(), {}, {}}).first;
        std::fputc('\n', out_);
    }
    it->second.drawn = now;
    it->second.text = text;
    const int cols = width();
    std::string body = fmt::format("{}: {} {}", id, text,
                                   counts ? progress_text(current, total, cols) : std::string());
    // A line that wrapped would take two rows and break the cursor moves
    // (docker lets it wrap): keep the last column free.
    if (cols > 1 && body.size() >= static_cast<size_t>(cols))
        body.resize(static_cast<size_t>(cols) - 1);
    const size_t up = rows_.size() - it->second.index;
    fmt::print(out_, "\x1b[{}A\x1b[2K\r{}\r\x1b[{}B", up, body, up);
}

std::function<void(const registry::PullEvent&)> build_pull_progress(
    std::string shown_ref, std::function<void(std::string_view)> log,
    std::function<TransferClock::time_point()> now) {
    struct Layer {
        TransferClock::time_point start;
        TransferClock::time_point logged;
    };
    struct State {
        std::string ref;
        std::function<void(std::string_view)> log;
        std::function<TransferClock::time_point()> now;
        std::mutex mu;
        std::map<std::string, Layer> layers;
    };
    auto st = std::make_shared<State>();
    st->ref = std::move(shown_ref);
    st->log = std::move(log);
    st->now = now ? std::move(now) : [] { return TransferClock::now(); };
    return [st](const registry::PullEvent& e) {
        using K = registry::PullEvent::Kind;
        std::lock_guard lock(st->mu);
        const TransferClock::time_point t = st->now();
        // BuildKit's " 1.2s", left out under 10 ms.
        auto since = [&](TransferClock::time_point start) {
            const double s = std::chrono::duration<double>(t - start).count();
            return s > 0.01 ? fmt::format(" {:.1f}s", s) : std::string();
        };
        auto bytes = [](int64_t n) { return executor::progress_bytes(n > 0 ? uint64_t(n) : 0); };
        switch (e.kind) {
            case K::kResolved:
                if (st->ref.find('@') != std::string::npos)
                    st->log(fmt::format("resolve {} done", st->ref));
                else
                    st->log(fmt::format("resolve {}@{} done", st->ref, e.digest.str()));
                break;
            case K::kWaiting:
                st->layers[e.id] = Layer{t, t};
                break;
            case K::kDownloading: {
                auto it = st->layers.find(e.id);
                if (it == st->layers.end() || t - it->second.logged < std::chrono::seconds(1))
                    break;
                it->second.logged = t;
                st->log(fmt::format("{} {} / {}{}", e.digest.str(), bytes(e.done), bytes(e.total),
                                    since(it->second.start)));
                break;
            }
            case K::kVerifying: {
                auto it = st->layers.find(e.id);
                const TransferClock::time_point start =
                    it == st->layers.end() ? t : it->second.start;
                st->log(fmt::format("{} {} / {}{} done", e.digest.str(), bytes(e.total),
                                    bytes(e.total), since(start)));
                break;
            }
            case K::kAlreadyExists:
            case K::kComplete:
                break;
        }
    };
}

}  // namespace strata::cli
