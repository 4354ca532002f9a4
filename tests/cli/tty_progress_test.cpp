// The live progress view, checked through a small terminal model: what
// the bytes it writes leave on a screen of a given size, scrollback included.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/build_progress.hpp"

namespace strata::cli {
namespace {

// A terminal of `width` × `height` with unlimited scrollback, understanding
// what the view may write: printable text (wrapping at the right margin),
// \n, \r, ESC[nA (cursor up, never above the top of the screen) and ESC[J
// (erase to the end of the screen). Anything else fails the test.
struct Screen {
    using Line = std::vector<std::string>;  // one code point per cell
    int width, height;
    std::vector<Line> rows{Line()};  // scrollback + screen
    size_t row = 0, col = 0;
    bool hit_top = false;  // a cursor-up was cut short by the top of the screen

    size_t top() const { return rows.size() > size_t(height) ? rows.size() - height : 0; }
    void newline() {
        ++row;
        col = 0;
        if (row == rows.size()) rows.emplace_back();
    }
    void put(const std::string& cp) {
        if (col == size_t(width)) newline();  // the terminal wraps
        Line& l = rows[row];
        if (l.size() <= col) l.resize(col + 1, " ");
        l[col++] = cp;
    }
    void feed(const std::string& bytes) {
        for (size_t i = 0; i < bytes.size(); ++i) {
            const char c = bytes[i];
            if (c == '\n') {
                newline();
            } else if (c == '\r') {
                col = 0;
            } else if (c == '\x1b') {
                ASSERT_LT(i + 1, bytes.size());
                ASSERT_EQ(bytes[i + 1], '[') << "only CSI sequences expected";
                size_t j = i + 2, n = 0;
                bool digits = false;
                while (j < bytes.size() && isdigit(static_cast<unsigned char>(bytes[j]))) {
                    n = n * 10 + size_t(bytes[j] - '0');
                    digits = true;
                    ++j;
                }
                ASSERT_LT(j, bytes.size());
                if (bytes[j] == 'A') {
                    const size_t up = digits ? n : 1;
                    const size_t lowest = top();
                    hit_top = hit_top || row < lowest + up;
                    row = row >= lowest + up ? row - up : lowest;
                } else if (bytes[j] == 'J') {
                    rows[row].resize(std::min(rows[row].size(), col));
                    rows.resize(row + 1);
                } else {
                    FAIL() << "unexpected escape sequence ending in " << bytes[j];
                }
                i = j;
            } else {
                ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "control byte " << int(c);
                std::string cp(1, c);
                while (i + 1 < bytes.size() &&
                       (static_cast<unsigned char>(bytes[i + 1]) & 0xc0) == 0x80)
                    cp += bytes[++i];
                put(cp);
            }
        }
    }
    // Every row as text, and the rows with content, trailing spaces removed.
    std::vector<std::string> all() const {
        std::vector<std::string> out;
        for (const auto& l : rows) {
            std::string t;
            for (const auto& cp : l)
                t += cp;
            while (!t.empty() && t.back() == ' ')
                t.pop_back();
            out.push_back(t);
        }
        return out;
    }
    std::vector<std::string> text() const {
        std::vector<std::string> out;
        for (auto& t : all())
            if (!t.empty()) out.push_back(t);
        return out;
    }
};

size_t code_points(const std::string& s) {
    size_t n = 0;
    for (char c : s)
        n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return n;
}

bool starts_with(const std::string& s, const std::string& p) {
    return s.compare(0, p.size(), p) == 0;
}

class TtyProgressTest : public ::testing::Test {
  protected:
    void SetUp() override {
        file_ = std::tmpfile();
        ASSERT_NE(file_, nullptr);
    }
    void TearDown() override { std::fclose(file_); }
    std::string written() {
        std::fflush(file_);
        std::string out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0)
            out.append(buf, n);
        std::fseek(file_, 0, SEEK_END);
        return out;
    }
    Screen replay(int width, int height) {
        Screen s{width, height};
        s.feed(written());
        return s;
    }
    FILE* file_ = nullptr;
};

TEST_F(TtyProgressTest, FinishedStepsStayOnceInOrderAndTheLiveRegionGoes) {
    {
        auto p = make_tty_progress(file_, 60, 24);
        p->started(1, "[1/3] FROM busybox");
        p->cached(1);
        p->started(2, "[2/3] COPY a /a");
        p->started(3, "[3/3] RUN make");
        p->log(3, "compiling");
        p->done(2, 0.25);
        p->note("note: a note");
        p->done(3, 1.5);
    }
    const auto lines = replay(60, 24).text();
    ASSERT_EQ(lines.size(), 5u) << ::testing::PrintToString(lines);
    EXPECT_TRUE(starts_with(lines[0], " => CACHED [1/3] FROM busybox")) << lines[0];
    EXPECT_TRUE(starts_with(lines[1], " => [2/3] COPY a /a")) << lines[1];
    EXPECT_TRUE(lines[1].ends_with(" 0.2s") || lines[1].ends_with(" 0.3s")) << lines[1];
    EXPECT_EQ(lines[2], "note: a note");
    EXPECT_TRUE(starts_with(lines[3], " => [3/3] RUN make")) << lines[3];
    EXPECT_TRUE(lines[3].ends_with(" 1.5s")) << lines[3];
    EXPECT_TRUE(starts_with(lines[4], "[+] Building ")) << lines[4];
    EXPECT_TRUE(lines[4].ends_with("(3/3) FINISHED")) << lines[4];
}

TEST_F(TtyProgressTest, OutputLinesAreShownAsATerminalWouldShowThem) {
    auto p = make_tty_progress(file_, 80, 24);
    p->started(1, "[1/1] RUN\tfetch");
    p->log(1, "\x1b[31mred\x1b[0m\tand tab");
    p->log(1, "progress 10%\rprogress 50%\rprogress 100%\r");
    p->log(1, std::string("bell\a, nul ") + '\0' + "and\x1b(B charset\x1b]0;title\a");
    p->note("n");  // draws the live region now
    const auto lines = replay(80, 24).text();
    ASSERT_GE(lines.size(), 5u) << ::testing::PrintToString(lines);
    const size_t n = lines.size();
    EXPECT_TRUE(starts_with(lines[n - 5], "[+] Building ")) << lines[n - 5];
    EXPECT_TRUE(starts_with(lines[n - 4], " => [1/1] RUN fetch")) << lines[n - 4];
    EXPECT_EQ(lines[n - 3], " => => red and tab");
    EXPECT_EQ(lines[n - 2], " => => progress 100%");
    EXPECT_EQ(lines[n - 1], " => => bell, nul and charset");
    p->done(1, 0.1);
}

TEST_F(TtyProgressTest, LongLinesAreCutBeforeTheMarginWithoutSplittingUtf8) {
    const int width = 40;
    {
        auto p = make_tty_progress(file_, width, 24);
        std::string name = "[1/1] COPY ";
        for (int i = 0; i < 30; ++i)
            name += "\xc3\xa9";  // é
        p->started(1, name);
        p->log(1, std::string(200, 'x'));
        p->note("n");
        p->done(1, 0.0);
    }
    const Screen s = replay(width, 24);
    for (const auto& l : s.all()) {
        EXPECT_LT(code_points(l), size_t(width)) << l;
        for (size_t i = 0; i < l.size(); ++i) {  // no cut sequence: lead bytes have their tails
            const auto c = static_cast<unsigned char>(l[i]);
            if (c == 0xc3) {
                ASSERT_LT(i + 1, l.size());
                EXPECT_EQ(static_cast<unsigned char>(l[i + 1]), 0xa9);
            }
        }
    }
    const auto lines = s.text();
    ASSERT_EQ(lines.size(), 3u) << ::testing::PrintToString(lines);  // the note, the step, FINISHED
    EXPECT_NE(lines[1].find("..."), std::string::npos) << lines[1];
}

TEST_F(TtyProgressTest, ManyRunningStepsNeverOutgrowTheScreen) {
    const int height = 8;
    {
        auto p = make_tty_progress(file_, 60, height);
        for (int i = 1; i <= 30; ++i) {
            p->started(i, fmt::format("[{}/30] RUN step", i));
            p->log(i, "output of " + std::to_string(i));
        }
        p->note("n");
        const Screen mid = replay(60, height);
        EXPECT_FALSE(mid.hit_top) << "the live region grew taller than the screen";
        const auto lines = mid.text();
        ASSERT_FALSE(lines.empty());
        EXPECT_NE(lines.back().find("more"), std::string::npos) << lines.back();
        for (int i = 30; i >= 1; --i)
            p->done(i, 0.0);
    }
    const Screen s = replay(60, height);
    EXPECT_FALSE(s.hit_top);
    const auto lines = s.text();
    // The note, the 30 steps in the order they started, FINISHED; nothing of
    // the live region is left behind.
    ASSERT_EQ(lines.size(), 32u) << ::testing::PrintToString(lines);
    EXPECT_EQ(lines[0], "n");
    for (int i = 1; i <= 30; ++i)
        EXPECT_TRUE(starts_with(lines[size_t(i)], " => [" + std::to_string(i) + "/30] RUN step"))
            << lines[size_t(i)];
    EXPECT_TRUE(lines[31].ends_with("(30/30) FINISHED")) << lines[31];
}

TEST_F(TtyProgressTest, AStepThatEndsFirstWaitsForTheOnesStartedBefore) {
    {
        auto p = make_tty_progress(file_, 60, 24);
        p->started(1, "[a 1/1] RUN slow");
        p->started(2, "[b 1/1] RUN fast");
        p->done(2, 0.0);
        p->note("n");
        const auto mid = replay(60, 24).text();
        ASSERT_EQ(mid.size(), 4u) << ::testing::PrintToString(mid);  // note, header, a, b
        EXPECT_TRUE(starts_with(mid[2], " => [a 1/1] RUN slow")) << mid[2];
        EXPECT_TRUE(starts_with(mid[3], " => [b 1/1] RUN fast")) << mid[3];
        p->started(3, "[a 2/2] RUN never ends");  // still running when the view goes
        p->done(1, 0.0);
    }
    const auto lines = replay(60, 24).text();
    ASSERT_EQ(lines.size(), 5u) << ::testing::PrintToString(lines);
    EXPECT_TRUE(starts_with(lines[1], " => [a 1/1] RUN slow")) << lines[1];
    EXPECT_TRUE(starts_with(lines[2], " => [b 1/1] RUN fast")) << lines[2];
    EXPECT_TRUE(starts_with(lines[3], " => [a 2/2] RUN never ends")) << lines[3];
    EXPECT_TRUE(lines[4].ends_with("(2/3) FINISHED")) << lines[4];
}

TEST_F(TtyProgressTest, AFailedStepShowsItsOutputAndTheError) {
    {
        auto p = make_tty_progress(file_, 80, 24);
        p->started(1, "[1/1] RUN false");
        p->log(1, "last words");
        p->failed(1, 0.1,
                  "process \"/bin/sh -c false\" did not complete successfully: exit code: 1");
    }
    const auto lines = replay(80, 24).text();
    ASSERT_EQ(lines.size(), 7u) << ::testing::PrintToString(lines);
    EXPECT_TRUE(starts_with(lines[0], " => ERROR [1/1] RUN false")) << lines[0];
    EXPECT_EQ(lines[1], "------");
    EXPECT_EQ(lines[2], " > [1/1] RUN false:");
    EXPECT_EQ(lines[3], "last words");
    EXPECT_NE(lines[4].find("exit code: 1"), std::string::npos);
    EXPECT_EQ(lines[5], "------");
    EXPECT_TRUE(lines[6].ends_with("(1/1) FINISHED")) << lines[6];
}

}  // namespace
}  // namespace strata::cli
