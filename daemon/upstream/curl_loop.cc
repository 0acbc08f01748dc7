#include "daemon/upstream/curl_loop.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rest/error.h"

namespace osb::daemon {
namespace {

constexpr long kMaxConnectionsPerHost = 64;
constexpr long kMaxCachedConnections = 256;
// HTTP/2 streams multiplexed on one connection (HTTPS origins that offer h2).
constexpr long kMaxStreamsPerConnection = 100;
constexpr int kMaxPollMs = 1000;
constexpr long kStreamedUploadBuffer = 512 * 1024;

CURLM* Multi(void* p) { return static_cast<CURLM*>(p); }

}  // namespace

std::string HttpResult::header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

struct CurlLoop::Transfer {
  CurlLoop* loop = nullptr;
  TransferId id = 0;
  std::string origin;  // OriginOf(request.url)
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpRequest request;
  HttpHandler handler;
  HttpResult result;
  bool headers_delivered = false;
  bool aborted = false;
  bool overflow = false;
  int attempts = 0;             // times libcurl was about to send the request
  bool resend_refused = false;  // a second attempt of a request that must go out once

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }

  void DeliverHeaders() {
    if (headers_delivered) return;
    headers_delivered = true;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    result.status = static_cast<int>(code);
    if (handler.on_headers) handler.on_headers(result.status, result.headers);
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    absl::string_view line(data, size * n);
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::StartsWith(line, "HTTP/")) {
      t->result.headers.clear();  // a new response (after 100 Continue or a redirect)
    } else if (std::size_t colon = line.find(':'); colon != absl::string_view::npos) {
      t->result.headers.emplace_back(
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
    }
    return size * n;
  }

  // libcurl sends a request again on a fresh connection when a reused one closes before any
  // answer, whatever its method. The server may have acted on the first (a keep-alive close that
  // crossed the request is indistinguishable from a crash after it), so only an idempotent
  // request gets a second attempt; any other fails (Unavailable) rather than act twice.
  static int OnPrereq(void* self, char*, char*, int, int) {
    auto* t = static_cast<Transfer*>(self);
    const std::string& m = t->request.method;
    const bool idempotent = m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE";
    if (++t->attempts > 1 && !idempotent) {
      t->resend_refused = true;
      return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
  }

  static size_t OnRead(char* buf, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::ptrdiff_t got = t->handler.on_send(buf, size * n);
    if (got == kSendPause) return CURL_READFUNC_PAUSE;
    if (got < 0) {
      t->aborted = true;
      return CURL_READFUNC_ABORT;
    }
    return static_cast<size_t>(got);
  }

  static size_t OnWrite(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    t->DeliverHeaders();
    absl::string_view bytes(data, size * n);
    if (t->handler.on_data) {
      switch (t->handler.on_data(bytes)) {
        case DataAction::kContinue:
          return bytes.size();
        case DataAction::kPause:
          curl_easy_pause(t->easy, CURLPAUSE_RECV);
          return bytes.size();
        case DataAction::kAbort:
          t->aborted = true;
          return 0;
      }
    }
    if (t->result.body.size() + bytes.size() > t->loop->max_buffered_body_) {
      t->overflow = true;
      return 0;
    }
    t->result.body.append(bytes.data(), bytes.size());
    return bytes.size();
  }
};

CurlLoop::CurlLoop(std::size_t max_buffered_body) : max_buffered_body_(max_buffered_body) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  curl_multi_setopt(Multi(multi_), CURLMOPT_MAX_HOST_CONNECTIONS, kMaxConnectionsPerHost);
  curl_multi_setopt(Multi(multi_), CURLMOPT_MAXCONNECTS, kMaxCachedConnections);
  curl_multi_setopt(Multi(multi_), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(Multi(multi_), CURLMOPT_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  CURLSH* share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  share_ = share;
  thread_ = std::thread([this] { Run(); });
}

CurlLoop::~CurlLoop() {
  Stop();
  curl_multi_cleanup(Multi(multi_));
  curl_share_cleanup(static_cast<CURLSH*>(share_));
}

void CurlLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  curl_multi_wakeup(Multi(multi_));
  if (thread_.joinable()) thread_.join();
}

CurlLoop::TransferId CurlLoop::Start(HttpRequest request, HttpHandler handler) {
  TransferId id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    ++stats_.transfers_started;
  }
  // std::function must be copyable: the move-only pieces travel in a shared_ptr.
  auto args =
      std::make_shared<std::pair<HttpRequest, HttpHandler>>(std::move(request), std::move(handler));
  Post([this, id, args] { AddTransfer(id, std::move(args->first), std::move(args->second)); });
  return id;
}

void CurlLoop::Cancel(TransferId id) {
  Post([this, id] {
    auto it = transfers_.find(id);
    if (it != transfers_.end()) FinishTransfer(it->second.get(), absl::CancelledError("cancelled"));
  });
}

void CurlLoop::Resume(TransferId id) {
  Post([this, id] {
    auto it = transfers_.find(id);
    if (it != transfers_.end()) curl_easy_pause(it->second->easy, CURLPAUSE_CONT);
  });
}

void CurlLoop::Post(std::function<void()> fn, absl::Duration delay) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // `fn` is destroyed on return, outside the lock
    if (delay <= absl::ZeroDuration()) {
      tasks_.push_back(std::move(fn));
    } else {
      timers_.emplace(absl::Now() + delay, std::move(fn));
    }
  }
  curl_multi_wakeup(Multi(multi_));
}

CurlLoop::Stats CurlLoop::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::string CurlLoop::OriginOf(absl::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return std::string(url);
  const absl::string_view scheme = url.substr(0, scheme_end);
  absl::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != absl::string_view::npos) {
    authority = authority.substr(at + 1);  // never the credentials
  }
  // A port is what follows the last ':' outside an IPv6 literal's brackets.
  const auto colon = authority.rfind(':');
  const auto bracket = authority.rfind(']');
  const bool has_port =
      colon != absl::string_view::npos && (bracket == absl::string_view::npos || colon > bracket);
  if (has_port) return absl::StrCat(scheme, "://", authority);
  return absl::StrCat(scheme, "://", authority, ":", scheme == "https" ? "443" : "80");
}

std::string CurlLoop::RouteOf(absl::string_view method, absl::string_view url) {
  absl::string_view path = url;
  if (const auto scheme_end = path.find("://"); scheme_end != absl::string_view::npos) {
    path = path.substr(scheme_end + 3);
    const auto slash = path.find('/');
    path = slash == absl::string_view::npos ? absl::string_view("/") : path.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  std::string route = absl::StrCat(method, " ");
  for (absl::string_view segment : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    const bool digits = std::all_of(segment.begin(), segment.end(), absl::ascii_isdigit);
    const bool id = segment.size() >= 16 &&
                    std::all_of(segment.begin(), segment.end(),
                                [](char c) { return absl::ascii_isxdigit(c) || c == '-'; });
    absl::StrAppend(&route, "/", digits ? "{n}" : id ? "{id}" : segment);
  }
  if (path.empty() || path == "/") absl::StrAppend(&route, "/");
  return route;
}

int CurlLoop::OpenSocket(void* transfer, int /*purpose*/, void* address) {
  auto* t = static_cast<Transfer*>(transfer);
  auto* a = static_cast<curl_sockaddr*>(address);
  const int fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  absl::MutexLock lock(&t->loop->mu_);
  t->loop->socket_origins_[fd] = t->origin;
  ++t->loop->stats_.origins[t->origin].open_connections;
  return fd;
}

int CurlLoop::CloseSocket(void* loop_ptr, int fd) {
  auto* loop = static_cast<CurlLoop*>(loop_ptr);
  {
    absl::MutexLock lock(&loop->mu_);
    auto it = loop->socket_origins_.find(fd);
    if (it != loop->socket_origins_.end()) {
      --loop->stats_.origins[it->second].open_connections;
      loop->socket_origins_.erase(it);
    }
  }
  return ::close(fd);
}

void CurlLoop::AddTransfer(TransferId id, HttpRequest request, HttpHandler handler) {
  if (request.cancel != nullptr && !request.cancel->Track(this, id)) {
    // Its call is gone: it never starts, and so is no upstream request in the statistics.
    HttpResult refused;
    refused.transport = absl::CancelledError("the call was cancelled");
    if (handler.on_done) handler.on_done(std::move(refused));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->loop = this;
  t->id = id;
  t->request = std::move(request);
  t->handler = std::move(handler);
  t->origin = OriginOf(t->request.url);
  t->easy = curl_easy_init();
  CURL* e = t->easy;
  const HttpRequest& r = t->request;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &CurlLoop::OpenSocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &CurlLoop::CloseSocket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
  {
    absl::MutexLock lock(&mu_);
    ++stats_.origins[t->origin].in_flight;
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_SHARE, share_);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // A request to an https origin whose connection is still being set up waits to learn (by
  // ALPN) whether it speaks HTTP/2, and is then multiplexed on it instead of opening a connection
  // of its own. Not for http: libcurl would hold it until the first request's answer came.
  if (absl::StartsWith(r.url, "https://")) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &Transfer::OnPrereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(r.connect_timeout)));
  if (r.timeout != absl::InfiniteDuration()) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     std::max(1L, static_cast<long>(absl::ToInt64Milliseconds(r.timeout))));
  }
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.stream_body) {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, &Transfer::OnRead);
      curl_easy_setopt(e, CURLOPT_READDATA, t.get());
      // A read (and a send, and a chunk) per client message of up to 256 KiB, not per 64 KiB.
      curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, kStreamedUploadBuffer);
      t->header_list = curl_slist_append(t->header_list, "Transfer-Encoding: chunked");
    } else if (r.method == "POST" || !r.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
  }
  t->header_list = curl_slist_append(t->header_list, "Expect:");
  for (const auto& [k, v] : r.headers) {
    t->header_list = curl_slist_append(t->header_list, absl::StrCat(k, ": ", v).c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  Transfer* raw = t.get();
  CURLMcode rc = curl_multi_add_handle(Multi(multi_), e);
  transfers_.emplace(id, std::move(t));
  if (rc != CURLM_OK) {
    FinishTransfer(raw, absl::InternalError(absl::StrCat("curl: ", curl_multi_strerror(rc))));
  }
}

void CurlLoop::FinishTransfer(Transfer* t, absl::Status transport) {
  curl_multi_remove_handle(Multi(multi_), t->easy);
  if (t->request.cancel != nullptr) t->request.cancel->Untrack(this, t->id);
  if (transport.ok()) t->DeliverHeaders();
  long connects = 0;
  curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
  curl_off_t sent = 0, received = 0;
  curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
  curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &received);
  if (observer_) {
    curl_off_t total_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    observer_({.route = RouteOf(t->request.method, t->request.url),
               .origin = t->origin,
               .status = t->result.status,
               .answered = transport.ok(),
               .latency = absl::Microseconds(total_us),
               .retries = (t->request.attempt > 1 ? 1 : 0) + std::max(0, t->attempts - 1)});
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.connections_opened += static_cast<uint64_t>(std::max(0L, connects));
    OriginStats& o = stats_.origins[t->origin];
    --o.in_flight;
    ++o.requests;
    if (!transport.ok() || t->result.status >= 400) ++o.errors;
    o.connections_opened += static_cast<uint64_t>(std::max(0L, connects));
    o.bytes_sent += static_cast<uint64_t>(std::max<curl_off_t>(0, sent));
    o.bytes_received += static_cast<uint64_t>(std::max<curl_off_t>(0, received));
  }
  auto owned = std::move(transfers_.at(t->id));
  transfers_.erase(t->id);
  owned->result.transport = std::move(transport);
  HttpHandler handler = std::move(owned->handler);
  HttpResult result = std::move(owned->result);
  owned.reset();  // the easy handle goes before the callback may start new transfers
  if (handler.on_done) handler.on_done(std::move(result));
}

void CurlLoop::CollectDone() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(Multi(multi_), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    CURLcode code = msg->data.result;
    absl::Status transport;
    if (code == CURLE_OK) {
      transport = absl::OkStatus();
    } else if (t->resend_refused) {
      transport = absl::UnavailableError(absl::StrCat(
          t->request.method, " ", t->request.url,
          ": the connection closed before an answer; not sent again, the server may have acted "
          "on it"));
    } else if (t->aborted) {
      transport = absl::CancelledError("transfer aborted by its receiver");
    } else if (t->overflow) {
      transport = absl::ResourceExhaustedError(
          absl::StrCat("response body larger than ", max_buffered_body_, " bytes"));
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      transport = absl::DeadlineExceededError(
          absl::StrCat(t->request.method, " ", t->request.url, ": ", curl_easy_strerror(code)));
    } else {
      // The service could not be reached, or the connection failed under the exchange: said so
      // to clients with osbd's reason and the origin (common.proto, "Errors").
      transport = rest::MakeError(
          absl::StatusCode::kUnavailable, kUpstreamUnreachable,
          absl::StrCat(t->request.method, " ", t->request.url, ": ", curl_easy_strerror(code)));
      transport.SetPayload(kOriginPayload, absl::Cord(t->origin));
    }
    FinishTransfer(t, std::move(transport));
  }
}

void CurlLoop::RunTasks() {
  std::deque<std::function<void()>> tasks;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(tasks_);
    const absl::Time now = absl::Now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      tasks.push_back(std::move(timers_.begin()->second));
      timers_.erase(timers_.begin());
    }
  }
  for (auto& task : tasks) task();
}

void CurlLoop::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    RunTasks();
    int running = 0;
    curl_multi_perform(Multi(multi_), &running);
    CollectDone();
    long curl_ms = -1;
    curl_multi_timeout(Multi(multi_), &curl_ms);
    int wait_ms = kMaxPollMs;
    if (curl_ms >= 0) wait_ms = std::min<int>(wait_ms, static_cast<int>(curl_ms));
    {
      absl::MutexLock lock(&mu_);
      if (!tasks_.empty()) wait_ms = 0;
      if (!timers_.empty()) {
        auto until = absl::ToInt64Milliseconds(timers_.begin()->first - absl::Now());
        wait_ms = std::min<int>(wait_ms, static_cast<int>(std::max<int64_t>(0, until + 1)));
      }
    }
    curl_multi_poll(Multi(multi_), nullptr, 0, wait_ms, nullptr);
  }
  // Shutting down: every transfer still running is told so.
  while (!transfers_.empty()) {
    FinishTransfer(transfers_.begin()->second.get(), absl::CancelledError("osbd is stopping"));
  }
  absl::MutexLock lock(&mu_);
  tasks_.clear();
  timers_.clear();
}

}  // namespace osb::daemon
