// Where and how osbd reaches one OpenSandbox service: what a request's Connection (or the
// daemon's defaults) resolves to.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/upstream/curl_loop.h"

namespace osb::daemon {

struct Origin {
  std::string protocol = "http";  // also used for execd endpoints, as the official SDKs do
  std::string authority;          // host:port, from the domain
  std::string api_key;            // sent as OPEN-SANDBOX-API-KEY when non-empty
  HeaderList headers;             // extra headers for every request
  bool use_server_proxy = false;
  absl::Duration request_timeout = absl::Seconds(30);
  std::string ca_file;  // PEM certificate authorities trusted for https; empty: the system's
  // The gRPC call the requests serve, when its cancellation must abort them. What must happen
  // whatever becomes of the call (a cleanup, a lease kept after it) drops it: Detached().
  std::shared_ptr<CancelToken> cancel;

  // This origin for requests that belong to no call.
  Origin Detached() const {
    Origin o = *this;
    o.cancel = nullptr;
    return o;
  }
  // "{protocol}://{authority}/v1"
  std::string LifecycleBase() const { return protocol + "://" + authority + "/v1"; }
};

// An execd endpoint: base URL (protocol + the endpoint, no trailing slash) and the headers the
// lifecycle API said to send with every request to it.
// The port execd listens on in every sandbox; the endpoint API takes it in its path.
inline constexpr int kExecdPort = 44772;

struct ExecdEndpoint {
  std::string endpoint;  // as the server gave it (no scheme)
  std::string base_url;
  HeaderList headers;
  // How long a unary execd request may take: the request timeout of the call using the endpoint
  // (capped by its deadline), set by DaemonContext::WithExecd; the endpoint cache keeps the
  // default. Streams set their own.
  absl::Duration request_timeout = absl::Seconds(30);
  // The calling request's cancellation, set with request_timeout (Origin::cancel).
  std::shared_ptr<CancelToken> cancel;
  std::string ca_file;  // the origin's (Origin::ca_file)
  // Drops this endpoint from osbd's cache (set by DaemonContext::WithExecd). ExecdClient calls it
  // when a request finds the endpoint gone: a connection failure, or 404, 502 or 503 from it
  // (the sandbox killed, moved by a resume, or its proxy without a backend).
  std::function<void()> forget;

  // This endpoint for a request that must not end with its call: one that creates something
  // (a session, a context) which an abandoned request could leave behind unknown.
  ExecdEndpoint Detached() const {
    ExecdEndpoint e = *this;
    e.cancel = nullptr;
    return e;
  }
};

// Splits a domain as the official SDKs accept it ("host:port", "http://host:port",
// "https://host/v1") into protocol (when it names one) and authority.
absl::Status ParseDomain(const std::string& domain, std::string* protocol, std::string* authority);

// The headers of a request to an execd endpoint, as the official SDKs send them: the
// connection's own (Origin::headers), then the endpoint's; a connection header the endpoint also
// names is left out (the endpoint's wins, compared without case).
HeaderList WithConnectionHeaders(const HeaderList& connection, HeaderList endpoint);

}  // namespace osb::daemon
