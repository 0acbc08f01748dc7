// Files: every execd file and directory operation (COMPAT.md §2.6) for one sandbox. Read streams
// the file in chunks of at most 64 KiB and stops reading upstream while the client is behind;
// Write sends the client's chunks to execd as they arrive and asks the client for more only as
// fast as execd takes them, so neither direction holds a whole file in osbd.
#pragma once

#include "daemon/services/daemon_context.h"
#include "opensandbox/v1/files.grpc.pb.h"

namespace osb::daemon {

class FilesService final : public opensandbox::v1::Files::CallbackService {
 public:
  explicit FilesService(DaemonContext& context) : context_(context) {}

  grpc::ServerWriteReactor<opensandbox::v1::FileChunk>* Read(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::ReadFileRequest* request) override;
  grpc::ServerReadReactor<opensandbox::v1::WriteFileRequest>* Write(
      grpc::CallbackServerContext* ctx, opensandbox::v1::WriteFileResponse* response) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* ctx,
                                    const opensandbox::v1::GetFileInfoRequest* request,
                                    opensandbox::v1::GetFileInfoResponse* response) override;
  grpc::ServerUnaryReactor* ListDirectory(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::ListDirectoryRequest* request,
      opensandbox::v1::ListDirectoryResponse* response) override;
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::SearchFilesRequest* request,
                                   opensandbox::v1::SearchFilesResponse* response) override;
  grpc::ServerUnaryReactor* MakeDirectories(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::MakeDirectoriesRequest* request,
      opensandbox::v1::MakeDirectoriesResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const opensandbox::v1::DeleteFilesRequest* request,
                                   opensandbox::v1::DeleteFilesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteDirectories(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::DeleteDirectoriesRequest* request,
      opensandbox::v1::DeleteDirectoriesResponse* response) override;
  grpc::ServerUnaryReactor* Move(grpc::CallbackServerContext* ctx,
                                 const opensandbox::v1::MoveFilesRequest* request,
                                 opensandbox::v1::MoveFilesResponse* response) override;
  grpc::ServerUnaryReactor* SetPermissions(
      grpc::CallbackServerContext* ctx, const opensandbox::v1::SetPermissionsRequest* request,
      opensandbox::v1::SetPermissionsResponse* response) override;
  grpc::ServerUnaryReactor* Replace(grpc::CallbackServerContext* ctx,
                                    const opensandbox::v1::ReplaceContentsRequest* request,
                                    opensandbox::v1::ReplaceContentsResponse* response) override;

 private:
  DaemonContext& context_;
};

}  // namespace osb::daemon
