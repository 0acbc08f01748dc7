// The daemon's one upstream event loop: a thread running a libcurl multi handle, so every HTTP
// transfer to every OpenSandbox origin shares one connection cache (keep-alive reuse), one DNS
// cache and TLS sessions. Callers on any thread start transfers and post work; every callback
// runs on the loop thread and must not block.
//
//   CurlLoop loop;
//   loop.Start({.method = "GET", .url = url}, {.on_done = [](HttpResult r) { ... }});
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/upstream/cancel_token.h"

namespace osb::daemon {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  // Whole-transfer deadline; InfiniteDuration for streams that live as long as they must.
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  // The body is not `body` but what HttpHandler::on_send produces, sent chunked as it comes.
  bool stream_body = false;
  // The call this request serves, when its cancellation must end the transfer (Cancelled).
  std::shared_ptr<CancelToken> cancel;
  // PEM file of the certificate authorities trusted for https; empty: the system's.
  std::string ca_file;
  // 1 for a request's first send; a caller that sends it again (CallJson's retries) counts up.
  int attempt = 1;
};

struct HttpResult {
  // OK when an HTTP response arrived completely (whatever its status); otherwise why not:
  // Unavailable (connect or transfer failure), DeadlineExceeded, Cancelled, ResourceExhausted
  // (buffered body over the limit).
  absl::Status transport;
  int status = 0;
  HeaderList headers;  // names lowercased
  std::string body;    // only when no on_data handler was given
  std::string header(absl::string_view name) const;
};

enum class DataAction { kContinue, kPause, kAbort };

// A transfer that failed for want of a connection (refused, reset, unresolvable, TLS) ends
// Unavailable with this OpenSandbox-style error code (rest::ErrorCodeOf) and its origin
// ("scheme://host:port") as the kOriginPayload payload.
inline constexpr char kUpstreamUnreachable[] = "OSBD::UPSTREAM_UNREACHABLE";
inline constexpr char kOriginPayload[] = "osbd.opensandbox.io/origin";

// What HttpHandler::on_send returns besides a byte count.
inline constexpr std::ptrdiff_t kSendPause = -1;  // nothing to send yet: wait for Resume()
inline constexpr std::ptrdiff_t kSendAbort = -2;  // fail the transfer (Cancelled)

struct HttpHandler {
  // Optional: called once, before any body byte, with the status and headers.
  std::function<void(int status, const HeaderList& headers)> on_headers;
  // Optional: receives the body as it arrives instead of buffering it. The bytes are always
  // consumed; kPause then stops receiving until Resume(); kAbort ends the transfer (Cancelled).
  std::function<DataAction(absl::string_view bytes)> on_data;
  // For a stream_body request: copies up to `max` bytes of the body into `buf` and returns how
  // many (0: the body is complete), or kSendPause / kSendAbort.
  std::function<std::ptrdiff_t(char* buf, std::size_t max)> on_send;
  // Always called exactly once, last.
  std::function<void(HttpResult result)> on_done;
};

class CurlLoop {
 public:
  using TransferId = uint64_t;

  // `max_buffered_body`: a buffered (no on_data) body larger than this fails the transfer.
  explicit CurlLoop(std::size_t max_buffered_body = 16 << 20);
  ~CurlLoop();  // Stop()
  // Cancels every transfer (their on_done run, on the loop thread) and joins the thread; later
  // Start and Post calls are dropped. Idempotent. For owners whose callbacks use other members:
  // stop the loop first, while those still exist.
  void Stop();
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  // Thread-safe. The returned id names the transfer for Cancel and Resume. A request that is not
  // idempotent (GET, HEAD, PUT and DELETE are) is sent at most once: when a reused connection
  // closes before any answer, it fails Unavailable instead of going out again on a fresh one.
  TransferId Start(HttpRequest request, HttpHandler handler);
  // Thread-safe; a finished or unknown id is ignored. on_done receives Cancelled.
  void Cancel(TransferId id);
  // Thread-safe; resumes a transfer whose on_data returned kPause or on_send kSendPause.
  void Resume(TransferId id);
  // Thread-safe: run `fn` on the loop thread, now or after `delay`.
  void Post(std::function<void()> fn, absl::Duration delay = absl::ZeroDuration());

  // What went to one origin ("scheme://host:port").
  struct OriginStats {
    uint64_t requests = 0;            // transfers finished
    uint64_t errors = 0;              // of those: HTTP >= 400 or no complete answer
    uint64_t connections_opened = 0;  // the rest of the requests reused a connection
    uint64_t bytes_sent = 0, bytes_received = 0;  // bodies
    uint32_t open_connections = 0;                // sockets open now
    uint32_t in_flight = 0;                       // transfers running now
  };
  // Loop-thread statistics, readable from anywhere.
  struct Stats {
    uint64_t transfers_started = 0;
    uint64_t connections_opened = 0;  // new TCP/Unix connections (the rest reused one)
    std::map<std::string, OriginStats> origins;
  };
  Stats stats() const;

  // The origin of `url` as stats() names it: "scheme://host:port", with the scheme's default
  // port when the URL has none.
  static std::string OriginOf(absl::string_view url);
  // "METHOD /path" with the query dropped and the segments that name something (uuids, hex
  // ids, numbers) replaced by {id} or {n}: the route of a request, for statistics.
  static std::string RouteOf(absl::string_view method, absl::string_view url);

  // What a finished transfer reports to the observer: its route, origin, HTTP status (0 without
  // an answer), whether a complete answer arrived, how long it took, and how many of its sends
  // were retries (a caller's new attempt, libcurl's resend after a stale connection).
  struct TransferReport {
    std::string route, origin;
    int status = 0;
    bool answered = false;
    absl::Duration latency;
    int retries = 0;
  };
  // Called on the loop thread for every finished transfer. Set it before the first Start.
  void SetObserver(std::function<void(const TransferReport&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  struct Transfer;
  void Run();
  void RunTasks();
  void AddTransfer(TransferId id, HttpRequest request, HttpHandler handler);
  void FinishTransfer(Transfer* t, absl::Status transport);
  void CollectDone();
  // libcurl's socket callbacks: they count each origin's open connections.
  static int OpenSocket(void* transfer, int purpose, void* address);
  static int CloseSocket(void* loop, int fd);

  const std::size_t max_buffered_body_;
  std::function<void(const TransferReport&)> observer_;
  void* multi_ = nullptr;                                      // CURLM*
  void* share_ = nullptr;                                      // CURLSH*
  std::map<TransferId, std::unique_ptr<Transfer>> transfers_;  // loop thread only

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TransferId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::function<void()>> timers_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::map<int, std::string> socket_origins_ ABSL_GUARDED_BY(mu_);  // open socket → its origin
  std::thread thread_;
};

}  // namespace osb::daemon
