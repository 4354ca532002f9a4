#include "sandbox/nft_generation.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <memory>

namespace strata::sandbox {

namespace {

struct SockFree {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct MsgFree {
    void operator()(nl_msg* m) const { nlmsg_free(m); }
};

int on_reply(nl_msg* msg, void* arg) {
    nlattr* attrs[NFTA_GEN_MAX + 1] = {};
    if (nlmsg_parse(nlmsg_hdr(msg), sizeof(nfgenmsg), attrs, NFTA_GEN_MAX, nullptr) == 0 &&
        attrs[NFTA_GEN_ID] && nla_len(attrs[NFTA_GEN_ID]) >= static_cast<int>(sizeof(uint32_t)))
        *static_cast<std::optional<uint32_t>*>(arg) = ntohl(nla_get_u32(attrs[NFTA_GEN_ID]));
    return NL_STOP;
}

}  // namespace

std::optional<uint32_t> nftables_generation() {
    std::unique_ptr<nl_sock, SockFree> sock(nl_socket_alloc());
    if (!sock || nl_connect(sock.get(), NETLINK_NETFILTER) < 0) return std::nullopt;
    std::unique_ptr<nl_msg, MsgFree> msg(
        nlmsg_alloc_simple((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST));
    if (!msg) return std::nullopt;
    nfgenmsg header{};
    header.nfgen_family = AF_UNSPEC;
    header.version = NFNETLINK_V0;
    if (nlmsg_append(msg.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0 ||
        nl_send_auto(sock.get(), msg.get()) < 0)
        return std::nullopt;
    std::optional<uint32_t> generation;
    if (nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_reply, &generation) < 0 ||
        nl_recvmsgs_default(sock.get()) < 0)
        return std::nullopt;
    return generation;
}

}  // namespace strata::sandbox
