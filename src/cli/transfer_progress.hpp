// How `strata pull` and `strata push` show their layers, as `docker pull` and
// `docker push` do (docker/cli's jsonmessage rendering of the daemon's
// progress stream):
//
// - on a terminal, one line per layer, redrawn in place as its state changes
//   ("Pulling fs layer", "Downloading [==>   ]  1.08MB/49.56MB", "Verifying
//   Checksum", "Pull complete"); the cursor moves up to the layer's line and
//   back below the block, so lines printed afterwards ("Digest: …") follow it;
// - otherwise one plain line per state change ("ID: Pull complete"), no byte
//   counts, the format scripts and tests read.
//
// And, for a FROM image pulled during a build, BuildKit's status lines under
// the build's vertex ("sha256:… 1.2MB / 3.4MB 0.3s", "… 0.2s done").
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "registry/pull.hpp"
#include "registry/push.hpp"

namespace strata::cli {

using TransferClock = std::chrono::steady_clock;

// go-units HumanSize, which docker's progress bars use: decimal units, four
// significant digits ("999B", "1.08MB", "49.56MB"). `docker images` uses
// three (human_size in image_commands_common.hpp).
std::string transfer_size(int64_t bytes);

// jsonmessage's JSONProgress.String() for bytes: "[=====>      ]  1.2MB/3.4MB".
// The bar (50 columns, one '=' per 2%) only when the terminal is wider than
// 110 columns, the counts alone otherwise; "" when nothing is known yet.
std::string progress_text(int64_t current, int64_t total, int width);

// Whether `fd` gets the live view: a terminal, and TERM is not "dumb".
bool wants_live_transfer_view(int fd);

class TransferProgress {
  public:
    struct Options {
        bool live = false;  // the terminal view; plain lines otherwise
        int width = 80;     // columns, when `width_fd` is not a terminal
        int width_fd = -1;  // read the width from this terminal at each redraw
        // A byte-count line is redrawn at most this often (state changes
        // always are).
        std::chrono::milliseconds min_interval{100};
        std::function<TransferClock::time_point()> now;  // tests: a fake clock
    };

    TransferProgress(FILE* out, Options options);

    void pull(const registry::PullEvent& e);
    void push(const registry::PushEvent& e);
    // A line that belongs to no layer: printed below the block, which then
    // ends (a later layer event starts a new one, as docker resets its map).
    void line(std::string_view text);

  private:
    void status(const std::string& id, const std::string& text, int64_t current, int64_t total,
                bool counts);
    int width() const;

    FILE* out_;
    Options opt_;
    std::mutex mu_;
    struct Row {
        size_t index = 0;
        TransferClock::time_point drawn{};
        std::string text;  // the status it shows
    };
    std::map<std::string, Row> rows_;
};

// The progress callback for a pull inside a build: BuildKit's status lines
// for the image, passed to `log` (the build vertex's log):
//   resolve docker.io/library/busybox:latest@sha256:… done
//   sha256:<64 hex> 1.2MB / 3.4MB 1.0s      (at most once a second a layer)
//   sha256:<64 hex> 3.4MB / 3.4MB 1.3s done (when its download ends)
// Layers the store has already are not mentioned, as BuildKit does not.
std::function<void(const registry::PullEvent&)> build_pull_progress(
    std::string shown_ref, std::function<void(std::string_view)> log,
    std::function<TransferClock::time_point()> now = {});

}  // namespace strata::cli
