// FakeRun — a RunExecutor standing in for the container runtime in build
// tests: it records what it was asked (the request and its step), writes
// "ran-<last word of the command>" into the upper directory, prints one
// line, records what warm_up() announced, calls `during_run`, and can hold
// a step until another one is running too (up to `wait_for_company`), which
// is how a test sees two stages at once without timing anything.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "executor/run/run_executor.hpp"
#include "planner/build_plan.hpp"

namespace strata::buildtest {

namespace fs = std::filesystem;

class FakeRun final : public executor::RunExecutor {
  public:
    explicit FakeRun(std::chrono::milliseconds wait_for_company) : wait_(wait_for_company) {}

    // Called in each step, before it writes its file: what the test looks
    // at while the step runs.
    std::function<void(const executor::RunRequest&)> during_run;

    void run(const executor::RunRequest& r) override {
        {
            std::unique_lock lock(mu_);
            requests_.push_back(r);
            steps_.push_back(*r.step);  // the plan is gone when the build returns
            requests_.back().step = nullptr;
            // The directories exist while the step runs (afterwards the
            // upper one has become the layer).
            bool ok = fs::is_directory(r.upper_dir) && fs::is_empty(r.upper_dir) &&
                      fs::is_directory(r.work_dir);
            for (const auto& l : r.lower_layers)
                ok = ok && fs::is_directory(l);
            dirs_ok_ = dirs_ok_ && ok;
            ++in_flight_;
            max_in_flight_ = std::max(max_in_flight_, in_flight_);
            cv_.notify_all();
            // Once two were in flight together, none waits: the one that
            // arrived second may be done before the first wakes up.
            cv_.wait_for(lock, wait_, [&] { return max_in_flight_ >= 2; });
        }
        if (during_run) during_run(r);
        const std::string& last = r.step->argv.back();
        std::ofstream(r.upper_dir / ("ran-" + last.substr(last.rfind(' ') + 1))) << last;
        if (r.output) r.output("ran " + last);
        std::lock_guard lock(mu_);
        --in_flight_;
        cv_.notify_all();
    }

    // warm_up(): the command of each step announced, and where.
    void warm_up(const planner::RunStep& step, const fs::path& scratch_parent) override {
        std::lock_guard lock(mu_);
        warm_ups_.push_back(step.argv.back());
        warm_up_scratch_ = scratch_parent;
    }
    std::vector<std::string> warm_ups() {
        std::lock_guard lock(mu_);
        return warm_ups_;
    }
    fs::path warm_up_scratch() {
        std::lock_guard lock(mu_);
        return warm_up_scratch_;
    }

    int max_in_flight() {
        std::lock_guard lock(mu_);
        return max_in_flight_;
    }
    std::vector<executor::RunRequest> requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }
    std::vector<planner::RunStep> steps() {
        std::lock_guard lock(mu_);
        return steps_;
    }
    bool dirs_ok() {
        std::lock_guard lock(mu_);
        return dirs_ok_;
    }

  private:
    std::chrono::milliseconds wait_;
    std::mutex mu_;
    std::condition_variable cv_;
    int in_flight_ = 0, max_in_flight_ = 0;
    bool dirs_ok_ = true;
    std::vector<executor::RunRequest> requests_;
    std::vector<planner::RunStep> steps_;
    std::vector<std::string> warm_ups_;
    fs::path warm_up_scratch_;
};

}  // namespace strata::buildtest
