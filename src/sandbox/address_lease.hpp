// AddressLease — one IPv4 address of the bridge's subnet, held by one
// process for one container (the bridge network's address management).
//
// The leases are host-global (every store's containers share the bridge):
// one file per address in `dir` (/run/strata/network/leases: a tmpfs, gone
// at reboot like the bridge), named by the address, holding its owner — the
// process that holds the container's network namespace, by pid and start
// time (base/process_ref.hpp) — and the container's ID. Addresses are given
// under an flock on `dir`/.lock, in turn (`dir`/.next holds where the next
// search starts), so that a released address is not taken again at once; a
// lease whose owner is dead (kill -9) is free, so nothing leaks for long.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/process_ref.hpp"
#include "sandbox/ipv4.hpp"

namespace strata::sandbox {

struct LeaseRecord {
    ProcessRef owner;
    std::string container_id;
};

class AddressLease {
  public:
    // The next address of `subnet` in turn (after its gateway, the first host
    // address, and before its broadcast address) that no live owner holds;
    // its lease file names `owner` and `container_id`. Creates `dir` (0700)
    // if missing. Throws Error when the subnet is full.
    static AddressLease acquire(const std::filesystem::path& dir, const Ipv4Subnet& subnet,
                                const ProcessRef& owner, const std::string& container_id);

    AddressLease(AddressLease&& other) noexcept;
    AddressLease& operator=(AddressLease&& other) noexcept;
    AddressLease(const AddressLease&) = delete;
    AddressLease& operator=(const AddressLease&) = delete;
    // Removes the lease file (when it still names this lease's owner).
    ~AddressLease();

    uint32_t address() const { return address_; }
    const std::filesystem::path& file() const { return file_; }

    // A lease file's content; nullopt when it is missing or unreadable.
    static std::optional<LeaseRecord> read(const std::filesystem::path& file);

  private:
    AddressLease() = default;
    void release() noexcept;

    uint32_t address_ = 0;
    std::filesystem::path file_;
    LeaseRecord record_;
};

// mkdir -p, mode 0700 for every directory it makes (the network state is
// root's alone). Throws Error.
void make_private_dirs(const std::filesystem::path& dir);

}  // namespace strata::sandbox
