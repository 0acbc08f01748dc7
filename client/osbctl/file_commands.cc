#include "client/osbctl/file_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "client/osbctl/output.h"
#include "client/osbctl/progress.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"

namespace osb::cli {
namespace {

namespace v1 = opensandbox::v1;

constexpr std::size_t kChunk = 64 * 1024;

// "644" → 0644; false for anything not octal.
bool ParseMode(const std::string& text, uint32_t* mode) {
  if (text.empty()) {
    *mode = 0;
    return true;
  }
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 8);
  if (*end != '\0' || v > 07777) return false;
  *mode = static_cast<uint32_t>(v);
  return true;
}

// Streams the file at `path` in the sandbox to `fd`, reporting to `progress` when given.
int ReadTo(v1::Files::Stub& files, grpc::ClientContext& call, const std::string& sandbox_id,
           const std::string& path, int fd, Progress* progress = nullptr) {
  v1::ReadFileRequest request;
  request.set_sandbox_id(sandbox_id);
  request.set_path(path);
  auto reader = files.Read(&call, request);
  v1::FileChunk chunk;
  bool local_ok = true;
  while (reader->Read(&chunk)) {
    if (progress != nullptr) {
      if (chunk.has_file_size()) progress->SetTotal(chunk.file_size());
      progress->Add(static_cast<int64_t>(chunk.data().size()));
    }
    if (local_ok && !WriteAll(fd, chunk.data())) {
      local_ok = false;
      call.TryCancel();
    }
  }
  grpc::Status status = reader->Finish();
  if (!local_ok) return FailLocal("write the file's contents");
  if (!status.ok()) return Fail(status, "read " + path);
  return 0;
}

// Streams `fd` to `path` in the sandbox, reporting to `progress` when given.
int WriteFrom(v1::Files::Stub& files, grpc::ClientContext& call, const std::string& sandbox_id,
              const std::string& path, uint32_t mode, int fd, Progress* progress = nullptr) {
  v1::WriteFileResponse response;
  auto writer = files.Write(&call, &response);
  v1::WriteFileRequest header;
  header.mutable_header()->set_sandbox_id(sandbox_id);
  header.mutable_header()->set_path(path);
  header.mutable_header()->set_mode(mode);
  bool sending = writer->Write(header);
  std::string buf(kChunk, '\0');
  v1::WriteFileRequest data;  // one message, its buffer reused for every chunk
  bool local_failed = false;
  while (sending) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      local_failed = true;
      // Cancelling, not finishing: a half-read input must not be stored as the whole file.
      call.TryCancel();
      break;
    }
    if (n == 0) break;
    data.set_data(buf.data(), static_cast<std::size_t>(n));
    sending = writer->Write(data);
    if (progress != nullptr) progress->Add(n);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (local_failed) return FailLocal("read the input");
  if (!status.ok()) return Fail(status, "write " + path);
  return 0;
}

}  // namespace

FileCommands::FileCommands(CLI::App& app) {
  file_ = app.add_subcommand("file", "files and directories inside a sandbox");
  file_->require_subcommand(1);
  auto with_id = [this](CLI::App* cmd) {
    cmd->add_option("id", sandbox_id_, "sandbox id")->required();
    return cmd;
  };
  cat_ = with_id(file_->add_subcommand("cat", "print a file to stdout"));
  cat_->add_option("path", path_, "path in the sandbox")->required();
  write_ = with_id(file_->add_subcommand("write", "write stdin to a file (created or replaced)"));
  write_->add_option("path", path_, "path in the sandbox")->required();
  write_->add_option("--mode", mode_, "permission bits in octal, e.g. 644");
  upload_ = with_id(file_->add_subcommand("upload", "copy a local file into the sandbox"));
  upload_->add_option("local", local_, "local file")->required()->check(CLI::ExistingFile);
  upload_->add_option("path", path_, "path in the sandbox")->required();
  upload_->add_option("--mode", mode_, "permission bits in octal, e.g. 644");
  download_ = with_id(file_->add_subcommand("download", "copy a file out of the sandbox"));
  download_->add_option("path", path_, "path in the sandbox")->required();
  download_->add_option("local", local_, "local file (created or replaced)")->required();
  ls_ = with_id(file_->add_subcommand("ls", "list a directory as JSON"));
  ls_->add_option("path", path_, "directory in the sandbox")->required();
  ls_->add_option("--depth", depth_, "levels to list (1: its children)")->capture_default_str();
  info_ = with_id(file_->add_subcommand("info", "print files' metadata as JSON"));
  info_->add_option("paths", paths_, "paths in the sandbox")->required();
  rm_ = with_id(file_->add_subcommand("rm", "delete files (missing ones are ignored)"));
  rm_->add_option("paths", paths_, "paths in the sandbox")->required();
  rmdir_ = with_id(file_->add_subcommand("rmdir", "delete directories and what they hold"));
  rmdir_->add_option("paths", paths_, "directories in the sandbox")->required();
  mkdir_ = with_id(file_->add_subcommand("mkdir", "create directories with their parents"));
  mkdir_->add_option("paths", paths_, "directories in the sandbox")->required();
  mkdir_->add_option("--mode", mode_, "permission bits in octal, e.g. 755");
  mv_ = with_id(file_->add_subcommand("mv", "move a file or directory"));
  mv_->add_option("source", path_, "path in the sandbox")->required();
  mv_->add_option("destination", second_, "new path (must not exist)")->required();
  search_ = with_id(file_->add_subcommand("search", "find files by base-name glob, as JSON"));
  search_->add_option("path", path_, "directory to search")->required();
  search_->add_option("--pattern", pattern_, "glob, e.g. '*.py' (default: every file)");
  chmod_ = with_id(file_->add_subcommand("chmod", "change mode and ownership"));
  chmod_->add_option("path", path_, "path in the sandbox")->required();
  chmod_->add_option("--mode", mode_, "permission bits in octal, e.g. 600");
  chmod_->add_option("--owner", owner_, "user name or uid");
  chmod_->add_option("--group", group_, "group name or gid");
  replace_ = with_id(file_->add_subcommand("replace", "replace text in a file; prints the count"));
  replace_->add_option("path", path_, "file in the sandbox")->required();
  replace_->add_option("old", second_, "text to replace (not empty)")->required();
  replace_->add_option("new", third_, "replacement")->required();

  command_ = app.add_subcommand("command", "commands started in a sandbox");
  command_->require_subcommand(1);
  auto with_command = [&](CLI::App* cmd) {
    with_id(cmd)->add_option("command_id", command_id_, "id of the command")->required();
    return cmd;
  };
  status_ = with_command(command_->add_subcommand("status", "print a command's state as JSON"));
  logs_ = with_command(command_->add_subcommand("logs", "print a background command's output"));
  logs_->add_option("--cursor", cursor_, "byte offset to start at");
  interrupt_ = with_command(command_->add_subcommand("interrupt", "stop a running command"));
  session_ = command_->add_subcommand(
      "session", "bash sessions: `cd` and `export` carry over from one run to the next");
  session_->require_subcommand(1);
  session_create_ = with_id(session_->add_subcommand("create", "start a session; prints its id"));
  session_create_->add_option("--cwd", cwd_, "the session's first working directory");
  session_delete_ = with_id(session_->add_subcommand("delete", "end a session"));
  session_delete_->add_option("session_id", session_id_, "id of the session")->required();
}

bool FileCommands::Chosen() const {
  return file_->parsed() || *status_ || *logs_ || *interrupt_ || *session_create_ ||
         *session_delete_;
}

int FileCommands::Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call) {
  auto files = v1::Files::NewStub(channel);
  auto commands = v1::Commands::NewStub(channel);
  uint32_t mode = 0;
  if (!ParseMode(mode_, &mode)) {
    std::fprintf(stderr, "osbctl: --mode %s is not an octal permission such as 644\n",
                 mode_.c_str());
    return 2;
  }
  if (*cat_) return ReadTo(*files, call, sandbox_id_, path_, 1);
  if (*write_) return WriteFrom(*files, call, sandbox_id_, path_, mode, 0);
  if (*upload_) {
    int fd = ::open(local_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FailLocal("open " + local_);
    struct stat st {};
    Progress progress(local_, ::fstat(fd, &st) == 0 ? st.st_size : -1);
    int code = WriteFrom(*files, call, sandbox_id_, path_, mode, fd, &progress);
    progress.Finish();
    ::close(fd);
    return code;
  }
  if (*download_) {
    // Into a temporary file beside the target, renamed once whole: a failed download leaves the
    // old file (or none), never a part.
    std::string temp = local_ + ".osbctl-part";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return FailLocal("create " + temp);
    Progress progress(path_, -1);
    int code = ReadTo(*files, call, sandbox_id_, path_, fd, &progress);
    progress.Finish();
    if (::close(fd) != 0 && code == 0) code = FailLocal("write " + temp);
    if (code == 0 && ::rename(temp.c_str(), local_.c_str()) != 0) code = FailLocal("rename");
    if (code != 0) ::unlink(temp.c_str());
    return code;
  }
  if (*ls_) {
    v1::ListDirectoryRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_path(path_);
    request.set_depth(depth_);
    v1::ListDirectoryResponse response;
    grpc::Status s = files->ListDirectory(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "list " + path_);
  }
  if (*info_) {
    v1::GetFileInfoRequest request;
    request.set_sandbox_id(sandbox_id_);
    for (const auto& p : paths_) request.add_paths(p);
    v1::GetFileInfoResponse response;
    grpc::Status s = files->GetInfo(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "file info");
  }
  if (*rm_ || *rmdir_) {
    grpc::Status s;
    if (*rm_) {
      v1::DeleteFilesRequest request;
      request.set_sandbox_id(sandbox_id_);
      for (const auto& p : paths_) request.add_paths(p);
      v1::DeleteFilesResponse response;
      s = files->Delete(&call, request, &response);
    } else {
      v1::DeleteDirectoriesRequest request;
      request.set_sandbox_id(sandbox_id_);
      for (const auto& p : paths_) request.add_paths(p);
      v1::DeleteDirectoriesResponse response;
      s = files->DeleteDirectories(&call, request, &response);
    }
    return s.ok() ? 0 : Fail(s, "delete");
  }
  if (*mkdir_) {
    v1::MakeDirectoriesRequest request;
    request.set_sandbox_id(sandbox_id_);
    for (const auto& p : paths_) {
      auto* d = request.add_directories();
      d->set_path(p);
      d->set_mode(mode);
    }
    v1::MakeDirectoriesResponse response;
    grpc::Status s = files->MakeDirectories(&call, request, &response);
    return s.ok() ? 0 : Fail(s, "mkdir");
  }
  if (*mv_) {
    v1::MoveFilesRequest request;
    request.set_sandbox_id(sandbox_id_);
    auto* m = request.add_moves();
    m->set_source(path_);
    m->set_destination(second_);
    v1::MoveFilesResponse response;
    grpc::Status s = files->Move(&call, request, &response);
    return s.ok() ? 0 : Fail(s, "move " + path_);
  }
  if (*search_) {
    v1::SearchFilesRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_path(path_);
    request.set_pattern(pattern_);
    v1::SearchFilesResponse response;
    grpc::Status s = files->Search(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "search " + path_);
  }
  if (*chmod_) {
    v1::SetPermissionsRequest request;
    request.set_sandbox_id(sandbox_id_);
    auto* p = request.add_permissions();
    p->set_path(path_);
    p->set_mode(mode);
    p->set_owner(owner_);
    p->set_group(group_);
    v1::SetPermissionsResponse response;
    grpc::Status s = files->SetPermissions(&call, request, &response);
    return s.ok() ? 0 : Fail(s, "chmod " + path_);
  }
  if (*replace_) {
    v1::ReplaceContentsRequest request;
    request.set_sandbox_id(sandbox_id_);
    auto* r = request.add_replacements();
    r->set_path(path_);
    r->set_old_content(second_);
    r->set_new_content(third_);
    v1::ReplaceContentsResponse response;
    grpc::Status s = files->Replace(&call, request, &response);
    if (!s.ok()) return Fail(s, "replace in " + path_);
    for (const auto& result : response.results()) {
      std::printf("%lld\n", static_cast<long long>(result.replaced_count()));
    }
    return 0;
  }
  if (*status_) {
    v1::GetCommandStatusRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_command_id(command_id_);
    v1::CommandStatus response;
    grpc::Status s = commands->GetStatus(&call, request, &response);
    return s.ok() ? PrintJson(response) : Fail(s, "command status");
  }
  if (*logs_) {
    // Reads on while more is already there; the cursor to resume at goes to stderr.
    int64_t cursor = cursor_;
    for (;;) {
      grpc::ClientContext page;
      v1::GetCommandLogsRequest request;
      request.set_sandbox_id(sandbox_id_);
      request.set_command_id(command_id_);
      request.set_cursor(cursor);
      v1::CommandLogs response;
      grpc::Status s = commands->GetLogs(&page, request, &response);
      if (!s.ok()) return Fail(s, "command logs");
      if (!WriteAll(1, response.data())) return FailLocal("write the logs");
      cursor = response.next_cursor();
      if (!response.more()) break;
    }
    std::fprintf(stderr, "osbctl: next cursor %lld\n", static_cast<long long>(cursor));
    return 0;
  }
  if (*interrupt_) {
    v1::InterruptCommandRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_command_id(command_id_);
    v1::InterruptCommandResponse response;
    grpc::Status s = commands->Interrupt(&call, request, &response);
    return s.ok() ? 0 : Fail(s, "interrupt");
  }
  if (*session_create_) {
    v1::CreateSessionRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_cwd(cwd_);
    v1::Session response;
    grpc::Status s = commands->CreateSession(&call, request, &response);
    if (!s.ok()) return Fail(s, "start a session");
    std::printf("%s\n", response.session_id().c_str());
    return 0;
  }
  if (*session_delete_) {
    v1::DeleteSessionRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_session_id(session_id_);
    v1::DeleteSessionResponse response;
    grpc::Status s = commands->DeleteSession(&call, request, &response);
    return s.ok() ? 0 : Fail(s, "end session " + session_id_);
  }
  return 0;
}

}  // namespace osb::cli
