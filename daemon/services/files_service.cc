#include "daemon/services/files_service.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "daemon/convert.h"
#include "daemon/services/execd_call.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/unary_call.h"
#include "daemon/services/upstream_stream.h"
#include "nlohmann/json.hpp"
#include "rest/string_views.h"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using Json = nlohmann::json;

// The largest FileChunk (the proto's contract).
constexpr std::size_t kChunkSize = 64 * 1024;
// Client messages an upload holds before it reads more (each up to the client's chunk size).
constexpr std::size_t kReadAhead = 2;
// Chunks queued for a slow reader before osbd stops reading the download.
constexpr std::size_t kHighWater = 64;
constexpr std::size_t kLowWater = 16;

absl::Status RequirePath(const std::string& path, std::string_view what = "path") {
  return RequiredField(path, rest::AbslView(what));
}

// `<field>[<i>]`, a repeated field's element as field errors name it.
std::string Element(absl::string_view field, int i) { return absl::StrCat(field, "[", i, "]"); }

// `?path=a&path=b` for execd's repeated path parameters, from the request's `paths`.
absl::StatusOr<std::string> PathQuery(
    const google::protobuf::RepeatedPtrField<std::string>& paths) {
  if (paths.empty()) return InvalidField("paths", "needs at least one path");
  std::string query;
  for (int i = 0; i < paths.size(); ++i) {
    if (auto s = RequirePath(paths[i], Element("paths", i)); !s.ok()) return s;
    absl::StrAppend(&query, query.empty() ? "?" : "&", "path=", rest::UrlEncode(paths[i]));
  }
  return query;
}

absl::StatusOr<Json> JsonBody(const HttpResult& r) {
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::DataLossError("execd answered with a body that is not JSON");
  return j;
}

// An array of FileInfo into `out`.
template <typename Add>
absl::Status AddInfos(const HttpResult& r, Add add) {
  auto j = JsonBody(r);
  if (!j.ok()) return j.status();
  if (!j->is_array()) return absl::DataLossError("execd answered with something not a list");
  for (const auto& item : *j) {
    auto info = rest::ParseFileInfo(item);
    if (!info.ok()) return info.status();
    *add() = ToProto(*info);
  }
  return absl::OkStatus();
}

// The `{"<path>": Permission}` body of mkdir and chmod, from the request's `field`.
absl::StatusOr<std::string> PermissionBody(
    const google::protobuf::RepeatedPtrField<v1::FilePermission>& items, absl::string_view field) {
  if (items.empty()) return InvalidField(field, "needs at least one path");
  Json body = Json::object();
  for (int i = 0; i < items.size(); ++i) {
    const v1::FilePermission& item = items[i];
    if (auto s = RequirePath(item.path(), Element(field, i) + ".path"); !s.ok()) return s;
    if (item.mode() > 07777) {
      return InvalidField(Element(field, i) + ".mode",
                          absl::StrCat("is not permission bits (", item.path(), ")"));
    }
    rest::Permission p;
    p.mode = item.mode();
    if (!item.owner().empty()) p.owner = item.owner();
    if (!item.group().empty()) p.group = item.group();
    body[item.path()] = rest::ToJson(p);
  }
  return body.dump();
}

// Runs one execd call with no answer body for a unary RPC.
void Simple(DaemonContext& context, UnaryCall* reactor,
            const grpc::ServerContextBase* call, const v1::Connection& connection,
            const std::string& sandbox_id, std::string method,
            absl::StatusOr<std::string> target, absl::StatusOr<std::string> body) {
  if (!target.ok()) return reactor->Finish(ToGrpcStatus(target.status()));
  if (!body.ok()) return reactor->Finish(ToGrpcStatus(body.status()));
  WithSandboxExecd(context, reactor, connection, sandbox_id,
                   [&context, reactor, method = std::move(method), target = *std::move(target),
                    body = *std::move(body)](const Origin&, const ExecdEndpoint& endpoint) {
                     context.execd().Call(endpoint, method, target, body,
                                          FinishFromExecd(reactor, [](const HttpResult&) {
                                            return absl::OkStatus();
                                          }));
                   },
                   call);
}

// Read: a download, re-chunked for the client.
class ReadReactor final : public UpstreamStream<ReadReactor, v1::FileChunk> {
 public:
  ReadReactor(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : UpstreamStream(context, ctx, kHighWater, kLowWater) {}

  void Start(const v1::ReadFileRequest& request) {
    if (request.offset() < 0 && request.length() != 0) {
      return End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "a negative offset reads the file's tail: length must be 0"));
    }
    if (request.length() < 0) {
      return End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "length must not be negative"));
    }
    if (request.path().empty()) {
      return End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "path is required"));
    }
    auto origin = context_.ResolveForSandbox(request.connection(), request.sandbox_id());
    if (!origin.ok()) return End(ToGrpcStatus(origin.status()));
    std::string range;
    if (request.offset() < 0) {
      range = absl::StrCat("bytes=", request.offset());
    } else if (request.offset() > 0 || request.length() > 0) {
      range = absl::StrCat("bytes=", request.offset(), "-");
      if (request.length() > 0) absl::StrAppend(&range, request.offset() + request.length() - 1);
    }
    asked_offset_ = request.offset();
    context_.WithExecd(*origin, request.sandbox_id(),
                       [link = link(), path = request.path(), range](auto endpoint) {
                         absl::MutexLock lock(&link->mu);
                         if (link->reactor() == nullptr) return;
                         if (!endpoint.ok())
                           return link->reactor()->End(ToGrpcStatus(endpoint.status()));
                         link->reactor()->StartDownload(*endpoint, path, range);
                       });
  }

 private:
  // Called with link()->mu held.
  void StartDownload(const ExecdEndpoint& endpoint, const std::string& path,
                     const std::string& range) {
    DownloadHandler handler;
    handler.on_start = [link = link()](int status, const HeaderList& headers) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() != nullptr) link->reactor()->OnStart(status, headers);
    };
    handler.on_data = [link = link()](absl::string_view bytes) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() == nullptr) return DataAction::kAbort;
      return link->reactor()->OnData(bytes);
    };
    handler.on_end = [link = link()](absl::Status status) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor() != nullptr) link->reactor()->OnEnd(std::move(status));
    };
    absl::MutexLock lock(&mu_);
    SetTransferLocked(context_.execd().Download(endpoint, path, range, std::move(handler)));
  }

  void OnStart(int status, const HeaderList& headers) {
    absl::MutexLock lock(&mu_);
    auto header = [&](std::string_view name) -> std::string {
      for (const auto& [k, v] : headers) {
        if (k == name) return v;
      }
      return "";
    };
    int64_t size = -1;
    if (status == 206) {
      // Content-Range: bytes a-b/size
      std::string cr = header("content-range");
      std::size_t space = cr.find(' '), dash = cr.find('-'), slash = cr.find('/');
      if (space != std::string::npos && dash != std::string::npos && slash != std::string::npos) {
        (void)absl::SimpleAtoi(cr.substr(space + 1, dash - space - 1), &next_offset_);
        (void)absl::SimpleAtoi(cr.substr(slash + 1), &size);
      }
    } else {
      (void)absl::SimpleAtoi(header("content-length"), &size);
      // execd answers a range that starts past the end with the whole file: there is nothing
      // at the asked offset.
      if (asked_offset_ > 0) {
        past_end_ = true;
        next_offset_ = std::max<int64_t>(size, 0);
      }
    }
    if (size >= 0) file_size_ = size;
  }

  DataAction OnData(absl::string_view bytes) {
    absl::MutexLock lock(&mu_);
    if (past_end_) return DataAction::kAbort;
    DataAction action = DataAction::kContinue;
    while (!bytes.empty()) {
      std::size_t n = std::min(bytes.size(), kChunkSize - pending_.size());
      pending_.append(bytes.data(), n);
      bytes.remove_prefix(n);
      if (pending_.size() == kChunkSize && QueuePendingLocked() == DataAction::kPause) {
        action = DataAction::kPause;
      }
    }
    return action;
  }

  void OnEnd(absl::Status status) {
    absl::MutexLock lock(&mu_);
    TransferEndedLocked();
    if (past_end_) status = absl::OkStatus();  // the abort was ours
    if (!status.ok()) {
      return FinishAfterQueueLocked(ToGrpcStatus(status));
    }
    if (!pending_.empty() || chunks_ == 0)
      (void)QueuePendingLocked();  // the rest, or an empty file
    FinishAfterQueueLocked(grpc::Status::OK);
  }

  DataAction QueuePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::FileChunk chunk;
    chunk.set_offset(next_offset_);
    next_offset_ += static_cast<int64_t>(pending_.size());
    *chunk.mutable_data() = std::move(pending_);
    pending_.clear();
    if (chunks_++ == 0 && file_size_.has_value()) chunk.set_file_size(*file_size_);
    return QueueLocked(std::move(chunk));
  }

  int64_t asked_offset_ = 0;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  int64_t next_offset_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<int64_t> file_size_ ABSL_GUARDED_BY(mu_);
  bool past_end_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t chunks_ ABSL_GUARDED_BY(mu_) = 0;
};

// Write: the header message starts an upload whose body is fed from the client's data messages.
// One message is read ahead while libcurl sends the one before it; no more (kReadAhead), so a
// slow sandbox holds the client back instead of osbd's memory filling up.
class WriteReactor final : public grpc::ServerReadReactor<v1::WriteFileRequest> {
 public:
  WriteReactor(DaemonContext& context, grpc::CallbackServerContext* ctx,
               v1::WriteFileResponse* response)
      : context_(context), ctx_(ctx), response_(response), state_(std::make_shared<State>()) {
    state_->reactor = this;
    reading_ = true;
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    std::optional<Upload> upload;
    {
      absl::MutexLock lock(&state_->mu);
      reading_ = false;
      if (!header_seen_) {
        if (!ok || !incoming_.has_header()) {
          return FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "the first message of Write must be its header"));
        }
        header_seen_ = true;
        upload = PrepareUpload(incoming_.header());
      } else if (!ok) {
        // The client has sent everything, or it cancelled: then what it sent is not the file.
        state_->eof = true;
        if (ctx_->IsCancelled()) state_->aborted = true;
      } else if (incoming_.has_header()) {
        return FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         "Write takes one header, as its first message"));
      } else {
        state_->bytes_received += static_cast<int64_t>(incoming_.data().size());
        if (!incoming_.data().empty()) {
          state_->queue.push_back(std::move(*incoming_.mutable_data()));
        }
        ReadMoreLocked();
      }
      if (state_->transfer.has_value() && state_->send_paused) {
        state_->send_paused = false;
        context_.loop().Resume(*state_->transfer);
      }
    }
    // Outside the lock: a cached endpoint makes WithExecd call back at once, on this thread.
    if (upload.has_value()) StartUpload(*std::move(upload));
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    state_->aborted = true;
    if (state_->transfer.has_value()) context_.loop().Cancel(*state_->transfer);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  // Shared with the loop thread's callbacks, which outlive the reactor when the call ends first.
  struct State {
    absl::Mutex mu;
    WriteReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    // Messages received and not yet all handed to libcurl; of the first, front_sent bytes were.
    std::deque<std::string> queue ABSL_GUARDED_BY(mu);
    std::size_t front_sent ABSL_GUARDED_BY(mu) = 0;
    bool send_paused ABSL_GUARDED_BY(mu) = false;  // the next message resumes the transfer
    bool eof ABSL_GUARDED_BY(mu) = false;
    bool aborted ABSL_GUARDED_BY(mu) = false;  // the client cancelled: execd must store nothing
    int64_t bytes_received ABSL_GUARDED_BY(mu) = 0;
    std::optional<int64_t> expected_size;
    std::optional<CurlLoop::TransferId> transfer ABSL_GUARDED_BY(mu);
  };

  struct Upload {
    Origin origin;
    std::string sandbox_id;
    rest::FileMetadata metadata;
  };

  // Checks the header; nullopt when the call was finished for a bad one.
  std::optional<Upload> PrepareUpload(const v1::WriteFileHeader& header)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    auto origin = context_.ResolveForSandbox(header.connection(), header.sandbox_id());
    if (!origin.ok()) {
      FinishLocked(ToGrpcStatus(origin.status()));
      return std::nullopt;
    }
    auto invalid = [&](std::string_view message) {
      FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message)));
      return std::nullopt;
    };
    if (header.path().empty()) return invalid("path is required");
    if (header.mode() > 07777) return invalid("mode must be permission bits (at most 07777)");
    if (header.has_size() && header.size() < 0) return invalid("size must not be negative");
    if (header.has_size()) state_->expected_size = header.size();
    Upload upload{*origin, header.sandbox_id(), {}};
    upload.metadata.path = header.path();
    if (header.mode() != 0) upload.metadata.mode = header.mode();
    if (!header.owner().empty()) upload.metadata.owner = header.owner();
    if (!header.group().empty()) upload.metadata.group = header.group();
    response_->set_path(header.path());
    // The first data message is read while the endpoint is looked up.
    reading_ = true;
    StartRead(&incoming_);
    return upload;
  }

  void StartUpload(Upload upload) {
    std::shared_ptr<State> state = state_;
    DaemonContext& context = context_;
    context_.WithExecd(
        upload.origin, upload.sandbox_id,
        [state, &context, metadata = upload.metadata](auto endpoint) {
          absl::MutexLock lock(&state->mu);
          if (state->reactor == nullptr) return;
          if (!endpoint.ok()) return state->reactor->FinishLocked(ToGrpcStatus(endpoint.status()));
          state->transfer = context.execd().Upload(
              endpoint.value(), metadata,
              [state](char* buf, std::size_t max) { return NextBytes(*state, buf, max); },
              [state](absl::Status status) {
                absl::MutexLock done_lock(&state->mu);
                state->transfer.reset();
                if (state->reactor != nullptr) state->reactor->OnUploaded(std::move(status));
              });
        });
  }

  // The upload's next bytes, on the loop thread.
  static std::ptrdiff_t NextBytes(State& s, char* buf, std::size_t max) {
    absl::MutexLock lock(&s.mu);
    if (s.reactor == nullptr || s.aborted) return kSendAbort;
    std::size_t given = 0;
    while (given < max && !s.queue.empty()) {
      const std::string& front = s.queue.front();
      const std::size_t n = std::min(max - given, front.size() - s.front_sent);
      std::memcpy(buf + given, front.data() + s.front_sent, n);
      given += n;
      s.front_sent += n;
      if (s.front_sent == front.size()) {
        s.queue.pop_front();
        s.front_sent = 0;
      }
    }
    if (given > 0) {
      s.reactor->ReadMoreLocked();
      return static_cast<std::ptrdiff_t>(given);
    }
    if (s.eof) {
      // A short or long upload must not be committed: aborting leaves execd nothing to store.
      if (s.expected_size.has_value() && *s.expected_size != s.bytes_received) return kSendAbort;
      return 0;
    }
    s.send_paused = true;
    s.reactor->ReadMoreLocked();
    return kSendPause;
  }

  // Reads the client's next message unless one is being read, kReadAhead wait, or none will come.
  void ReadMoreLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (reading_ || finished_ || state_->eof || state_->queue.size() >= kReadAhead) return;
    reading_ = true;
    StartRead(&incoming_);
  }

  void OnUploaded(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (state_->expected_size.has_value() && *state_->expected_size != state_->bytes_received) {
      return FinishLocked(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrCat("the header announced ", *state_->expected_size, " bytes but ",
                                    state_->bytes_received, " arrived; nothing was written")));
    }
    if (!status.ok()) return FinishLocked(ToGrpcStatus(status));
    response_->set_bytes_written(state_->bytes_received);
    FinishLocked(grpc::Status::OK);
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (finished_) return;
    finished_ = true;
    if (state_->transfer.has_value()) context_.loop().Cancel(*state_->transfer);
    Finish(std::move(status));
  }

  DaemonContext& context_;
  grpc::CallbackServerContext* ctx_;
  v1::WriteFileResponse* response_;
  std::shared_ptr<State> state_;
  v1::WriteFileRequest incoming_;
  bool header_seen_ = false;
  bool reading_ = false;
  bool finished_ = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::FileChunk>* FilesService::Read(grpc::CallbackServerContext* ctx,
                                                            const v1::ReadFileRequest* request) {
  auto* reactor = new ReadReactor(context_, ctx);
  reactor->Start(*request);
  return reactor;
}

grpc::ServerReadReactor<v1::WriteFileRequest>* FilesService::Write(
    grpc::CallbackServerContext* ctx, v1::WriteFileResponse* response) {
  return new WriteReactor(context_, ctx, response);
}

grpc::ServerUnaryReactor* FilesService::GetInfo(grpc::CallbackServerContext* ctx,
                                                const v1::GetFileInfoRequest* request,
                                                v1::GetFileInfoResponse* response) {
  auto* reactor = new UnaryCall;
  auto query = PathQuery(request->paths());
  if (!query.ok()) {
    reactor->Finish(ToGrpcStatus(query.status()));
    return reactor;
  }
  WithSandboxExecd(
      context_, reactor, request->connection(), request->sandbox_id(),
      [this, reactor, response, query = *query](const Origin&, const ExecdEndpoint& endpoint) {
        context_.execd().Call(
            endpoint, "GET", "/files/info" + query, "",
            FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
              auto j = JsonBody(r);
              if (!j.ok()) return j.status();
              if (!j->is_object()) return absl::DataLossError("execd's file info is not a map");
              for (const auto& [path, item] : j->items()) {
                auto info = rest::ParseFileInfo(item);
                if (!info.ok()) return info.status();
                (*response->mutable_infos())[path] = ToProto(*info);
              }
              return absl::OkStatus();
            }));
      }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::ListDirectory(grpc::CallbackServerContext* ctx,
                                                      const v1::ListDirectoryRequest* request,
                                                      v1::ListDirectoryResponse* response) {
  auto* reactor = new UnaryCall;
  if (auto s = RequirePath(request->path()); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  std::string target = absl::StrCat("/directories/list?path=", rest::UrlEncode(request->path()),
                                    "&depth=", request->has_depth() ? request->depth() : 1);
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, target](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "GET", target, "",
                         FinishFromExecd(reactor, [response](const HttpResult& r) {
                           return AddInfos(r, [response] { return response->add_entries(); });
                         }));
                   }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::Search(grpc::CallbackServerContext* ctx,
                                               const v1::SearchFilesRequest* request,
                                               v1::SearchFilesResponse* response) {
  auto* reactor = new UnaryCall;
  if (auto s = RequirePath(request->path()); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  std::string target = absl::StrCat("/files/search?path=", rest::UrlEncode(request->path()));
  if (!request->pattern().empty()) {
    absl::StrAppend(&target, "&pattern=", rest::UrlEncode(request->pattern()));
  }
  WithSandboxExecd(context_, reactor, request->connection(), request->sandbox_id(),
                   [this, reactor, response, target](const Origin&, const ExecdEndpoint& endpoint) {
                     context_.execd().Call(
                         endpoint, "GET", target, "",
                         FinishFromExecd(reactor, [response](const HttpResult& r) {
                           return AddInfos(r, [response] { return response->add_files(); });
                         }));
                   }, ctx);
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::MakeDirectories(grpc::CallbackServerContext* ctx,
                                                        const v1::MakeDirectoriesRequest* request,
                                                        v1::MakeDirectoriesResponse*) {
  auto* reactor = new UnaryCall;
  Simple(context_, reactor, ctx, request->connection(), request->sandbox_id(), "POST",
         std::string("/directories"), PermissionBody(request->directories(), "directories"));
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::SetPermissions(grpc::CallbackServerContext* ctx,
                                                       const v1::SetPermissionsRequest* request,
                                                       v1::SetPermissionsResponse*) {
  auto* reactor = new UnaryCall;
  Simple(context_, reactor, ctx, request->connection(), request->sandbox_id(), "POST",
         std::string("/files/permissions"), PermissionBody(request->permissions(), "permissions"));
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::Delete(grpc::CallbackServerContext* ctx,
                                               const v1::DeleteFilesRequest* request,
                                               v1::DeleteFilesResponse*) {
  auto* reactor = new UnaryCall;
  auto query = PathQuery(request->paths());
  Simple(context_, reactor, ctx, request->connection(), request->sandbox_id(), "DELETE",
         query.ok() ? absl::StatusOr<std::string>("/files" + *query) : query, std::string());
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::DeleteDirectories(
    grpc::CallbackServerContext* ctx, const v1::DeleteDirectoriesRequest* request,
    v1::DeleteDirectoriesResponse*) {
  auto* reactor = new UnaryCall;
  auto query = PathQuery(request->paths());
  Simple(context_, reactor, ctx, request->connection(), request->sandbox_id(), "DELETE",
         query.ok() ? absl::StatusOr<std::string>("/directories" + *query) : query, std::string());
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::Move(grpc::CallbackServerContext* ctx,
                                             const v1::MoveFilesRequest* request,
                                             v1::MoveFilesResponse*) {
  auto* reactor = new UnaryCall;
  absl::StatusOr<std::string> body = [&]() -> absl::StatusOr<std::string> {
    if (request->moves().empty()) return InvalidField("moves", "needs at least one move");
    std::vector<rest::FileMove> moves;
    for (int i = 0; i < request->moves_size(); ++i) {
      const v1::FileMove& m = request->moves(i);
      for (const auto& [value, name] : {std::pair{&m.source(), ".source"},
                                        std::pair{&m.destination(), ".destination"}}) {
        if (auto s = RequiredField(*value, Element("moves", i) + name); !s.ok()) return s;
      }
      moves.push_back({m.source(), m.destination()});
    }
    return rest::ToJson(moves).dump();
  }();
  Simple(context_, reactor, ctx, request->connection(), request->sandbox_id(), "POST",
         std::string("/files/mv"), std::move(body));
  return reactor;
}

grpc::ServerUnaryReactor* FilesService::Replace(grpc::CallbackServerContext* ctx,
                                                const v1::ReplaceContentsRequest* request,
                                                v1::ReplaceContentsResponse* response) {
  auto* reactor = new UnaryCall;
  Json body = Json::object();
  for (const auto& r : request->replacements()) {
    if (r.path().empty() || r.old_content().empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "every replacement needs a path and non-empty old_content"));
      return reactor;
    }
    body[r.path()] = {{"old", r.old_content()}, {"new", r.new_content()}};
  }
  if (body.empty()) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "at least one replacement is required"));
    return reactor;
  }
  WithSandboxExecd(
      context_, reactor, request->connection(), request->sandbox_id(),
      [this, reactor, response, body = body.dump()](const Origin&, const ExecdEndpoint& endpoint) {
        context_.execd().Call(
            endpoint, "POST", "/files/replace?verbose=true", body,
            FinishFromExecd(reactor, [response](const HttpResult& r) -> absl::Status {
              auto j = JsonBody(r);
              if (!j.ok()) return j.status();
              for (const auto& [path, item] : j->items()) {
                v1::ReplacementResult* out = response->add_results();
                out->set_path(path);
                out->set_replaced_count(item.value("replacedCount", int64_t{0}));
              }
              return absl::OkStatus();
            }));
      }, ctx);
  return reactor;
}

}  // namespace osb::daemon
