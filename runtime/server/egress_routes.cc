#include "runtime/server/egress_routes.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rest/sys/file_util.h"
#include "runtime/server/egress.h"
#include "runtime/server/network_namespace.h"

namespace osb::runtime {
namespace {

struct Route {
  in_addr destination{};
  int prefix = 32;
  unsigned char type = RTN_UNICAST;
  unsigned char scope = RT_SCOPE_UNIVERSE;
  const in_addr* gateway = nullptr;
  int link = 0;  // 0: none
};

in_addr Address(const char* text) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return a;
}

// A NETLINK_ROUTE socket; create it inside the namespace whose routes it changes.
absl::StatusOr<UniqueFd> NetlinkSocket() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return ErrnoStatus("netlink socket", errno);
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// A netlink route request in one buffer: the header, the rtmsg, then attributes. (Attributes
// written through a pointer to the header alone overflow it, as GCC's -O3 analysis says.)
class RouteRequest {
 public:
  nlmsghdr& header() { return *reinterpret_cast<nlmsghdr*>(bytes_); }
  rtmsg& message() { return *static_cast<rtmsg*>(NLMSG_DATA(&header())); }
  const char* data() const { return bytes_; }

  void AddAttribute(unsigned short type, const void* data, size_t size) {
    const size_t at = NLMSG_ALIGN(header().nlmsg_len);
    rtattr attr{.rta_len = static_cast<unsigned short>(RTA_LENGTH(size)), .rta_type = type};
    std::memcpy(bytes_ + at, &attr, sizeof attr);
    std::memcpy(bytes_ + at + RTA_LENGTH(0), data, size);
    header().nlmsg_len = static_cast<uint32_t>(at + RTA_ALIGN(attr.rta_len));
  }

 private:
  alignas(nlmsghdr) char bytes_[NLMSG_SPACE(sizeof(rtmsg)) + 64] = {};
};

// Adds (or replaces) `route` in the main table, or deletes it (`add` false; a route that is not
// there is no error), and waits for the kernel's answer.
absl::Status ChangeRoute(int netlink, uint32_t seq, const Route& route, bool add = true) {
  RouteRequest request;
  nlmsghdr& header = request.header();
  header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  header.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  header.nlmsg_seq = seq;
  rtmsg& message = request.message();
  message.rtm_family = AF_INET;
  message.rtm_dst_len = static_cast<unsigned char>(route.prefix);
  message.rtm_table = RT_TABLE_MAIN;
  message.rtm_protocol = RTPROT_STATIC;
  message.rtm_scope = route.scope;
  message.rtm_type = route.type;
  request.AddAttribute(RTA_DST, &route.destination, sizeof route.destination);
  if (route.gateway != nullptr) {
    request.AddAttribute(RTA_GATEWAY, route.gateway, sizeof *route.gateway);
  }
  if (route.link != 0) {
    const auto link = static_cast<uint32_t>(route.link);
    request.AddAttribute(RTA_OIF, &link, sizeof link);
  }
  char text[INET_ADDRSTRLEN] = "?";
  ::inet_ntop(AF_INET, &route.destination, text, sizeof text);
  const std::string what = absl::StrCat(add ? "add" : "delete", " route ", text, "/", route.prefix);
  if (::send(netlink, request.data(), header.nlmsg_len, 0) < 0) return ErrnoStatus(what, errno);
  alignas(nlmsghdr) char answer[1024];
  while (true) {
    const ssize_t got = ::recv(netlink, answer, sizeof answer, 0);
    if (got < 0) return ErrnoStatus(what + ": no answer from the kernel", errno);
    auto left = static_cast<unsigned>(got);
    for (auto* h = reinterpret_cast<nlmsghdr*>(answer); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) continue;
      const int error = -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
      if (error == 0 || (!add && error == ESRCH)) return absl::OkStatus();
      return ErrnoStatus(what, error);
    }
  }
}

// The helper's gateway, the one way out of a sandbox whose routes are closed.
const in_addr& Gateway() {
  static const in_addr gateway = Address(kSandboxGateway);
  return gateway;
}

// `address` alone, via the gateway on the helper's interface `link`: a route of EgressRoutes.
Route HostRouteViaGateway(in_addr address, int link) {
  Route route;
  route.destination = address;
  route.gateway = &Gateway();
  route.link = link;
  return route;
}

// Runs `routes` in the agent's namespace, in order, stopping at the first failure.
absl::Status AddRoutes(pid_t agent_pid, const std::vector<Route>& routes) {
  absl::Status result;
  absl::Status entered = InNetworkNamespace(agent_pid, [&] {
    auto netlink = NetlinkSocket();
    if (!netlink.ok()) {
      result = netlink.status();
      return;
    }
    uint32_t seq = 0;
    for (const Route& r : routes) {
      result = ChangeRoute(netlink->get(), ++seq, r);
      if (!result.ok()) return;
    }
  });
  return entered.ok() ? result : entered;
}

// The index of the helper's interface (that of the default route), or 0.
int HelperLink(pid_t agent_pid) {
  const std::string name = DefaultRouteInterface(agent_pid);
  if (name.empty()) return 0;
  int link = 0;
  (void)InNetworkNamespace(agent_pid,
                           [&] { link = static_cast<int>(::if_nametoindex(name.c_str())); });
  return link;
}

}  // namespace

absl::Status EgressRoutes::Close(pid_t agent_pid) {
  std::vector<Route> routes(2);
  routes[0].destination = Address("0.0.0.0");
  routes[1].destination = Address("128.0.0.0");
  for (Route& r : routes) {
    r.prefix = 1;
    r.type = RTN_PROHIBIT;
  }
  return AddRoutes(agent_pid, routes);
}

absl::Status EgressRoutes::OpenGateway(pid_t agent_pid) {
  const int link = HelperLink(agent_pid);
  if (link == 0) return absl::UnavailableError("the network helper's interface is not there");
  // The gateway on its own first: the /25s below cover it, and routes via it need it on-link.
  std::vector<Route> routes(3);
  routes[0].destination = Gateway();
  routes[0].scope = RT_SCOPE_LINK;
  routes[0].link = link;
  routes[1].destination = Address("10.0.2.0");
  routes[2].destination = Address("10.0.2.128");
  for (int i : {1, 2}) {
    routes[i].prefix = 25;
    routes[i].type = RTN_PROHIBIT;
  }
  return AddRoutes(agent_pid, routes);
}

absl::StatusOr<EgressRoutes> EgressRoutes::Open(pid_t agent_pid) {
  const int link = HelperLink(agent_pid);
  if (link == 0) return absl::UnavailableError("the network helper's interface is not there");
  absl::StatusOr<UniqueFd> netlink = absl::UnavailableError("not opened");
  if (auto s = InNetworkNamespace(agent_pid, [&] { netlink = NetlinkSocket(); }); !s.ok()) {
    return s;
  }
  if (!netlink.ok()) return netlink.status();
  return EgressRoutes(*std::move(netlink), link);
}

absl::Status EgressRoutes::Allow(in_addr address) {
  return ChangeRoute(netlink_.get(), ++seq_, HostRouteViaGateway(address, link_));
}

absl::Status EgressRoutes::ForgetAllBut(const std::set<in_addr_t>& keep) {
  struct {
    nlmsghdr header;
    rtmsg message;
  } request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = ++seq_;
  request.message.rtm_family = AF_INET;
  if (::send(netlink_.get(), &request, request.header.nlmsg_len, 0) < 0) {
    return ErrnoStatus("list routes", errno);
  }
  std::vector<in_addr> routed;
  alignas(nlmsghdr) char answer[16384];
  for (bool done = false; !done;) {
    const ssize_t got = ::recv(netlink_.get(), answer, sizeof answer, 0);
    if (got < 0) return ErrnoStatus("list routes: no answer from the kernel", errno);
    auto left = static_cast<unsigned>(got);
    for (auto* h = reinterpret_cast<nlmsghdr*>(answer); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != request.header.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        // Its payload is the dump's error, when it ended with one.
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *static_cast<int*>(NLMSG_DATA(h)) < 0) {
          return ErrnoStatus("list routes", -*static_cast<int*>(NLMSG_DATA(h)));
        }
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        return ErrnoStatus("list routes", -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error);
      }
      if (h->nlmsg_type != RTM_NEWROUTE) continue;
      auto* route = static_cast<rtmsg*>(NLMSG_DATA(h));
      if (route->rtm_table != RT_TABLE_MAIN || route->rtm_dst_len != 32 ||
          route->rtm_type != RTN_UNICAST) {
        continue;
      }
      in_addr destination{}, via{};
      bool has_destination = false, has_via = false;
      int size = static_cast<int>(RTM_PAYLOAD(h));
      for (auto* a = RTM_RTA(route); RTA_OK(a, size); a = RTA_NEXT(a, size)) {
        if (RTA_PAYLOAD(a) != sizeof(in_addr)) continue;
        if (a->rta_type == RTA_DST) {
          std::memcpy(&destination, RTA_DATA(a), sizeof destination);
          has_destination = true;
        } else if (a->rta_type == RTA_GATEWAY) {
          std::memcpy(&via, RTA_DATA(a), sizeof via);
          has_via = true;
        }
      }
      if (has_destination && has_via && via.s_addr == Gateway().s_addr &&
          keep.count(destination.s_addr) == 0) {
        routed.push_back(destination);
      }
    }
  }
  for (const in_addr& address : routed) {
    const Route route = HostRouteViaGateway(address, link_);
    if (auto s = ChangeRoute(netlink_.get(), ++seq_, route, /*add=*/false); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace osb::runtime
