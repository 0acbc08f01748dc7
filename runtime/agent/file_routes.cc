#include "runtime/agent/file_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rest/error.h"
#include "rest/execd_files.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/execd_reply.h"
#include "runtime/agent/file_ops.h"
#include "runtime/agent/multipart_reader.h"
#include "runtime/common/http_response.h"
#include "runtime/common/http_server.h"
#include "runtime/common/raw_multipart.h"

namespace osb::agent {
namespace {

using Json = nlohmann::json;
using httplib::Request;
using httplib::Response;

// The largest metadata part of an upload: a path and a few short fields.
constexpr std::size_t kMaxMetadataPart = 64 * 1024;

absl::Status MissingQuery(std::string_view name) {
  return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kMissingQuery,
                         absl::StrCat("missing query parameter '", rest::AbslView(name), "'"));
}

// Every `path` parameter, checked.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PathParams(const Request& req) {
  std::vector<std::pair<std::string, std::string>> out;  // as given, resolved
  for (std::size_t i = 0; i < req.get_param_value_count("path"); ++i) {
    std::string given = req.get_param_value("path", i);
    auto path = RequestPath(given);
    if (!path.ok()) return path.status();
    out.emplace_back(std::move(given), std::move(*path));
  }
  return out;
}

absl::StatusOr<std::string> OnePathParam(const Request& req) {
  if (!req.has_param("path")) return MissingQuery("path");
  return RequestPath(req.get_param_value("path"));
}

Json InfoList(const std::vector<rest::FileInfo>& infos) {
  Json out = Json::array();
  for (const auto& f : infos) out.push_back(rest::ToJson(f));
  return out;
}

// `attachment; filename="a.txt"`, with an RFC 5987 `filename*` when the name is not plain ASCII.
std::string ContentDisposition(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  bool plain = true;
  std::string ascii;
  for (unsigned char c : base) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      ascii += '_';
    } else {
      ascii += static_cast<char>(c);
    }
  }
  std::string value = absl::StrCat("attachment; filename=\"", ascii, "\"");
  if (!plain) {
    std::string encoded;
    for (unsigned char c : base) {
      if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        encoded += absl::StrFormat("%%%02X", c);
      }
    }
    absl::StrAppend(&value, "; filename*=UTF-8''", encoded);
  }
  return value;
}

void HandleInfo(const Request& req, Response& res) {
  auto paths = PathParams(req);
  if (!paths.ok()) return ReplyExecdError(res, paths.status());
  Json out = Json::object();
  for (const auto& [given, path] : *paths) {
    auto info = StatPath(path);
    if (!info.ok()) return ReplyExecdError(res, info.status());
    out[given] = rest::ToJson(*info);
  }
  ReplyJson(res, 200, out);
}

void HandleDeleteFiles(const Request& req, Response& res) {
  auto paths = PathParams(req);
  if (!paths.ok()) return ReplyExecdError(res, paths.status());
  for (const auto& [given, path] : *paths) {
    if (auto s = DeleteFile(path); !s.ok()) return ReplyExecdError(res, s);
  }
  res.status = 200;
}

void HandleDeleteDirectories(const Request& req, Response& res) {
  auto paths = PathParams(req);
  if (!paths.ok()) return ReplyExecdError(res, paths.status());
  for (const auto& [given, path] : *paths) {
    if (auto s = DeleteDirectory(path); !s.ok()) return ReplyExecdError(res, s);
  }
  res.status = 200;
}

// POST /files/permissions and POST /directories: a map path → Permission.
template <typename Op>
void HandlePermissionMap(const Request& req, Response& res, Op op) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyExecdError(res, body.status());
  auto entries = rest::ParsePermissionMap(*body);
  if (!entries.ok()) return ReplyExecdError(res, entries.status());
  for (const auto& [given, permission] : *entries) {
    auto path = RequestPath(given);
    if (!path.ok()) return ReplyExecdError(res, path.status());
    if (auto s = op(*path, permission); !s.ok()) return ReplyExecdError(res, s);
  }
  res.status = 200;
}

void HandleMove(const Request& req, Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyExecdError(res, body.status());
  auto moves = rest::ParseMoveRequest(*body);
  if (!moves.ok()) return ReplyExecdError(res, moves.status());
  for (const auto& m : *moves) {
    auto src = RequestPath(m.src);
    if (!src.ok()) return ReplyExecdError(res, src.status());
    auto dest = RequestPath(m.dest);
    if (!dest.ok()) return ReplyExecdError(res, dest.status());
    if (auto s = MovePath(*src, *dest); !s.ok()) return ReplyExecdError(res, s);
  }
  res.status = 200;
}

void HandleReplace(const Request& req, Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyExecdError(res, body.status());
  auto entries = rest::ParseReplaceRequest(*body);
  if (!entries.ok()) return ReplyExecdError(res, entries.status());
  Json counts = Json::object();
  for (const auto& [given, replacement] : *entries) {
    auto path = RequestPath(given);
    if (!path.ok()) return ReplyExecdError(res, path.status());
    auto count = ReplaceInFile(*path, replacement);
    if (!count.ok()) return ReplyExecdError(res, count.status());
    counts[given] = {{"replacedCount", *count}};
  }
  if (req.get_param_value("verbose") == "true") return ReplyJson(res, 200, counts);
  res.status = 200;
}

void HandleSearch(const Request& req, Response& res) {
  auto root = OnePathParam(req);
  if (!root.ok()) return ReplyExecdError(res, root.status());
  auto found = SearchFiles(*root, req.get_param_value("pattern"));
  if (!found.ok()) return ReplyExecdError(res, found.status());
  ReplyJson(res, 200, InfoList(*found));
}

void HandleList(const Request& req, Response& res) {
  auto root = OnePathParam(req);
  if (!root.ok()) return ReplyExecdError(res, root.status());
  int depth = 1;
  if (req.has_param("depth") && !absl::SimpleAtoi(req.get_param_value("depth"), &depth)) {
    return ReplyExecdError(res, absl::InvalidArgumentError("depth must be an integer"));
  }
  auto entries = ListDirectory(*root, depth);
  if (!entries.ok()) return ReplyExecdError(res, entries.status());
  ReplyJson(res, 200, InfoList(*entries));
}

void HandleDownload(const Request& req, Response& res) {
  // Newer execd reads lines when given offset (the first line, 1-based) and/or limit (how many).
  const bool by_lines = req.has_param("offset") || req.has_param("limit");
  int64_t first_line = 1, max_lines = -1;
  if (by_lines) {
    if (req.has_header("Range")) {
      return ReplyExecdError(res, absl::InvalidArgumentError(
                                      "offset/limit and a Range header exclude each other"));
    }
    if (req.has_param("offset") &&
        (!absl::SimpleAtoi(req.get_param_value("offset"), &first_line) || first_line < 1)) {
      return ReplyExecdError(res, absl::InvalidArgumentError(
                                      "offset must be a line number, 1 or more"));
    }
    if (req.has_param("limit") &&
        (!absl::SimpleAtoi(req.get_param_value("limit"), &max_lines) || max_lines < 1)) {
      return ReplyExecdError(res, absl::InvalidArgumentError(
                                      "limit must be a number of lines, 1 or more"));
    }
  }
  auto path = OnePathParam(req);
  if (!path.ok()) return ReplyExecdError(res, path.status());
  auto fd = std::make_shared<UniqueFd>(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd->valid()) {
    int err = errno;
    if (err == ENOENT) {
      return ReplyExecdError(res, rest::MakeError(absl::StatusCode::kNotFound, rest::kFileNotFound,
                                                  absl::StrCat("no such file: ", *path)));
    }
    return ReplyExecdError(res, ErrnoStatus(absl::StrCat("open ", *path), err));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return ReplyExecdError(res, ErrnoStatus("stat", errno));
  if (!S_ISREG(st.st_mode)) {
    return ReplyExecdError(res, absl::InvalidArgumentError(absl::StrCat(*path, " is not a file")));
  }
  const int64_t size = st.st_size;
  int64_t first = 0, length = size;
  res.status = 200;
  if (by_lines) {
    auto lines = FindLines(fd->get(), size, first_line, max_lines);
    if (!lines.ok()) return ReplyExecdError(res, lines.status());
    first = lines->has_value() ? (*lines)->first : 0;
    length = lines->has_value() ? (*lines)->last - first + 1 : 0;
  }
  auto range = ParseByteRange(req.get_header_value("Range"), size);
  if (!range.ok()) {
    return ReplyExecdError(res, absl::OutOfRangeError(range.status().message()));
  }
  if (range->has_value()) {
    first = (*range)->first;
    length = (*range)->last - first + 1;
    res.status = 206;
    res.set_header("Content-Range", absl::StrCat("bytes ", first, "-", (*range)->last, "/", size));
  }
  res.set_header("Content-Disposition", ContentDisposition(*path));
  res.set_header("Accept-Ranges", "bytes");
  res.set_content_provider(
      static_cast<std::size_t>(length), "application/octet-stream",
      [fd, first](std::size_t offset, std::size_t want, httplib::DataSink& sink) {
        char buf[256 * 1024];
        ssize_t n;
        do {
          n = ::pread(fd->get(), buf, std::min(want, sizeof buf),
                      static_cast<off_t>(first + static_cast<int64_t>(offset)));
        } while (n < 0 && errno == EINTR);
        // A file that shrank or failed to read cannot be completed: end the connection, so the
        // client sees a short body rather than wrong bytes.
        if (n <= 0) return false;
        return sink.write(buf, static_cast<std::size_t>(n));
      });
}

// POST /files/upload: pairs of a `metadata` part (FileMetadata JSON, with or without a filename)
// and a `file` part, each file written as its part arrives. A metadata part must come before its
// file part; several metadata parts may come before their files, which take them in order.
class Upload {
 public:
  bool OnPartHeader(const MultipartPart& part) {
    if (!FinishPart()) return false;
    if (part.name == "metadata") {
      part_ = Part::kMetadata;
      metadata_text_.clear();
    } else if (part.name == "file") {
      if (pending_.empty()) {
        return Fail(rest::kInvalidFileMetadata,
                    absl::StrCat("file part ", files_ + 1, " has no metadata part before it"));
      }
      auto writer = FileWriter::Create(pending_.front());
      pending_.pop_front();
      if (!writer.ok()) return Fail(writer.status());
      writer_.emplace(std::move(*writer));
      part_ = Part::kFile;
    } else {
      return Fail(rest::kInvalidFile,
                  absl::StrCat("unexpected part '", part.name, "': expected metadata and file"));
    }
    return true;
  }

  bool OnData(std::string_view data) {
    if (part_ == Part::kMetadata) {
      if (metadata_text_.size() + data.size() > kMaxMetadataPart) {
        return Fail(rest::kInvalidFileMetadata, "a metadata part is larger than 64 KiB");
      }
      metadata_text_.append(data);
    } else if (part_ == Part::kFile) {
      if (auto s = writer_->Append(data); !s.ok()) return Fail(s);
    }
    return true;
  }

  // After the whole body: the final part, and every metadata matched by a file.
  absl::Status Finish() {
    if (!FinishPart()) return error_;
    if (files_ == 0) {
      return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidFile,
                             "the upload has no file part");
    }
    if (!pending_.empty()) {
      return rest::MakeError(
          absl::StatusCode::kInvalidArgument, rest::kInvalidFile,
          absl::StrCat("metadata for ", pending_.front().path, " has no file part"));
    }
    return absl::OkStatus();
  }

  const absl::Status& error() const { return error_; }

 private:
  enum class Part { kNone, kMetadata, kFile };

  bool FinishPart() {
    if (!error_.ok()) return false;
    Part done = std::exchange(part_, Part::kNone);
    if (done == Part::kMetadata) {
      Json j = Json::parse(metadata_text_, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return Fail(rest::kInvalidFileMetadata, "metadata is not valid JSON");
      auto metadata = rest::ParseFileMetadata(j);
      if (!metadata.ok()) {
        return Fail(rest::kInvalidFileMetadata, rest::StdView(metadata.status().message()));
      }
      pending_.push_back(std::move(*metadata));
    } else if (done == Part::kFile) {
      absl::Status s = writer_->Commit();
      writer_.reset();
      if (!s.ok()) return Fail(s);
      ++files_;
    }
    return true;
  }

  bool Fail(std::string_view code, std::string_view message) {
    return Fail(rest::MakeError(absl::StatusCode::kInvalidArgument, code, message));
  }
  bool Fail(absl::Status s) {
    if (error_.ok()) error_ = std::move(s);
    writer_.reset();  // removes the partial file
    return false;
  }

  Part part_ = Part::kNone;
  std::string metadata_text_;
  std::deque<rest::FileMetadata> pending_;
  std::optional<FileWriter> writer_;
  int files_ = 0;
  absl::Status error_;
};

void HandleUpload(const Request& req, Response& res, const httplib::ContentReader& reader) {
  // The body comes raw (KeepMultipartBodyRaw, from the server's pre-routing handler).
  auto boundary = MultipartBoundary(RequestContentType(req));
  if (!boundary.ok()) {
    runtime::CloseConnectionAfter(res);  // the body was not read
    return ReplyExecdError(
        res, rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidFile,
                             absl::StrCat("an upload must be multipart/form-data: ",
                                          boundary.status().message())));
  }
  Upload upload;
  MultipartReader body(
      *boundary, [&](const MultipartPart& part) { return upload.OnPartHeader(part); },
      [&](std::string_view data) { return upload.OnData(data); });
  bool read = reader(
      [&](const char* data, std::size_t size) { return body.Feed(std::string_view(data, size)); });
  // The upload's own error first (a file that cannot be written keeps its errno's status); the
  // body's framing only when the files had none.
  absl::Status status = upload.error();
  if (status.ok()) {
    absl::Status framing = read ? body.Finish() : body.status();
    if (framing.ok() && !read) framing = absl::InvalidArgumentError("the body broke off");
    if (!framing.ok()) {
      status = rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidFileContent,
                               absl::StrCat("the multipart body is malformed or truncated: ",
                                            framing.message()));
    }
  }
  if (status.ok()) status = upload.Finish();
  if (!status.ok()) {
    runtime::CloseConnectionAfter(res);  // the rest of the body was not read
    return ReplyExecdError(res, status);
  }
  res.status = 200;
}

}  // namespace

void AddFileRoutes(runtime::HttpServer& server) {
  server.Get("/files/info", HandleInfo);
  server.Delete("/files", HandleDeleteFiles);
  server.Post("/files/permissions", [](const Request& req, Response& res) {
    HandlePermissionMap(req, res, ApplyPermission);
  });
  server.Post("/files/mv", HandleMove);
  server.Get("/files/search", HandleSearch);
  server.Post("/files/replace", HandleReplace);
  server.Post("/files/upload", HandleUpload);
  server.Get("/files/download", HandleDownload);
  server.Get("/directories/list", HandleList);
  server.Post("/directories", [](const Request& req, Response& res) {
    HandlePermissionMap(req, res, MakeDirectories);
  });
  server.Delete("/directories", HandleDeleteDirectories);
}

}  // namespace osb::agent
