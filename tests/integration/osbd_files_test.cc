// osbd's Files service and the command status, logs and interrupt RPCs, through gRPC against a
// real osbd and its embedded osb-runtime: streamed writes and reads (large ones included, with
// osbd's memory bounded), ranges, every directory operation, and bad input that must leave
// nothing behind.
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/files.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/integration/status_details.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

// Peak resident memory of a process, in KiB (VmHWM).
long PeakRssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class OsbdFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
    files_ = v1::Files::NewStub(stack_->channel());
    commands_ = v1::Commands::NewStub(stack_->channel());
    auto sandboxes = v1::Sandboxes::NewStub(stack_->channel());
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateSandboxRequest request;
    request.set_image("host");
    v1::Sandbox sandbox;
    grpc::Status s = sandboxes->Create(&ctx, request, &sandbox);
    ASSERT_TRUE(s.ok()) << s.error_message();
    id_ = sandbox.id();
  }

  // Writes `chunks` as one Write call; `size` is announced when set.
  grpc::Status Write(const std::string& path, const std::vector<std::string>& chunks,
                     uint32_t mode = 0, std::optional<int64_t> size = std::nullopt,
                     v1::WriteFileResponse* response_out = nullptr) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(120));
    v1::WriteFileResponse response;
    auto writer = files_->Write(&ctx, &response);
    v1::WriteFileRequest header;
    header.mutable_header()->set_sandbox_id(id_);
    header.mutable_header()->set_path(path);
    header.mutable_header()->set_mode(mode);
    if (size.has_value()) header.mutable_header()->set_size(*size);
    writer->Write(header);
    for (const auto& c : chunks) {
      v1::WriteFileRequest data;
      data.set_data(c);
      if (!writer->Write(data)) break;
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (response_out != nullptr) *response_out = response;
    return status;
  }

  struct ReadResult {
    std::string data;
    std::vector<v1::FileChunk> chunks;
    grpc::Status status;
  };
  ReadResult Read(const std::string& path, int64_t offset = 0, int64_t length = 0) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(120));
    v1::ReadFileRequest request;
    request.set_sandbox_id(id_);
    request.set_path(path);
    request.set_offset(offset);
    request.set_length(length);
    auto reader = files_->Read(&ctx, request);
    ReadResult r;
    v1::FileChunk chunk;
    while (reader->Read(&chunk)) {
      r.data += chunk.data();
      chunk.clear_data();
      r.chunks.push_back(chunk);
    }
    r.status = reader->Finish();
    return r;
  }

  v1::GetFileInfoResponse Info(const std::vector<std::string>& paths, grpc::Status* status) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetFileInfoRequest request;
    request.set_sandbox_id(id_);
    for (const auto& p : paths) request.add_paths(p);
    v1::GetFileInfoResponse response;
    *status = files_->GetInfo(&ctx, request, &response);
    return response;
  }

  std::unique_ptr<Stack> stack_;
  std::unique_ptr<v1::Files::Stub> files_;
  std::unique_ptr<v1::Commands::Stub> commands_;
  std::string id_;
};

TEST_F(OsbdFiles, WriteThenReadBack) {
  v1::WriteFileResponse response;
  grpc::Status w = Write("/work/hello.txt", {"hello ", "world\n"}, 0640, 12, &response);
  ASSERT_TRUE(w.ok()) << w.error_message();
  EXPECT_EQ(response.bytes_written(), 12);
  EXPECT_EQ(response.path(), "/work/hello.txt");
  ReadResult r = Read("/work/hello.txt");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.data, "hello world\n");
  ASSERT_FALSE(r.chunks.empty());
  EXPECT_EQ(r.chunks[0].file_size(), 12);
  grpc::Status s;
  auto info = Info({"/work/hello.txt"}, &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.infos().at("/work/hello.txt").mode(), 0640u);
  EXPECT_EQ(info.infos().at("/work/hello.txt").type(), v1::FILE_TYPE_FILE);
}

TEST_F(OsbdFiles, LargeFilesStreamBothWaysWithBoundedMemory) {
  const std::size_t chunk = 1 << 20;
  const int count = 256;  // 256 MiB
  std::vector<std::string> chunks;
  for (int i = 0; i < count; ++i) chunks.emplace_back(chunk, static_cast<char>('a' + i % 26));
  grpc::Status w = Write("/tmp/big", chunks, 0, int64_t{chunk} * count);
  ASSERT_TRUE(w.ok()) << w.error_message();
  chunks.clear();
  ReadResult r = Read("/tmp/big");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.data.size(), chunk * count);
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(r.data[static_cast<std::size_t>(i) * chunk], 'a' + i % 26) << "chunk " << i;
  }
  for (const auto& c : r.chunks) ASSERT_LE(c.ByteSizeLong(), 64u * 1024 + 64);
  // osbd held a window of the file, never the file.
  long peak = PeakRssKib(stack_->osbd_pid());
  EXPECT_GT(peak, 0);
  if (kMemoryBoundsHold) {
    EXPECT_LT(peak, 160 * 1024) << "osbd peaked at " << peak << " KiB for a 256 MiB round trip";
  }
}

TEST_F(OsbdFiles, ReadRanges) {
  ASSERT_TRUE(Write("/tmp/digits", {"0123456789"}).ok());
  ReadResult mid = Read("/tmp/digits", 2, 3);
  ASSERT_TRUE(mid.status.ok()) << mid.status.error_message();
  EXPECT_EQ(mid.data, "234");
  EXPECT_EQ(mid.chunks[0].offset(), 2);
  EXPECT_EQ(mid.chunks[0].file_size(), 10);
  ReadResult tail = Read("/tmp/digits", -4);
  EXPECT_EQ(tail.data, "6789");
  EXPECT_EQ(tail.chunks[0].offset(), 6);
  ReadResult past = Read("/tmp/digits", 50);
  ASSERT_TRUE(past.status.ok()) << past.status.error_message();
  EXPECT_EQ(past.data, "");
  ReadResult missing = Read("/tmp/none");
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);
  ReadResult bad = Read("/tmp/digits", -4, 2);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(OsbdFiles, AShortWriteIsRefusedAndNothingIsStored) {
  grpc::Status w = Write("/tmp/short", {"abc"}, 0, 10);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << w.error_message();
  grpc::Status s;
  Info({"/tmp/short"}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // A Write with no header, and one to a directory.
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::WriteFileResponse response;
  auto writer = files_->Write(&ctx, &response);
  v1::WriteFileRequest data;
  data.set_data("x");
  writer->Write(data);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Write("/tmp", {"x"}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The daemon carries on.
  EXPECT_TRUE(Write("/tmp/after", {"ok"}).ok());
  EXPECT_EQ(Read("/tmp/after").data, "ok");
}

// A client that cancels its Write (osbctl does, when its input fails half way) must not leave the
// part it sent stored as the whole file, however the cancellation and the end of its messages
// reach osbd.
TEST_F(OsbdFiles, ACancelledWriteStoresNothing) {
  for (int i = 0; i < 10; ++i) {
    const std::string path = absl::StrCat("/tmp/cancelled-", i);
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::WriteFileResponse response;
    auto writer = files_->Write(&ctx, &response);
    v1::WriteFileRequest header;
    header.mutable_header()->set_sandbox_id(id_);
    header.mutable_header()->set_path(path);
    ASSERT_TRUE(writer->Write(header));
    v1::WriteFileRequest data;
    data.set_data(std::string(64 * 1024, 'c'));
    for (int chunk = 0; chunk < 4; ++chunk) ASSERT_TRUE(writer->Write(data));
    ctx.TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
    grpc::Status s;
    for (int poll = 0; poll < 10; ++poll) {  // an upload that was to fail has failed by now
      absl::SleepFor(absl::Milliseconds(20));
      Info({path}, &s);
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << path << " was stored";
  }
}

TEST_F(OsbdFiles, DirectoriesListSearchMoveReplaceDelete) {
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::MakeDirectoriesRequest request;
    request.set_sandbox_id(id_);
    auto* d = request.add_directories();
    d->set_path("/p/q");
    d->set_mode(0700);
    v1::MakeDirectoriesResponse response;
    grpc::Status s = files_->MakeDirectories(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(Write("/p/q/a.py", {"x = 1\nx = 1\n"}).ok());
  ASSERT_TRUE(Write("/p/b.txt", {"b"}).ok());
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListDirectoryRequest request;
    request.set_sandbox_id(id_);
    request.set_path("/p");
    request.set_depth(2);
    v1::ListDirectoryResponse response;
    ASSERT_TRUE(files_->ListDirectory(&ctx, request, &response).ok());
    std::vector<std::string> paths;
    for (const auto& e : response.entries()) paths.push_back(e.path());
    EXPECT_EQ(paths, (std::vector<std::string>{"/p/b.txt", "/p/q", "/p/q/a.py"}));
    EXPECT_EQ(response.entries(1).mode(), 0700u);
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::SearchFilesRequest request;
    request.set_sandbox_id(id_);
    request.set_path("/p");
    request.set_pattern("*.py");
    v1::SearchFilesResponse response;
    ASSERT_TRUE(files_->Search(&ctx, request, &response).ok());
    ASSERT_EQ(response.files_size(), 1);
    EXPECT_EQ(response.files(0).path(), "/p/q/a.py");
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ReplaceContentsRequest request;
    request.set_sandbox_id(id_);
    auto* r = request.add_replacements();
    r->set_path("/p/q/a.py");
    r->set_old_content("1");
    r->set_new_content("2");
    v1::ReplaceContentsResponse response;
    ASSERT_TRUE(files_->Replace(&ctx, request, &response).ok());
    ASSERT_EQ(response.results_size(), 1);
    EXPECT_EQ(response.results(0).replaced_count(), 2);
    EXPECT_EQ(Read("/p/q/a.py").data, "x = 2\nx = 2\n");
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::MoveFilesRequest request;
    request.set_sandbox_id(id_);
    auto* m = request.add_moves();
    m->set_source("/p/b.txt");
    m->set_destination("/r/s/b.txt");
    v1::MoveFilesResponse response;
    ASSERT_TRUE(files_->Move(&ctx, request, &response).ok());
    EXPECT_EQ(Read("/r/s/b.txt").data, "b");
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::SetPermissionsRequest request;
    request.set_sandbox_id(id_);
    auto* p = request.add_permissions();
    p->set_path("/r/s/b.txt");
    p->set_mode(0600);
    p->set_owner("nobody");
    v1::SetPermissionsResponse response;
    ASSERT_TRUE(files_->SetPermissions(&ctx, request, &response).ok());
    grpc::Status s;
    auto info = Info({"/r/s/b.txt"}, &s);
    EXPECT_EQ(info.infos().at("/r/s/b.txt").owner(), "nobody");
    EXPECT_EQ(info.infos().at("/r/s/b.txt").mode(), 0600u);
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteFilesRequest request;
    request.set_sandbox_id(id_);
    request.add_paths("/r/s/b.txt");
    v1::DeleteFilesResponse response;
    ASSERT_TRUE(files_->Delete(&ctx, request, &response).ok());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteDirectoriesRequest request;
    request.set_sandbox_id(id_);
    request.add_paths("/p");
    v1::DeleteDirectoriesResponse response;
    ASSERT_TRUE(files_->DeleteDirectories(&ctx, request, &response).ok());
  }
  grpc::Status s;
  Info({"/p"}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  Info({"/r/s/b.txt"}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OsbdFiles, BadRequestsAreInvalidArgumentNamingTheField) {
  grpc::Status s;
  Info({}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(s), "paths");
  Info({"/", ""}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(s), "paths[1]") << s.error_message();
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::MoveFilesRequest request;
  request.set_sandbox_id(id_);
  request.add_moves()->set_source("/a");
  v1::MoveFilesResponse response;
  grpc::Status moved = files_->Move(&ctx, request, &response);
  EXPECT_EQ(moved.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(moved), "moves[0].destination") << moved.error_message();
  grpc::ClientContext ctx2;
  SetDeadline(ctx2);
  v1::GetFileInfoRequest unknown;
  unknown.set_sandbox_id("no-such-sandbox");
  unknown.add_paths("/");
  v1::GetFileInfoResponse info;
  EXPECT_EQ(files_->GetInfo(&ctx2, unknown, &info).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OsbdFiles, BackgroundCommandStatusLogsAndInterrupt) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::RunCommandRequest run;
  run.set_sandbox_id(id_);
  run.set_command("echo one; echo two >&2; sleep 30");
  run.set_background(true);
  auto reader = commands_->Run(&ctx, run);
  v1::CommandEvent event;
  std::string command_id;
  while (reader->Read(&event)) {
    if (event.has_started()) command_id = event.started().command_id();
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_FALSE(command_id.empty());

  auto status = [&](v1::CommandStatus* out) {
    grpc::ClientContext c;
    SetDeadline(c);
    v1::GetCommandStatusRequest r;
    r.set_sandbox_id(id_);
    r.set_command_id(command_id);
    return commands_->GetStatus(&c, r, out);
  };
  v1::CommandStatus st;
  ASSERT_TRUE(status(&st).ok());
  EXPECT_TRUE(st.running());
  EXPECT_FALSE(st.has_exit_code());

  std::string log;
  int64_t cursor = 0;
  for (int i = 0; i < 50 && log.size() < 8; ++i) {
    grpc::ClientContext c;
    SetDeadline(c);
    v1::GetCommandLogsRequest r;
    r.set_sandbox_id(id_);
    r.set_command_id(command_id);
    r.set_cursor(cursor);
    v1::CommandLogs logs;
    ASSERT_TRUE(commands_->GetLogs(&c, r, &logs).ok());
    log += logs.data();
    cursor = logs.next_cursor();
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(log, "one\ntwo\n");
  EXPECT_EQ(cursor, 8);

  {
    grpc::ClientContext c;
    SetDeadline(c);
    v1::InterruptCommandRequest r;
    r.set_sandbox_id(id_);
    r.set_command_id(command_id);
    v1::InterruptCommandResponse response;
    grpc::Status s = commands_->Interrupt(&c, r, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(status(&st).ok());
    if (!st.running()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(st.running());
  EXPECT_EQ(st.exit_code(), -1);
  EXPECT_EQ(st.error(), "signal: terminated");

  {
    grpc::ClientContext c;
    SetDeadline(c);
    v1::InterruptCommandRequest r;
    r.set_sandbox_id(id_);
    r.set_command_id(command_id);
    v1::InterruptCommandResponse response;
    grpc::Status s = commands_->Interrupt(&c, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  }
  grpc::ClientContext c;
  SetDeadline(c);
  v1::GetCommandStatusRequest unknown;
  unknown.set_sandbox_id(id_);
  unknown.set_command_id("0123456789abcdef0123456789abcdef");
  v1::CommandStatus none;
  EXPECT_EQ(commands_->GetStatus(&c, unknown, &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace osb::test
