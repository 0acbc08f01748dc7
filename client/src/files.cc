#include "opensandbox/files.h"

#include <algorithm>
#include <istream>
#include <ostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/src/daemon_connection.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

namespace {

// Large enough to keep per-message overhead small, far below gRPC's 4 MiB message limit.
constexpr std::size_t kChunkSize = 256 * 1024;

void SetPermission(const FilePermission& permission, v1::FilePermission* out) {
  out->set_mode(permission.mode);
  out->set_owner(permission.owner);
  out->set_group(permission.group);
}

// Streams chunks from `next` (which returns false at the end, or an error) into a Write call.
template <typename NextChunk>
absl::StatusOr<std::int64_t> StreamWrite(DaemonConnection& daemon, const std::string& sandbox_id,
                                         const std::string& path,
                                         const FilePermission& permission, NextChunk next) {
  auto ctx = daemon.StreamContext();
  v1::WriteFileResponse response;
  auto writer = daemon.files().Write(ctx.get(), &response);
  v1::WriteFileRequest header;
  auto* h = header.mutable_header();
  *h->mutable_connection() = daemon.connection();
  h->set_sandbox_id(sandbox_id);
  h->set_path(path);
  h->set_mode(permission.mode);
  h->set_owner(permission.owner);
  h->set_group(permission.group);
  bool sending = writer->Write(header);
  v1::WriteFileRequest data;
  absl::Status local;
  while (sending) {
    data.clear_data();
    absl::StatusOr<bool> more = next(data.mutable_data());
    if (!more.ok()) {
      local = more.status();
      // Cancelled, not finished: a part of the input must not become the whole file.
      ctx->TryCancel();
      break;
    }
    if (!data.data().empty()) sending = writer->Write(data);
    if (!*more) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!local.ok()) return local;
  if (!status.ok()) return DaemonConnection::FromGrpcStatus(status);
  return response.bytes_written();
}

}  // namespace

Files::Files(std::shared_ptr<DaemonConnection> daemon, std::string sandbox_id)
    : daemon_(std::move(daemon)), sandbox_id_(std::move(sandbox_id)) {}

absl::StatusOr<std::string> Files::ReadFile(const std::string& path, ReadRange range) {
  std::ostringstream out;
  if (auto s = ReadFileTo(path, out, range); !s.ok()) return s;
  return std::move(out).str();
}

std::future<absl::StatusOr<std::string>> Files::ReadFileAsync(std::string path, ReadRange range) {
  return internal::RunAsync([self = *this, path = std::move(path), range]() mutable {
    return self.ReadFile(path, range);
  });
}

absl::Status Files::ReadFileTo(const std::string& path, std::ostream& out, ReadRange range) {
  if (!daemon_) return internal::HandleClosed();
  v1::ReadFileRequest request;
  *request.mutable_connection() = daemon_->connection();
  request.set_sandbox_id(sandbox_id_);
  request.set_path(path);
  request.set_offset(range.offset);
  request.set_length(range.length);
  auto ctx = daemon_->StreamContext();
  auto reader = daemon_->files().Read(ctx.get(), request);
  v1::FileChunk chunk;
  bool written = true;
  while (reader->Read(&chunk)) {
    const auto size = static_cast<std::streamsize>(chunk.data().size());
    if (written && !out.write(chunk.data().data(), size)) {
      written = false;
      ctx->TryCancel();
    }
  }
  grpc::Status status = reader->Finish();
  if (!written) return absl::DataLossError(absl::StrCat("could not write the contents of ", path));
  if (!status.ok()) return DaemonConnection::FromGrpcStatus(status);
  return absl::OkStatus();
}

absl::Status Files::WriteFile(const std::string& path, std::string_view data,
                              const FilePermission& permission) {
  if (!daemon_) return internal::HandleClosed();
  std::size_t offset = 0;
  return StreamWrite(*daemon_, sandbox_id_, path, permission,
                     [&](std::string* chunk) -> absl::StatusOr<bool> {
                       const std::size_t n = std::min(kChunkSize, data.size() - offset);
                       chunk->assign(data.substr(offset, n));
                       offset += n;
                       return offset < data.size();
                     })
      .status();
}

std::future<absl::Status> Files::WriteFileAsync(std::string path, std::string data,
                                                FilePermission permission) {
  return internal::RunAsync([self = *this, path = std::move(path), data = std::move(data),
                             permission = std::move(permission)]() mutable {
    return self.WriteFile(path, data, permission);
  });
}

absl::StatusOr<std::int64_t> Files::WriteFileFrom(const std::string& path, std::istream& in,
                                                  const FilePermission& permission) {
  if (!daemon_) return internal::HandleClosed();
  return StreamWrite(*daemon_, sandbox_id_, path, permission,
                     [&](std::string* chunk) -> absl::StatusOr<bool> {
                       chunk->resize(kChunkSize);
                       in.read(chunk->data(), static_cast<std::streamsize>(kChunkSize));
                       chunk->resize(static_cast<std::size_t>(in.gcount()));
                       if (in.bad() || (in.fail() && !in.eof())) {
                         return absl::DataLossError(absl::StrCat("could not read the input for ",
                                                                 path));
                       }
                       return !in.eof();
                     });
}

absl::Status Files::WriteFiles(const std::vector<WriteEntry>& entries) {
  for (const auto& entry : entries) {
    if (auto s = WriteFile(entry.path, entry.data, entry.permission); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, FileInfo>> Files::GetInfo(
    const std::vector<std::string>& paths) {
  if (!daemon_) return internal::HandleClosed();
  v1::GetFileInfoRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.mutable_paths()->Assign(paths.begin(), paths.end());
  auto response = daemon_->Call(daemon_->files(), &v1::Files::Stub::GetInfo, request);
  if (!response.ok()) return response.status();
  std::map<std::string, FileInfo> infos;
  for (const auto& [path, info] : response->infos()) {
    infos.emplace(path, internal::FileInfoFromProto(info));
  }
  return infos;
}

absl::StatusOr<std::vector<FileInfo>> Files::ListDirectory(const std::string& path,
                                                           std::optional<std::uint32_t> depth) {
  if (!daemon_) return internal::HandleClosed();
  v1::ListDirectoryRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_path(path);
  if (depth.has_value()) request.set_depth(*depth);
  auto response = daemon_->Call(daemon_->files(), &v1::Files::Stub::ListDirectory, request);
  if (!response.ok()) return response.status();
  std::vector<FileInfo> entries;
  for (const auto& entry : response->entries()) {
    entries.push_back(internal::FileInfoFromProto(entry));
  }
  return entries;
}

absl::StatusOr<std::vector<FileInfo>> Files::Search(const std::string& path,
                                                    const std::string& pattern) {
  if (!daemon_) return internal::HandleClosed();
  v1::SearchFilesRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_path(path);
  request.set_pattern(pattern);
  auto response = daemon_->Call(daemon_->files(), &v1::Files::Stub::Search, request);
  if (!response.ok()) return response.status();
  std::vector<FileInfo> files;
  for (const auto& file : response->files()) files.push_back(internal::FileInfoFromProto(file));
  return files;
}

absl::Status Files::CreateDirectories(const std::vector<std::string>& paths,
                                      const FilePermission& permission) {
  if (!daemon_) return internal::HandleClosed();
  v1::MakeDirectoriesRequest request;
  request.set_sandbox_id(sandbox_id_);
  for (const auto& path : paths) {
    auto* directory = request.add_directories();
    SetPermission(permission, directory);
    directory->set_path(path);
  }
  return daemon_->Call(daemon_->files(), &v1::Files::Stub::MakeDirectories, request).status();
}

absl::Status Files::DeleteFiles(const std::vector<std::string>& paths) {
  if (!daemon_) return internal::HandleClosed();
  v1::DeleteFilesRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.mutable_paths()->Assign(paths.begin(), paths.end());
  return daemon_->Call(daemon_->files(), &v1::Files::Stub::Delete, request).status();
}

absl::Status Files::DeleteDirectories(const std::vector<std::string>& paths) {
  if (!daemon_) return internal::HandleClosed();
  v1::DeleteDirectoriesRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.mutable_paths()->Assign(paths.begin(), paths.end());
  return daemon_->Call(daemon_->files(), &v1::Files::Stub::DeleteDirectories, request).status();
}

absl::Status Files::Move(const std::string& source, const std::string& destination) {
  if (!daemon_) return internal::HandleClosed();
  v1::MoveFilesRequest request;
  request.set_sandbox_id(sandbox_id_);
  auto* move = request.add_moves();
  move->set_source(source);
  move->set_destination(destination);
  return daemon_->Call(daemon_->files(), &v1::Files::Stub::Move, request).status();
}

absl::Status Files::SetPermissions(const std::string& path, const FilePermission& permission) {
  if (!daemon_) return internal::HandleClosed();
  v1::SetPermissionsRequest request;
  request.set_sandbox_id(sandbox_id_);
  auto* out = request.add_permissions();
  SetPermission(permission, out);
  out->set_path(path);
  return daemon_->Call(daemon_->files(), &v1::Files::Stub::SetPermissions, request).status();
}

absl::StatusOr<std::map<std::string, std::int64_t>> Files::ReplaceContents(
    const std::vector<ContentReplacement>& replacements) {
  if (!daemon_) return internal::HandleClosed();
  v1::ReplaceContentsRequest request;
  request.set_sandbox_id(sandbox_id_);
  for (const auto& replacement : replacements) {
    auto* out = request.add_replacements();
    out->set_path(replacement.path);
    out->set_old_content(replacement.old_content);
    out->set_new_content(replacement.new_content);
  }
  auto response = daemon_->Call(daemon_->files(), &v1::Files::Stub::Replace, request);
  if (!response.ok()) return response.status();
  std::map<std::string, std::int64_t> counts;
  for (const auto& result : response->results()) counts[result.path()] = result.replaced_count();
  return counts;
}

std::future<absl::Status> Files::WriteFilesAsync(std::vector<WriteEntry> entries) {
  return internal::RunAsync(
      [self = *this, entries = std::move(entries)]() mutable { return self.WriteFiles(entries); });
}

std::future<absl::StatusOr<std::map<std::string, FileInfo>>> Files::GetInfoAsync(
    std::vector<std::string> paths) {
  return internal::RunAsync(
      [self = *this, paths = std::move(paths)]() mutable { return self.GetInfo(paths); });
}

std::future<absl::StatusOr<std::vector<FileInfo>>> Files::ListDirectoryAsync(
    std::string path, std::optional<std::uint32_t> depth) {
  return internal::RunAsync(
      [self = *this, path = std::move(path), depth = std::move(depth)]() mutable {
        return self.ListDirectory(path, depth);
      });
}

std::future<absl::StatusOr<std::vector<FileInfo>>> Files::SearchAsync(std::string path,
                                                                      std::string pattern) {
  return internal::RunAsync(
      [self = *this, path = std::move(path), pattern = std::move(pattern)]() mutable {
        return self.Search(path, pattern);
      });
}

std::future<absl::Status> Files::CreateDirectoriesAsync(std::vector<std::string> paths,
                                                        FilePermission permission) {
  return internal::RunAsync(
      [self = *this, paths = std::move(paths), permission = std::move(permission)]() mutable {
        return self.CreateDirectories(paths, permission);
      });
}

std::future<absl::Status> Files::DeleteFilesAsync(std::vector<std::string> paths) {
  return internal::RunAsync(
      [self = *this, paths = std::move(paths)]() mutable { return self.DeleteFiles(paths); });
}

std::future<absl::Status> Files::DeleteDirectoriesAsync(std::vector<std::string> paths) {
  return internal::RunAsync(
      [self = *this, paths = std::move(paths)]() mutable { return self.DeleteDirectories(paths); });
}

std::future<absl::Status> Files::MoveAsync(std::string source, std::string destination) {
  return internal::RunAsync(
      [self = *this, source = std::move(source), destination = std::move(destination)]() mutable {
        return self.Move(source, destination);
      });
}

std::future<absl::Status> Files::SetPermissionsAsync(std::string path, FilePermission permission) {
  return internal::RunAsync(
      [self = *this, path = std::move(path), permission = std::move(permission)]() mutable {
        return self.SetPermissions(path, permission);
      });
}

std::future<absl::StatusOr<std::map<std::string, std::int64_t>>> Files::ReplaceContentsAsync(
    std::vector<ContentReplacement> replacements) {
  return internal::RunAsync([self = *this, replacements = std::move(replacements)]() mutable {
    return self.ReplaceContents(replacements);
  });
}

}  // namespace opensandbox
