// SandboxProcess: a started container or exec'd process, from its start
// until wait() has reaped it, read its output and status, and cleaned up.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <string>
#include <utility>

#include "base/error.hpp"
#include "base/in_root.hpp"
#include "sandbox/mount_stubs.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/sandbox_process_state.hpp"

namespace strata::sandbox {

namespace {

class OutputTail {
  public:
    void add(std::string line) {
        lines_.push_back(std::move(line));
        if (lines_.size() > Sandbox::kTailLines) lines_.pop_front();
    }
    std::string str() const {
        std::string s;
        for (const auto& l : lines_)
            s += l + "\n";
        return s;
    }

  private:
    std::deque<std::string> lines_;
};

void read_output(int fd, const OutputSink& sink, OutputTail& tail) {
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (sink) sink(line);
            tail.add(std::move(line));
        }
    }
    if (!pending.empty()) {
        if (sink) sink(pending);
        tail.add(pending);
    }
}

}  // namespace

SandboxProcess::SandboxProcess(std::unique_ptr<State> state) : s_(std::move(state)) {}

bool SandboxProcess::failed_to_start() const {
    // Status lines other than mount-point stubs are init's errors.
    const std::string& text = s_->status_text;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos && text.compare(pos, 6, "stub:/") != 0) return true;
        pos = nl + 1;
    }
    return false;
}
SandboxProcess::SandboxProcess(SandboxProcess&&) noexcept = default;
SandboxProcess& SandboxProcess::operator=(SandboxProcess&&) noexcept = default;
SandboxProcess::~SandboxProcess() = default;

pid_t SandboxProcess::pid() const {
    return s_ ? s_->pid : -1;
}

uint64_t SandboxProcess::start_time() const {
    // Read when first asked (not on a RUN step's path); the pid is ours
    // until wait() reaps it, so the answer is init's.
    if (s_ && !s_->start_time && !s_->waited) s_->start_time = process_start_time(s_->pid);
    return s_ && s_->start_time ? *s_->start_time : 0;
}

int SandboxProcess::pty_master() const {
    return s_ ? s_->pty.get() : -1;
}

UniqueFd SandboxProcess::take_pty_master() {
    return s_ ? std::move(s_->pty) : UniqueFd();
}

bool SandboxProcess::waited() const {
    return !s_ || s_->waited;
}

void SandboxProcess::signal(int sig) const {
    if (waited())
        throw Error(ErrorKind::kInternal, "signal " + std::to_string(sig) +
                                              ": the container's process has been waited for");
    if (::kill(s_->pid, sig) != 0)
        throw system_error("kill -" + std::to_string(sig), s_->description);
}

Result SandboxProcess::wait(const OutputSink& output, bool leave_cleanup) {
    if (waited())
        throw Error(ErrorKind::kInternal, "wait: the container's process has been waited for");
    State& s = *s_;
    OutputTail tail;
    if (s.out_read) {
        read_output(s.out_read.get(), output, tail);
        s.out_read.reset();
    }
    int wstatus = 0;
    while (::waitpid(s.pid, &wstatus, 0) < 0) {
        if (errno != EINTR) throw system_error("wait for", s.description);
    }
    s.waited = true;
    Result result;
    result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    result.output_tail = tail.str();
    if (result.exit_code == 124 && WIFEXITED(wstatus) && s.status_text.empty())
        result.setup_error = "could not join the container's cgroup or namespaces";
    // init's status lines: "stub:<path>" for each mount point file it made,
    // anything else is why it could not set the container up.
    const std::string& text = s.status_text;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("stub:/", 0) == 0)
            result.stubs.push_back(clean_in_root(line.substr(5)));
        else if (!line.empty())
            result.setup_error += (result.setup_error.empty() ? "" : "\n") + line;
    }
    // With a PID namespace every process of the container is gone now (its
    // init's exit waits for them): the cgroup may go later. Chroot
    // isolation may have none, and its cgroup's kill must come first.
    if (s.iso) s.iso->finish(result, leave_cleanup && !s.chroot_mode);
    if (s.chroot_mode && result.exit_code == 0 && result.setup_error.empty()) {
        Spec spec;
        spec.root = s.root;
        finish_chroot_root(spec, s.rootfs, *s.chroot_snapshot);
    }
    result.stubs.insert(result.stubs.end(), s.premade_stubs.begin(), s.premade_stubs.end());
    if (!s.root.upper.empty()) remove_stubs(s.root.upper, result.stubs);
    if (s.scratch && leave_cleanup) result.leftovers.push_back(std::move(s.scratch));
    s.scratch.reset();
    return result;
}

}  // namespace strata::sandbox
