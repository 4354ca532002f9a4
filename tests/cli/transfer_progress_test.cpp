// strata pull / push progress (src/cli/transfer_progress.hpp): the bytes of
// docker's terminal rendering, what they leave on a screen, the plain lines
// scripts read, and the build's BuildKit-style lines.
#include "cli/transfer_progress.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::cli {
namespace {

using namespace std::chrono_literals;
using K = registry::PullEvent::Kind;
using P = registry::PushEvent::Kind;

// What a FILE* received.
class Capture {
  public:
    Capture() : f_(std::tmpfile()) {}
    ~Capture() {
        if (f_) std::fclose(f_);
    }
    FILE* file() const { return f_; }
    std::string text() {
        std::fflush(f_);
        std::string out;
        std::rewind(f_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0)
            out.append(buf, n);
        std::fseek(f_, 0, SEEK_END);
        return out;
    }

  private:
    FILE* f_;
};

// A screen that understands what the renderer may write: text, \n, \r,
// ESC[nA / ESC[nB (cursor up / down) and ESC[2K (erase the line). Anything
// else, or a cursor move off the written rows, fails the test.
struct Screen {
    std::vector<std::string> rows{std::string()};
    size_t row = 0, col = 0;

    void feed(const std::string& b) {
        for (size_t i = 0; i < b.size(); ++i) {
            const char c = b[i];
            if (c == '\n') {
                col = 0;
                if (++row == rows.size()) rows.emplace_back();
            } else if (c == '\r') {
                col = 0;
            } else if (c == '\x1b') {
                ASSERT_LT(i + 2, b.size());
                ASSERT_EQ(b[i + 1], '[');
                size_t j = i + 2, n = 0;
                while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j])))
                    n = n * 10 + size_t(b[j++] - '0');
                ASSERT_LT(j, b.size());
                if (b[j] == 'A') {
                    ASSERT_LE(n, row) << "cursor up past the top";
                    row -= n;
                } else if (b[j] == 'B') {
                    ASSERT_LT(row + n, rows.size()) << "cursor down past the last row";
                    row += n;
                } else if (b[j] == 'K') {
                    ASSERT_EQ(n, 2u) << "only ESC[2K (the whole line)";
                    rows[row].clear();
                } else {
                    FAIL() << "unexpected escape sequence ending in " << b[j];
                }
                i = j;
            } else {
                ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "control byte " << int(c);
                std::string& r = rows[row];
                if (r.size() <= col) r.resize(col + 1, ' ');
                r[col++] = c;
            }
        }
    }
    // The rows, trailing spaces removed.
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        for (auto r : rows) {
            while (!r.empty() && r.back() == ' ')
                r.pop_back();
            out.push_back(r);
        }
        return out;
    }
};

registry::PullEvent pull_ev(K kind, const std::string& id, int64_t done = 0, int64_t total = 0) {
    registry::PullEvent e{kind, id, done, total, {}};
    return e;
}
registry::PushEvent push_ev(P kind, const std::string& id, uint64_t done = 0, uint64_t total = 0,
                            const std::string& from = {}) {
    return registry::PushEvent{kind, id, done, total, from};
}

// A clock the test moves.
struct FakeClock {
    TransferClock::time_point t{};
    std::function<TransferClock::time_point()> fn() {
        return [this] { return t; };
    }
};

TransferProgress::Options live(int width, FakeClock& clock) {
    TransferProgress::Options o;
    o.live = true;
    o.width = width;
    o.now = clock.fn();
    return o;
}

// One redraw of the layer `up` lines above the cursor, as docker draws it.
std::string redraw(size_t up, const std::string& body) {
    return "\x1b[" + std::to_string(up) + "A\x1b[2K\r" + body + "\r\x1b[" + std::to_string(up) +
           "B";
}

TEST(TransferSize, IsGoUnitsHumanSizeWithFourDigits) {
    EXPECT_EQ(transfer_size(0), "0B");
    EXPECT_EQ(transfer_size(999), "999B");
    EXPECT_EQ(transfer_size(1000), "1kB");
    EXPECT_EQ(transfer_size(1234), "1.234kB");
    EXPECT_EQ(transfer_size(1080000), "1.08MB");
    EXPECT_EQ(transfer_size(49560000), "49.56MB");
    EXPECT_EQ(transfer_size(123456789), "123.5MB");
    EXPECT_EQ(transfer_size(999999), "1000kB");  // rounded after choosing the unit, as Go does
    EXPECT_EQ(transfer_size(3000000000), "3GB");
}

TEST(ProgressText, BarOfFiftyAboveOneHundredTenColumns) {
    EXPECT_EQ(progress_text(1700000, 3400000, 111),
              "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]    1.7MB/3.4MB");
    EXPECT_EQ(progress_text(0, 100, 200), "[>" + std::string(50, ' ') + "]       0B/100B");
    EXPECT_EQ(progress_text(100, 100, 200), "[" + std::string(50, '=') + ">]     100B/100B");
    // 99.9% is 49 '=' (Go's int() truncates).
    EXPECT_EQ(progress_text(999, 1000, 200), "[" + std::string(49, '=') + "> ]     999B/1kB");
}

TEST(ProgressText, CountsAloneOnNarrowTerminalsAndOddInput) {
    EXPECT_EQ(progress_text(1700000, 3400000, 110), "   1.7MB/3.4MB");
    EXPECT_EQ(progress_text(1700000, 3400000, 80), "   1.7MB/3.4MB");
    EXPECT_EQ(progress_text(5000, 4000, 80), "     5kB");  // past the total: the count alone
    EXPECT_EQ(progress_text(5000, 4000, 200), "[" + std::string(50, '=') + ">]      5kB");
    EXPECT_EQ(progress_text(2500, 0, 200), "   2.5kB");  // total unknown
    EXPECT_EQ(progress_text(0, 0, 200), "");
}

TEST(TransferProgressPlain, PullPrintsDockersLinesWithoutCounts) {
    Capture cap;
    TransferProgress p(cap.file(), {});
    p.pull(pull_ev(K::kResolved, ""));
    p.pull(pull_ev(K::kAlreadyExists, "aaaaaaaaaaaa"));
    p.pull(pull_ev(K::kWaiting, "bbbbbbbbbbbb", 0, 10));
    p.pull(pull_ev(K::kDownloading, "bbbbbbbbbbbb", 5, 10));
    p.pull(pull_ev(K::kVerifying, "bbbbbbbbbbbb", 10, 10));
    p.pull(pull_ev(K::kComplete, "bbbbbbbbbbbb", 10, 10));
    p.line("Digest: sha256:00");
    EXPECT_EQ(cap.text(),
              "aaaaaaaaaaaa: Already exists\n"
              "bbbbbbbbbbbb: Pulling fs layer\n"
              "bbbbbbbbbbbb: Verifying Checksum\n"
              "bbbbbbbbbbbb: Download complete\n"
              "bbbbbbbbbbbb: Pull complete\n"
              "Digest: sha256:00\n");
}

TEST(TransferProgressPlain, PushPrintsDockersLinesWithoutCounts) {
    Capture cap;
    TransferProgress p(cap.file(), {});
    p.push(push_ev(P::kPreparing, "aaaaaaaaaaaa"));
    p.push(push_ev(P::kPreparing, "bbbbbbbbbbbb"));
    p.push(push_ev(P::kPreparing, "cccccccccccc"));
    p.push(push_ev(P::kPushing, "aaaaaaaaaaaa", 5, 10));
    p.push(push_ev(P::kPushed, "aaaaaaaaaaaa"));
    p.push(push_ev(P::kExists, "bbbbbbbbbbbb"));
    p.push(push_ev(P::kMounted, "cccccccccccc", 0, 0, "library/busybox"));
    EXPECT_EQ(cap.text(),
              "aaaaaaaaaaaa: Preparing\n"
              "bbbbbbbbbbbb: Preparing\n"
              "cccccccccccc: Preparing\n"
              "aaaaaaaaaaaa: Pushed\n"
              "bbbbbbbbbbbb: Layer already exists\n"
              "cccccccccccc: Mounted from library/busybox\n");
}

TEST(TransferProgressLive, PullRedrawsEachLayersLineInPlace) {
    Capture cap;
    FakeClock clock;
    TransferProgress p(cap.file(), live(120, clock));
    p.pull(pull_ev(K::kResolved, ""));
    p.pull(pull_ev(K::kWaiting, "aaaaaaaaaaaa", 0, 1000000));
    p.pull(pull_ev(K::kWaiting, "bbbbbbbbbbbb", 0, 2000));
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 500000, 1000000));
    p.pull(pull_ev(K::kAlreadyExists, "cccccccccccc"));
    p.pull(pull_ev(K::kVerifying, "aaaaaaaaaaaa", 1000000, 1000000));
    p.pull(pull_ev(K::kComplete, "aaaaaaaaaaaa", 1000000, 1000000));
    const std::string half =
        "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]    500kB/1MB";
    EXPECT_EQ(cap.text(), "\n" + redraw(1, "aaaaaaaaaaaa: Pulling fs layer ") +  //
                              "\n" + redraw(1, "bbbbbbbbbbbb: Pulling fs layer ") +
                              redraw(2, "aaaaaaaaaaaa: Downloading " + half) +  //
                              "\n" + redraw(1, "cccccccccccc: Already exists ") +
                              redraw(3, "aaaaaaaaaaaa: Verifying Checksum ") +
                              redraw(3, "aaaaaaaaaaaa: Pull complete "));
}

TEST(TransferProgressLive, ScreenShowsOneLinePerLayerAndTheFooterBelow) {
    Capture cap;
    FakeClock clock;
    {
        TransferProgress p(cap.file(), live(80, clock));
        p.line("latest: Pulling from library/busybox");
        p.pull(pull_ev(K::kResolved, ""));
        p.pull(pull_ev(K::kAlreadyExists, "aaaaaaaaaaaa"));
        p.pull(pull_ev(K::kWaiting, "bbbbbbbbbbbb", 0, 3400000));
        p.pull(pull_ev(K::kWaiting, "cccccccccccc", 0, 100));
        for (int64_t done = 100000; done < 3400000; done += 100000) {
            clock.t += 50ms;
            p.pull(pull_ev(K::kDownloading, "bbbbbbbbbbbb", done, 3400000));
        }
        p.pull(pull_ev(K::kVerifying, "cccccccccccc", 100, 100));
        p.pull(pull_ev(K::kComplete, "cccccccccccc", 100, 100));
        p.line("Digest: sha256:00");
        p.line("Status: Downloaded newer image for busybox:latest");
    }
    Screen s;
    s.feed(cap.text());
    EXPECT_EQ(s.lines(), (std::vector<std::string>{
                             "latest: Pulling from library/busybox",
                             "aaaaaaaaaaaa: Already exists",
                             "bbbbbbbbbbbb: Downloading    3.3MB/3.4MB",
                             "cccccccccccc: Pull complete",
                             "Digest: sha256:00",
                             "Status: Downloaded newer image for busybox:latest",
                             "",
                         }));
}

TEST(TransferProgressLive, ByteCountsAreRedrawnAtMostTenTimesASecond) {
    Capture cap;
    FakeClock clock;
    TransferProgress p(cap.file(), live(80, clock));
    p.pull(pull_ev(K::kWaiting, "aaaaaaaaaaaa", 0, 1000));
    const std::string after_wait = cap.text();
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 100, 1000));  // a new state: drawn
    clock.t += 40ms;
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 200, 1000));  // too soon
    clock.t += 40ms;
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 300, 1000));  // too soon
    clock.t += 40ms;
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 400, 1000));   // 120 ms: drawn
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 1000, 1000));  // the last byte: drawn
    EXPECT_EQ(cap.text(), after_wait + redraw(1, "aaaaaaaaaaaa: Downloading     100B/1kB") +
                              redraw(1, "aaaaaaaaaaaa: Downloading     400B/1kB") +
                              redraw(1, "aaaaaaaaaaaa: Downloading      1kB/1kB"));
}

TEST(TransferProgressLive, APlainLineStartsANewBlock) {
    Capture cap;
    FakeClock clock;
    TransferProgress p(cap.file(), live(80, clock));
    p.pull(pull_ev(K::kWaiting, "aaaaaaaaaaaa"));
    p.line("between");
    p.pull(pull_ev(K::kComplete, "aaaaaaaaaaaa"));  // a line of its own below, not above
    EXPECT_EQ(cap.text(), "\n" + redraw(1, "aaaaaaaaaaaa: Pulling fs layer ") + "between\n" + "\n" +
                              redraw(1, "aaaaaaaaaaaa: Pull complete "));
}

TEST(TransferProgressLive, PushShowsPushingWithABarAndTheEndStates) {
    Capture cap;
    FakeClock clock;
    {
        TransferProgress p(cap.file(), live(200, clock));
        p.line("The push refers to repository [127.0.0.1:5000/team/app]");
        p.push(push_ev(P::kPreparing, "aaaaaaaaaaaa"));
        p.push(push_ev(P::kPreparing, "bbbbbbbbbbbb"));
        p.push(push_ev(P::kPreparing, "cccccccccccc"));
        p.push(push_ev(P::kPushing, "aaaaaaaaaaaa", 250, 1000));
        p.push(push_ev(P::kExists, "bbbbbbbbbbbb"));
        p.push(push_ev(P::kMounted, "cccccccccccc", 0, 0, "team/base"));
        p.line("latest: digest: sha256:00 size: 528");
    }
    Screen s;
    s.feed(cap.text());
    EXPECT_EQ(s.lines(),
              (std::vector<std::string>{
                  "The push refers to repository [127.0.0.1:5000/team/app]",
                  "aaaaaaaaaaaa: Pushing [============>" + std::string(38, ' ') + "]     250B/1kB",
                  "bbbbbbbbbbbb: Layer already exists",
                  "cccccccccccc: Mounted from team/base",
                  "latest: digest: sha256:00 size: 528",
                  "",
              }));
}

TEST(TransferProgressLive, LinesAreCutBeforeTheLastColumn) {
    Capture cap;
    FakeClock clock;
    TransferProgress p(cap.file(), live(20, clock));
    p.push(push_ev(P::kMounted, "aaaaaaaaaaaa", 0, 0, "some/long/repository"));
    EXPECT_EQ(cap.text(), "\n" + redraw(1, "aaaaaaaaaaaa: Mount"));
}

// The live view is for terminals only, and not for TERM=dumb: checked on
// a real pseudo-terminal and a pipe.
TEST(TransferProgressLive, OnlyOnATerminalThatIsNotDumb) {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) GTEST_SKIP() << "no pseudo-terminals here (posix_openpt failed)";
    ASSERT_EQ(::grantpt(master.get()), 0);
    ASSERT_EQ(::unlockpt(master.get()), 0);
    UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);

    const char* saved = std::getenv("TERM");
    const std::string old = saved ? saved : "";
    ::setenv("TERM", "xterm-256color", 1);
    EXPECT_TRUE(wants_live_transfer_view(slave.get()));
    EXPECT_FALSE(wants_live_transfer_view(w.get()));
    ::setenv("TERM", "dumb", 1);
    EXPECT_FALSE(wants_live_transfer_view(slave.get()));
    ::unsetenv("TERM");
    EXPECT_TRUE(wants_live_transfer_view(slave.get()));
    if (saved) ::setenv("TERM", old.c_str(), 1);
}

TEST(TransferProgressLive, WidthIsReadFromTheTerminalAtEachRedraw) {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) GTEST_SKIP() << "no pseudo-terminals here (posix_openpt failed)";
    ASSERT_EQ(::grantpt(master.get()), 0);
    ASSERT_EQ(::unlockpt(master.get()), 0);
    UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    struct winsize ws {};
    ws.ws_row = 24;
    ws.ws_col = 150;
    ASSERT_EQ(::ioctl(slave.get(), TIOCSWINSZ, &ws), 0);

    Capture cap;
    FakeClock clock;
    TransferProgress::Options o = live(80, clock);
    o.width_fd = slave.get();
    TransferProgress p(cap.file(), o);
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 0, 1000));
    ws.ws_col = 100;  // the window narrowed: the bar goes
    ASSERT_EQ(::ioctl(slave.get(), TIOCSWINSZ, &ws), 0);
    p.pull(pull_ev(K::kDownloading, "aaaaaaaaaaaa", 1000, 1000));
    EXPECT_EQ(
        cap.text(),
        "\n" + redraw(1, "aaaaaaaaaaaa: Downloading [>" + std::string(50, ' ') + "]       0B/1kB") +
            redraw(1, "aaaaaaaaaaaa: Downloading      1kB/1kB"));
}

TEST(BuildPullProgress, PrintsBuildKitsLayerLines) {
    FakeClock clock;
    std::vector<std::string> lines;
    auto cb = build_pull_progress(
        "docker.io/library/busybox:latest", [&](std::string_view l) { lines.emplace_back(l); },
        clock.fn());
    const std::string layer = "sha256:" + std::string(64, 'b');
    registry::PullEvent resolved = pull_ev(K::kResolved, "");
    resolved.digest = store::Digest::parse("sha256:" + std::string(64, 'a'));
    cb(resolved);
    cb(pull_ev(K::kAlreadyExists, "cccccccccccc"));  // not mentioned
    auto ev = [&](K k, int64_t done) {
        registry::PullEvent e = pull_ev(k, "bbbbbbbbbbbb", done, 3 * 1024 * 1024);
        e.digest = store::Digest::parse(layer);
        return e;
    };
    cb(ev(K::kWaiting, 0));
    clock.t += 500ms;
    cb(ev(K::kDownloading, 1024 * 1024));  // under a second: no line
    clock.t += 700ms;
    cb(ev(K::kDownloading, 2 * 1024 * 1024));  // 1.2 s: a line
    clock.t += 300ms;
    cb(ev(K::kDownloading, 2 * 1024 * 1024 + 1));  // 0.3 s after the last line: none
    clock.t += 100ms;
    cb(ev(K::kVerifying, 3 * 1024 * 1024));
    cb(ev(K::kComplete, 3 * 1024 * 1024));
    // A layer that took no time: no seconds, as BuildKit leaves out < 10 ms.
    registry::PullEvent quick = ev(K::kWaiting, 0);
    quick.id = "dddddddddddd";
    cb(quick);
    quick.kind = K::kVerifying;
    quick.total = 512;
    cb(quick);
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "resolve docker.io/library/busybox:latest@sha256:" + std::string(64, 'a') +
                             " done",
                         layer + " 2.0MB / 3.0MB 1.2s",
                         layer + " 3.0MB / 3.0MB 1.6s done",
                         layer + " 512B / 512B done",
                     }));
}

TEST(BuildPullProgress, ADigestReferenceIsResolvedAsItIs) {
    std::vector<std::string> lines;
    const std::string ref = "docker.io/library/busybox@sha256:" + std::string(64, 'a');
    auto cb = build_pull_progress(ref, [&](std::string_view l) { lines.emplace_back(l); });
    registry::PullEvent resolved = pull_ev(K::kResolved, "");
    resolved.digest = store::Digest::parse("sha256:" + std::string(64, 'a'));
    cb(resolved);
    EXPECT_EQ(lines, std::vector<std::string>{"resolve " + ref + " done"});
}

}  // namespace
}  // namespace strata::cli
