// Options: a bag of typed settings, in the style of google-cloud-cpp, for how the SDK reaches
// osbd and which OpenSandbox service osbd talks to on its behalf.
//
//   auto options = opensandbox::Options{}
//                      .set<opensandbox::DomainOption>("sandbox.example.com")
//                      .set<opensandbox::ApiKeyOption>(key);
//   auto sandbox = opensandbox::Sandbox::Create("python:3.11", {}, options);
//
// Every option is optional. An unset option takes the default its comment states; several read
// the same environment variables as the official SDKs' ConnectionConfig.
#pragma once

#include <any>
#include <map>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include "absl/time/time.h"

namespace opensandbox {

// A set of options, each keyed by its type. Copyable; cheap for the handful it holds.
class Options {
 public:
  // Sets option T to `value`, replacing any earlier value; returns *this for chaining.
  template <typename T>
  Options& set(typename T::Type value) & {
    values_[typeid(T)] = std::move(value);
    return *this;
  }
  template <typename T>
  Options&& set(typename T::Type value) && {
    return std::move(set<T>(std::move(value)));
  }

  // Whether option T was set.
  template <typename T>
  bool has() const {
    return values_.count(typeid(T)) != 0;
  }

  // Option T's value; a value-initialized T::Type when unset.
  template <typename T>
  typename T::Type get() const {
    auto it = values_.find(typeid(T));
    if (it == values_.end()) return typename T::Type{};
    return std::any_cast<typename T::Type>(it->second);
  }

  // Option T's value when set, else `fallback`.
  template <typename T>
  typename T::Type get_or(typename T::Type fallback) const {
    return has<T>() ? get<T>() : std::move(fallback);
  }

 private:
  std::unordered_map<std::type_index, std::any> values_;
};

// osbd's Unix socket. Unset: env OSBD_SOCKET, else $XDG_RUNTIME_DIR/opensandbox/osbd.sock
// (/run/opensandbox/osbd.sock for root, /tmp/opensandbox-<uid>/osbd.sock otherwise), where osbd
// listens by default.
struct SocketPathOption {
  using Type = std::string;
};

// An osbd executable to start (detached, its log beside the socket) when nothing answers on the
// socket. Unset: env OSBD_BINARY; when that is empty too, no daemon is started and connecting
// fails with kUnavailable.
struct DaemonBinaryOption {
  using Type = std::string;
};

// Host[:port] (or an http(s):// URL) of the OpenSandbox lifecycle server, the SDKs' `domain`.
// Unset: env OPEN_SANDBOX_DOMAIN; empty means osbd's default service (its configured domain, or
// the embedded osb-runtime).
struct DomainOption {
  using Type = std::string;
};

// API key osbd sends upstream as OPEN-SANDBOX-API-KEY. Unset: env OPEN_SANDBOX_API_KEY; empty
// means osbd's own key for its default service (osbd never sends it to another domain).
struct ApiKeyOption {
  using Type = std::string;
};

// "http" or "https". Unset: env OPEN_SANDBOX_PROTOCOL; empty lets osbd decide.
struct ProtocolOption {
  using Type = std::string;
};

// Extra HTTP headers osbd sends on every upstream request for this client.
struct HeadersOption {
  using Type = std::map<std::string, std::string>;
};

// Reach execd through the lifecycle server's proxy route. Unset: false.
struct UseServerProxyOption {
  using Type = bool;
};

// Limit of each upstream HTTP request osbd makes (for streams: until the headers arrive).
// Unset: osbd's default, 30 s.
struct RequestTimeoutOption {
  using Type = absl::Duration;
};

// A connection profile of osbd's config file. Unset: the default profile.
struct ProfileOption {
  using Type = std::string;
};

// Deadline of each call to osbd that is not a stream of output (streams are bounded by their
// own timeouts). Unset: 5 minutes, enough for a create with its readiness wait.
struct CallTimeoutOption {
  using Type = absl::Duration;
};

}  // namespace opensandbox
