// The execd API (COMPAT.md §2) as asynchronous calls on the CurlLoop; callbacks run on the loop
// thread. Streams are decoded with rest::SseDecoder, so both the official execd's bare-JSON
// events and `data:` events are understood.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "daemon/upstream/curl_loop.h"
#include "daemon/upstream/origin.h"
#include "rest/execd.h"
#include "rest/execd_code.h"
#include "rest/execd_files.h"

namespace osb::daemon {

// Receives one command stream.
struct CommandStreamHandler {
  // Each decoded event, in order; events are always taken. kPause: the receiver is full, stop
  // reading the stream until CurlLoop::Resume(transfer).
  std::function<DataAction(rest::ServerStreamEvent event)> on_event;
  // Exactly once, last. OK when the response ended normally (whether or not a terminal event
  // came: the receiver checks); otherwise the error: the server's error body when it refused the
  // command before streaming, or the transport failure.
  std::function<void(absl::Status status)> on_end;
};

// Receives one download.
struct DownloadHandler {
  // Once, before any data, when execd answered 200 or 206.
  std::function<void(int status, const HeaderList& headers)> on_start;
  // The file's bytes as they arrive; kPause stops reading until CurlLoop::Resume.
  std::function<DataAction(absl::string_view bytes)> on_data;
  // Exactly once, last: OK when the whole body arrived, else why not (execd's error included).
  std::function<void(absl::Status status)> on_end;
};

// Receives GET /metrics/watch.
struct MetricsHandler {
  // Each sample as it arrives; kPause stops reading until CurlLoop::Resume.
  std::function<DataAction(rest::Metrics metrics)> on_metrics;
  // Exactly once, last: why the stream ended (it never ends by itself while the sandbox lives):
  // a transport failure or cancel, execd's error, or DataLoss for a line that is not metrics.
  std::function<void(absl::Status status)> on_end;
};

class ExecdClient {
 public:
  explicit ExecdClient(CurlLoop& loop) : loop_(loop) {}

  // GET /ping: OK for any 2xx.
  void Ping(const ExecdEndpoint& endpoint, absl::Duration timeout,
            std::function<void(absl::Status)> done);

  // GET /command/status/{id}: the command's state; NotFound for an unknown id, the parser's
  // error (rest::ParseCommandStatus) for an answer that is not a command status.
  void GetCommandStatus(const ExecdEndpoint& endpoint, const std::string& command_id,
                        std::function<void(absl::StatusOr<rest::CommandStatus>)> done);

  // POST /command. Returns the transfer id for CurlLoop::Cancel / Resume.
  CurlLoop::TransferId RunCommand(const ExecdEndpoint& endpoint,
                                  const rest::RunCommandRequest& request,
                                  CommandStreamHandler handler);

  // POST /session/{id}/run, as RunCommand. execd ends a run that timed out with a bare
  // {"code","message"} line instead of an event: it arrives as an `error` event whose ename is
  // the code and whose evalue is the message.
  CurlLoop::TransferId RunInSession(const ExecdEndpoint& endpoint, const std::string& session_id,
                                    const rest::SessionRunRequest& request,
                                    CommandStreamHandler handler);

  // POST /code: a cell's events, streamed as RunCommand's are. `request` names its context's
  // language whenever it names the context (execd's spec requires it): see CompleteCodeRun.
  CurlLoop::TransferId RunCode(const ExecdEndpoint& endpoint, const rest::RunCodeRequest& request,
                               CommandStreamHandler handler);
  // `request` ready for RunCode: a cell sent to a context by id alone gets the context's language
  // from GET /code/contexts/{id} (NotFound for an unknown context); any other comes back as is.
  void CompleteCodeRun(const ExecdEndpoint& endpoint, rest::RunCodeRequest request,
                       std::function<void(absl::StatusOr<rest::RunCodeRequest>)> done);

  // A request whose answer is small: the answer when it is 2xx, otherwise execd's error as a
  // status (rest::StatusFromHttp). Sent under the retry policy of retrying_send.h (GET, PUT and
  // DELETE again on 429/502/503/504 or no connection). `target` is the path and the already-encoded query; a
  // non-empty `json_body` is sent as application/json.
  void Call(const ExecdEndpoint& endpoint, std::string method, std::string target,
            std::string json_body, std::function<void(absl::StatusOr<HttpResult>)> done);

  // GET /metrics/watch: one JSON line per sample (COMPAT.md §2.7).
  CurlLoop::TransferId WatchMetrics(const ExecdEndpoint& endpoint, MetricsHandler handler);

  // GET /files/download?path=, with `range` as the Range header when not empty.
  CurlLoop::TransferId Download(const ExecdEndpoint& endpoint, const std::string& path,
                                const std::string& range, DownloadHandler handler);

  // POST /files/upload of one file, its bytes streamed from `next` (the contract of
  // HttpHandler::on_send). `done` gets OK once execd has stored the file.
  CurlLoop::TransferId Upload(const ExecdEndpoint& endpoint, const rest::FileMetadata& metadata,
                              std::function<std::ptrdiff_t(char* buf, std::size_t max)> next,
                              std::function<void(absl::Status)> done);

 private:
  // POSTs `json_body` to the streaming route `target` and decodes its events.
  CurlLoop::TransferId StreamEvents(const ExecdEndpoint& endpoint, const std::string& target,
                                    std::string json_body, CommandStreamHandler handler);

  CurlLoop& loop_;
};

}  // namespace osb::daemon
