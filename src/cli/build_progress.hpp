// Renderers of a build's progress events (executor::ProgressSink), in
// BuildKit's two styles:
//
// - plain: one line per event, each prefixed with the vertex number, as
//   `docker build --progress=plain` prints them ("#5 [2/3] COPY a /a",
//   "#5 CACHED", "#5 DONE 0.1s"); the format for logs and CI.
// - tty: a live view redrawn in place on a terminal: one line per vertex
//   with its state and time, the last output lines of what is running, and a
//   "[+] Building 1.2s (5/7)" header.
//
// Both write to a FILE* (stderr in the CLI) and are thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "executor/progress.hpp"

namespace strata::cli {

std::unique_ptr<executor::ProgressSink> make_plain_progress(FILE* out);
// `width` and `height` are the terminal's size: lines are cut to fit, and
// the live region stays shorter than the screen.
std::unique_ptr<executor::ProgressSink> make_tty_progress(FILE* out, int width, int height);

// Whether `fd` is a terminal, and its size (80×24 when unknown).
bool is_terminal(int fd);
int terminal_width(int fd);
int terminal_height(int fd);

}  // namespace strata::cli
