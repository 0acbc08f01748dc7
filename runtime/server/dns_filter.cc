#include "runtime/server/dns_filter.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "rest/sys/file_util.h"
#include "runtime/server/dns_message.h"
#include "runtime/server/egress_routes.h"
#include "runtime/server/network_namespace.h"

namespace osb::runtime {
namespace {

constexpr int kMaxWaiting = 64;       // queries of one sandbox waiting for the upstream server
constexpr size_t kMaxRouted = 4096;     // addresses routed for one sandbox
constexpr size_t kMaxNamesPerAddress = 16;  // names kept for one routed address
constexpr absl::Duration kUpstreamTimeout = absl::Seconds(4);

// The first nameserver of /etc/resolv.conf, or "127.0.0.1".
std::string HostResolver() {
  auto conf = ReadFile("/etc/resolv.conf");
  if (conf.ok()) {
    for (absl::string_view line : absl::StrSplit(*conf, '\n')) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (words.size() >= 2 && words[0] == "nameserver") return std::string(words[1]);
    }
  }
  return "127.0.0.1";
}

}  // namespace

struct DnsFilter::Sandbox {
  std::string id;
  EgressPolicy policy;
  UniqueFd socket;                     // UDP, non-blocking, in the sandbox's namespace
  std::optional<EgressRoutes> routes;  // when it denies by default
  int waiting = 0;                     // the loop's
  std::set<in_addr_t> routed;          // the loop's
  // The names each routed address was an answer for (at most kMaxNamesPerAddress), so that a
  // policy change keeps the routes of names still allowed. The loop's.
  std::map<in_addr_t, std::set<std::string>> names_of;
};

struct DnsFilter::PolicyChange {
  std::string id;
  EgressPolicy policy;
  absl::Status result;
  bool in_force = false;
  absl::Notification applied;
};

struct DnsFilter::Pending {
  std::shared_ptr<Sandbox> sandbox;
  UniqueFd upstream;  // connected to the upstream server: only its answers arrive here
  dns::Query query;
  sockaddr_storage client{};
  socklen_t client_size = 0;
  absl::Time deadline;
};

absl::StatusOr<std::unique_ptr<DnsFilter>> DnsFilter::Start(const std::string& upstream) {
  std::string host = upstream.empty() ? HostResolver() : upstream;
  std::string port = "53";
  if (std::count(host.begin(), host.end(), ':') == 1) {
    std::vector<std::string> parts = absl::StrSplit(host, ':');
    host = parts[0];
    port = parts[1];
  }
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    if (!upstream.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the DNS server for egress rules must be an IP address with an optional port, not \"",
          upstream, "\""));
    }
    // The host's own configuration is not the user's mistake: say so and use the fallback.
    std::fprintf(stderr,
                 "osb-runtime: the first nameserver of /etc/resolv.conf (%s) is not an IP "
                 "address; egress rules by name ask 127.0.0.1 (set --egress-dns)\n",
                 host.c_str());
    return Start("127.0.0.1");
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const socklen_t size = found->ai_addrlen;
  ::freeaddrinfo(found);
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return ErrnoStatus("eventfd", errno);
  std::unique_ptr<DnsFilter> filter(new DnsFilter(address, size, std::move(wake)));
  filter->loop_ = std::thread([f = filter.get()] { f->Loop(); });
  return filter;
}

DnsFilter::DnsFilter(sockaddr_storage upstream, socklen_t upstream_size, UniqueFd wake)
    : upstream_(upstream), upstream_size_(upstream_size), wake_(std::move(wake)) {}

DnsFilter::~DnsFilter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  loop_.join();
}

std::string DnsFilter::upstream() const {
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  ::getnameinfo(reinterpret_cast<const sockaddr*>(&upstream_), upstream_size_, host, sizeof host,
                port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  return absl::StrCat(host, ":", port);
}

absl::Status DnsFilter::Add(const std::string& id, pid_t agent_pid, const EgressPolicy& policy) {
  auto sandbox = std::make_shared<Sandbox>();
  sandbox->id = id;
  sandbox->policy = policy;
  int bind_errno = 0;
  absl::Status entered = InNetworkNamespace(agent_pid, [&] {
    sandbox->socket.Reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sandbox->socket.valid()) {
      bind_errno = errno;
      return;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(53);
    ::inet_pton(AF_INET, kFilterDns, &address.sin_addr);
    // The socket of a runtime that was just killed can outlive it for a moment (a child it was
    // starting holds a copy until that child execs or exits): try again for a while.
    const absl::Time deadline = absl::Now() + absl::Seconds(3);
    while (::bind(sandbox->socket.get(), reinterpret_cast<sockaddr*>(&address),
                  sizeof address) != 0) {
      bind_errno = errno;
      if (bind_errno != EADDRINUSE || absl::Now() > deadline) return;
      absl::SleepFor(absl::Milliseconds(20));
    }
    bind_errno = 0;
  });
  if (!entered.ok()) return entered;
  if (bind_errno != 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve DNS on ", kFilterDns,
                                               ":53 inside the sandbox: ",
                                               std::strerror(bind_errno)));
  }
  if (!policy.default_allow()) {
    auto routes = EgressRoutes::Open(agent_pid);
    if (!routes.ok()) return routes.status();
    sandbox->routes.emplace(*std::move(routes));
  }
  {
    absl::MutexLock lock(&mu_);
    sandboxes_[id] = std::move(sandbox);
  }
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  return absl::OkStatus();
}

void DnsFilter::Remove(const std::string& id) {
  {
    absl::MutexLock lock(&mu_);
    if (sandboxes_.erase(id) == 0) return;
  }
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

absl::Status DnsFilter::SetPolicy(const std::string& id, const EgressPolicy& policy,
                                  bool* applied) {
  *applied = false;
  auto change = std::make_shared<PolicyChange>();
  change->id = id;
  change->policy = policy;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("osb-runtime is stopping");
    if (sandboxes_.count(id) == 0) {
      return absl::NotFoundError(absl::StrCat("the DNS filter does not serve sandbox ", id));
    }
    changes_.push_back(change);
  }
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (!change->applied.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    // Still queued: taken back, so it is surely not applied. Taken by the loop meanwhile: it is
    // being applied, which ends.
    absl::MutexLock lock(&mu_);
    auto queued = std::find(changes_.begin(), changes_.end(), change);
    if (queued != changes_.end()) {
      changes_.erase(queued);
      return absl::DeadlineExceededError("the DNS filter did not take the new policy in time");
    }
  }
  change->applied.WaitForNotification();
  *applied = change->in_force;
  return change->result;
}

// On the loop.
void DnsFilter::Apply(const std::vector<std::shared_ptr<Sandbox>>& served, PolicyChange& change) {
  for (const auto& sandbox : served) {
    if (sandbox->id != change.id) continue;
    sandbox->policy = change.policy;
    change.in_force = true;
    if (sandbox->routes.has_value()) {
      // The routes of addresses an allowed name still leads to stay (live connections go on);
      // every other route the namespace lists goes, those made before a restart of the runtime
      // included. A failure leaves some, which the next change lists again.
      std::set<in_addr_t> keep;
      for (const auto& [address, names] : sandbox->names_of) {
        for (const std::string& name : names) {
          if (sandbox->policy.Allows(name)) {
            keep.insert(address);
            break;
          }
        }
      }
      change.result = sandbox->routes->ForgetAllBut(keep);
      sandbox->routed = keep;
      for (auto it = sandbox->names_of.begin(); it != sandbox->names_of.end();) {
        it = keep.count(it->first) != 0 ? std::next(it) : sandbox->names_of.erase(it);
      }
    }
    change.applied.Notify();
    return;
  }
  change.result = absl::NotFoundError(absl::StrCat("sandbox ", change.id, " is gone"));
  change.applied.Notify();
}

void DnsFilter::Loop() {
  std::vector<std::shared_ptr<Sandbox>> served;
  std::vector<std::shared_ptr<PolicyChange>> changes;
  std::vector<pollfd> fds;
  while (true) {
    served.clear();
    changes.clear();
    {
      absl::MutexLock lock(&mu_);
      changes.swap(changes_);
      if (stopping_) {
        for (const auto& c : changes) {
          c->result = absl::UnavailableError("osb-runtime is stopping");
          c->applied.Notify();
        }
        return;
      }
      for (const auto& [id, sandbox] : sandboxes_) served.push_back(sandbox);
    }
    for (const auto& c : changes) Apply(served, *c);
    fds.clear();
    fds.push_back(pollfd{wake_.get(), POLLIN, 0});
    for (const auto& s : served) fds.push_back(pollfd{s->socket.get(), POLLIN, 0});
    absl::Duration wait = absl::Seconds(1);
    const absl::Time now = absl::Now();
    for (const auto& [fd, pending] : pending_) {
      fds.push_back(pollfd{fd, POLLIN, 0});
      wait = std::min(wait, std::max(absl::ZeroDuration(), pending->deadline - now));
    }
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1;
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      std::fprintf(stderr, "osb-runtime: DNS filter: poll: %s\n", std::strerror(errno));
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    if (fds[0].revents != 0) {
      uint64_t value;
      (void)!::read(wake_.get(), &value, sizeof value);
    }
    for (size_t i = 0; i < served.size(); ++i) {
      if (fds[1 + i].revents != 0) Serve(served[i]);
    }
    for (size_t i = 1 + served.size(); i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = pending_.find(fds[i].fd);
      if (it == pending_.end()) continue;
      Finish(*it->second);
      pending_.erase(it);
    }
    const absl::Time later = absl::Now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& p = *it->second;
      if (p.deadline > later) {
        ++it;
        continue;
      }
      const std::string failed = dns::Reply(p.query, dns::Rcode::kServFail);
      ::sendto(p.sandbox->socket.get(), failed.data(), failed.size(), 0,
               reinterpret_cast<const sockaddr*>(&p.client), p.client_size);
      --p.sandbox->waiting;
      it = pending_.erase(it);
    }
  }
}

void DnsFilter::Serve(const std::shared_ptr<Sandbox>& sandbox) {
  char packet[1500];
  for (int i = 0; i < 16; ++i) {  // then the others get their turn
    sockaddr_storage client{};
    socklen_t client_size = sizeof client;
    const ssize_t n = ::recvfrom(sandbox->socket.get(), packet, sizeof packet, 0,
                                 reinterpret_cast<sockaddr*>(&client), &client_size);
    if (n < 0) return;
    auto reply = [&](const std::string& answer) {
      if (answer.empty()) return;
      ::sendto(sandbox->socket.get(), answer.data(), answer.size(), 0,
               reinterpret_cast<const sockaddr*>(&client), client_size);
    };
    const std::string_view bytes(packet, static_cast<size_t>(n));
    auto query = dns::ParseQuery(bytes);
    if (!query.ok()) {
      reply(dns::FormatError(bytes));
      continue;
    }
    if (!sandbox->policy.Allows(query->name)) {
      reply(dns::Reply(*query, dns::Rcode::kNxDomain));
      continue;
    }
    const bool route = sandbox->routes.has_value();
    if (route && query->type == dns::kTypeAAAA) {  // IPv4 only: no address of this kind
      reply(dns::Reply(*query, dns::Rcode::kNoError));
      continue;
    }
    if (sandbox->waiting >= kMaxWaiting) continue;  // dropped: the client asks again
    auto pending = std::make_unique<Pending>();
    pending->upstream.Reset(
        ::socket(upstream_.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!pending->upstream.valid() ||
        ::connect(pending->upstream.get(), reinterpret_cast<const sockaddr*>(&upstream_),
                  upstream_size_) != 0 ||
        ::send(pending->upstream.get(), packet, static_cast<size_t>(n), 0) != n) {
      reply(dns::Reply(*query, dns::Rcode::kServFail));
      continue;
    }
    pending->sandbox = sandbox;
    pending->query = *std::move(query);
    pending->client = client;
    pending->client_size = client_size;
    pending->deadline = absl::Now() + kUpstreamTimeout;
    ++sandbox->waiting;
    const int fd = pending->upstream.get();
    pending_[fd] = std::move(pending);
  }
}

void DnsFilter::Finish(Pending& p) {
  static char answer[65536];  // the loop's alone
  Sandbox& sandbox = *p.sandbox;
  --sandbox.waiting;
  const ssize_t n = ::recv(p.upstream.get(), answer, sizeof answer, 0);
  std::string reply;
  const bool allowed = sandbox.policy.Allows(p.query.name);  // the policy may have changed since
  if (!allowed) {
    reply = dns::Reply(p.query, dns::Rcode::kNxDomain);  // denied while it was being asked
  } else if (n <= 0) {
    reply = dns::Reply(p.query, dns::Rcode::kServFail);  // refused by the upstream host
  } else {
    reply.assign(answer, static_cast<size_t>(n));
  }
  if (allowed && n > 0 && sandbox.routes.has_value()) {
    // Routed before the sandbox learns the addresses, so its connection finds its way; an answer
    // whose addresses cannot be routed would only mislead, so it becomes SERVFAIL.
    auto addresses = dns::AnswerAddresses(reply, p.query.id);
    absl::Status routed = addresses.status();
    if (addresses.ok()) {
      for (const in_addr& a : *addresses) {
        if (sandbox.routed.count(a.s_addr) == 0) {
          if (sandbox.routed.size() >= kMaxRouted) {
            routed = absl::ResourceExhaustedError("too many addresses routed for this sandbox");
            break;
          }
          routed = sandbox.routes->Allow(a);
          if (!routed.ok()) break;
          sandbox.routed.insert(a.s_addr);
        }
        std::set<std::string>& names = sandbox.names_of[a.s_addr];
        if (names.size() < kMaxNamesPerAddress) names.insert(p.query.name);
      }
    }
    if (!routed.ok()) {
      std::fprintf(stderr, "osb-runtime: sandbox %s: DNS answer for %s withheld: %s\n",
                   sandbox.id.c_str(), p.query.name.c_str(),
                   std::string(routed.message()).c_str());
      reply = dns::Reply(p.query, dns::Rcode::kServFail);
    }
  }
  ::sendto(sandbox.socket.get(), reply.data(), reply.size(), 0,
           reinterpret_cast<const sockaddr*>(&p.client), p.client_size);
}

}  // namespace osb::runtime
