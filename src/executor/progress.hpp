// ProgressSink — how a build reports what it does, without printing anything
// itself: the CLI hands in a renderer (plain lines, a live terminal view, or
// nothing) and the executor only emits events.
//
// A build is a set of *vertices*, as in BuildKit's progress stream: internal
// actions ("[internal] load build context", "exporting to image") and the
// steps of the Dockerfile ("[build 2/5] COPY . /src"). Each vertex starts,
// may print status lines, and ends exactly once: cached, done or failed.
// Events for one vertex come from one thread at a time, but vertices of
// stages built in parallel report concurrently: sinks must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace strata::executor {

class ProgressSink {
  public:
    virtual ~ProgressSink() = default;
    virtual void started(int id, const std::string& name) = 0;
    // One line of status or of a command's output (no trailing newline).
    virtual void log(int id, std::string_view line) = 0;
    // A cache hit: nothing was done.
    virtual void cached(int id) = 0;
    virtual void done(int id, double seconds) = 0;
    virtual void failed(int id, double seconds, const std::string& error) = 0;
    // Messages that belong to no vertex: warnings, --explain reports.
    virtual void note(const std::string& text) = 0;
};

// "512B", "1.5kB", "9.8MB": sizes in progress lines (binary units, as
// BuildKit prints transfer sizes).
inline std::string progress_bytes(uint64_t n) {
    char buf[32];
    if (n < 1024)
        std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(n));
    else if (n < 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.1fkB", static_cast<double>(n) / 1024);
    else
        std::snprintf(buf, sizeof buf, "%.1fMB", static_cast<double>(n) / (1024 * 1024));
    return buf;
}

// A sink that drops everything (library use, tests).
class NullProgress final : public ProgressSink {
  public:
    void started(int, const std::string&) override {}
    void log(int, std::string_view) override {}
    void cached(int) override {}
    void done(int, double) override {}
    void failed(int, double, const std::string&) override {}
    void note(const std::string&) override {}
};

// One vertex, from start to end. Ending it twice is harmless; destroying it
// without an end (an exception on the way) reports it failed.
class Vertex {
  public:
    Vertex(ProgressSink& sink, int id, const std::string& name)
        : sink_(&sink), id_(id), start_(std::chrono::steady_clock::now()) {
        sink_->started(id_, name);
    }
    Vertex(const Vertex&) = delete;
    Vertex& operator=(const Vertex&) = delete;
    ~Vertex() {
        if (!ended_) sink_->failed(id_, seconds(), "interrupted");
    }

    int id() const { return id_; }
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    void log(std::string_view line) { sink_->log(id_, line); }
    void cached() {
        end([&] { sink_->cached(id_); });
    }
    void done() {
        end([&] { sink_->done(id_, seconds()); });
    }
    // Done, the work having ended at `when` (reported later).
    void done_at(std::chrono::steady_clock::time_point when) {
        end([&] { sink_->done(id_, std::chrono::duration<double>(when - start_).count()); });
    }
    void failed(const std::string& error) {
        end([&] { sink_->failed(id_, seconds(), error); });
    }

  private:
    template <typename F>
    void end(F f) {
        if (ended_) return;
        ended_ = true;
        f();
    }

    ProgressSink* sink_;
    int id_;
    std::chrono::steady_clock::time_point start_;
    bool ended_ = false;
};

}  // namespace strata::executor
