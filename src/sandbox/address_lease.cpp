#include "sandbox/address_lease.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

#include "base/error.hpp"
#include "base/lock_file.hpp"
#include "base/unique_fd.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;

namespace {

std::string format_record(const LeaseRecord& r) {
    return fmt::format("pid={}\nstart={}\ncontainer={}\n", r.owner.pid(), r.owner.start_time(),
                       r.container_id);
}

void write_lease(const fs::path& file, const LeaseRecord& r) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) throw system_error("open lease file", file.string());
    const std::string text = format_record(r);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw system_error("write lease file", file.string());
}

}  // namespace

void make_private_dirs(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return;
    if (errno != ENOENT || !dir.has_parent_path() || dir.parent_path() == dir)
        throw system_error("mkdir", dir.string());
    make_private_dirs(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw system_error("mkdir", dir.string());
}

std::optional<LeaseRecord> AddressLease::read(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    long pid = 0;
    uint64_t start = 0;
    std::string container;
    bool have_pid = false, have_start = false;
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        try {
            if (key == "pid") {
                pid = std::stol(value);
                have_pid = true;
            } else if (key == "start") {
                start = std::stoull(value);
                have_start = true;
            } else if (key == "container") {
                container = value;
            }
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    if (!have_pid || !have_start || pid <= 0) return std::nullopt;
    return LeaseRecord{ProcessRef(static_cast<pid_t>(pid), start), container};
}

AddressLease AddressLease::acquire(const fs::path& dir, const Ipv4Subnet& subnet,
                                   const ProcessRef& owner, const std::string& container_id) {
    make_private_dirs(dir);
    const LockFile lock = LockFile::exclusive(dir / ".lock");
    // In turn from after the last address given (.next), wrapping around: an
    // address just released is not given again at once (its veth may still
    // be on its way out with its namespace, and peers may still have its
    // old MAC address cached). A torn or unreadable lease (its writer died
    // mid-write) is free too: its owner cannot be told.
    const uint32_t first = subnet.gateway() + 1, last = subnet.broadcast() - 1;
    if (first > last)
        throw Error(ErrorKind::kUsage, fmt::format("the subnet {} has no address for a container",
                                                   subnet.to_string()));
    const fs::path next_file = dir / ".next";
    uint32_t start = first;
    {
        std::ifstream in(next_file);
        std::string text;
        in >> text;
        if (const auto hint = parse_ipv4(text); hint && *hint >= first && *hint <= last)
            start = *hint;
    }
    const uint32_t count = last - first + 1;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t a = first + (start - first + i) % count;
        const fs::path file = dir / format_ipv4(a);
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0) {
            const auto held = read(file);
            if (held && held->owner.alive()) continue;
        } else if (errno != ENOENT) {
            throw system_error("stat lease file", file.string());
        }
        AddressLease lease;
        lease.address_ = a;
        lease.file_ = file;
        lease.record_ = {owner, container_id};
        write_lease(file, lease.record_);
        std::ofstream(next_file, std::ios::trunc) << format_ipv4(a == last ? first : a + 1) << "\n";
        return lease;
    }
    throw Error(ErrorKind::kConflict,
                fmt::format("no free address left in the bridge's subnet {} (leases in {})",
                            subnet.to_string(), dir.string()));
}

AddressLease::AddressLease(AddressLease&& other) noexcept
    : address_(std::exchange(other.address_, 0)),
      file_(std::exchange(other.file_, {})),
      record_(std::move(other.record_)) {}

AddressLease& AddressLease::operator=(AddressLease&& other) noexcept {
    if (this != &other) {
        release();
        address_ = std::exchange(other.address_, 0);
        file_ = std::exchange(other.file_, {});
        record_ = std::move(other.record_);
    }
    return *this;
}

AddressLease::~AddressLease() {
    release();
}

void AddressLease::release() noexcept {
    if (file_.empty()) return;
    // Only an owner that is gone loses its lease to another process, and
    // the owner is alive while it runs this: the file is still ours unless
    // something else removed it. Checked all the same, without the lock.
    const auto held = read(file_);
    if (held && held->owner.pid() == record_.owner.pid() &&
        held->owner.start_time() == record_.owner.start_time() &&
        held->container_id == record_.container_id)
        ::unlink(file_.c_str());
    file_.clear();
}

}  // namespace strata::sandbox
