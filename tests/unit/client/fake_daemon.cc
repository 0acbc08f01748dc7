#include "tests/unit/client/fake_daemon.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace opensandbox::testing {
namespace {

class FakeSandboxes final : public v1::Sandboxes::Service {
 public:
  explicit FakeSandboxes(FakeState& state) : state_(state) {}

  grpc::Status Create(grpc::ServerContext*, const v1::CreateSandboxRequest* request,
                      v1::Sandbox* response) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_create = *request;
    if (!state_.error.ok()) return state_.error;
    *response = state_.sandbox;
    return grpc::Status::OK;
  }

  grpc::Status Get(grpc::ServerContext*, const v1::GetSandboxRequest* request,
                   v1::Sandbox* response) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_get = *request;
    if (!state_.error.ok()) return state_.error;
    *response = state_.sandbox;
    return grpc::Status::OK;
  }

  grpc::Status List(grpc::ServerContext*, const v1::ListSandboxesRequest* request,
                    v1::ListSandboxesResponse* response) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_list = *request;
    *response->add_sandboxes() = state_.sandbox;
    response->mutable_pagination()->set_page(1);
    response->mutable_pagination()->set_total_items(1);
    return grpc::Status::OK;
  }

  grpc::Status Renew(grpc::ServerContext*, const v1::RenewSandboxRequest* request,
                     v1::RenewSandboxResponse* response) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_renew = *request;
    response->mutable_expires_at()->set_seconds(2000000000);
    return grpc::Status::OK;
  }

 private:
  FakeState& state_;
};

class FakeCommands final : public v1::Commands::Service {
 public:
  explicit FakeCommands(FakeState& state) : state_(state) {}

  grpc::Status Run(grpc::ServerContext*, const v1::RunCommandRequest* request,
                   grpc::ServerWriter<v1::CommandEvent>* writer) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_run = *request;
    for (const auto& event : state_.events) writer->Write(event);
    return state_.run_end;
  }

  grpc::Status RunBatch(grpc::ServerContext*, const v1::RunBatchRequest* request,
                        grpc::ServerWriter<v1::BatchJobResult>* writer) override {
    absl::MutexLock lock(&state_.mu);
    state_.last_batch = *request;
    ++state_.batches;
    for (const auto& result : state_.batch_results) writer->Write(result);
    return grpc::Status::OK;
  }

 private:
  FakeState& state_;
};

class FakeFiles final : public v1::Files::Service {
 public:
  explicit FakeFiles(FakeState& state) : state_(state) {}

  grpc::Status Read(grpc::ServerContext*, const v1::ReadFileRequest*,
                    grpc::ServerWriter<v1::FileChunk>* writer) override {
    absl::MutexLock lock(&state_.mu);
    for (std::size_t at = 0; at < state_.file.size(); at += state_.read_chunk) {
      v1::FileChunk chunk;
      chunk.set_data(state_.file.substr(at, state_.read_chunk));
      chunk.set_offset(static_cast<std::int64_t>(at));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  grpc::Status Write(grpc::ServerContext* ctx, grpc::ServerReader<v1::WriteFileRequest>* reader,
                     v1::WriteFileResponse* response) override {
    v1::WriteFileRequest message;
    std::string data;
    int messages = 0;
    v1::WriteFileHeader header;
    while (reader->Read(&message)) {
      ++messages;
      if (message.has_header()) header = message.header();
      data += message.data();
    }
    absl::MutexLock lock(&state_.mu);
    state_.last_write_header = header;
    state_.write_messages = messages;
    if (ctx->IsCancelled()) {
      state_.write_cancelled = true;
      return grpc::Status::CANCELLED;
    }
    state_.file = data;
    response->set_path(header.path());
    response->set_bytes_written(static_cast<std::int64_t>(data.size()));
    return grpc::Status::OK;
  }

 private:
  FakeState& state_;
};

}  // namespace

FakeDaemon::FakeDaemon() : state_(std::make_unique<FakeState>()) {
  char dir[] = "/tmp/osb-fake-XXXXXX";
  dir_ = ::mkdtemp(dir);
  socket_path_ = dir_ + "/osbd.sock";
  services_.push_back(std::make_unique<FakeSandboxes>(*state_));
  services_.push_back(std::make_unique<FakeCommands>(*state_));
  services_.push_back(std::make_unique<FakeFiles>(*state_));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  for (auto& service : services_) builder.RegisterService(service.get());
  server_ = builder.BuildAndStart();
}

FakeDaemon::~FakeDaemon() {
  server_->Shutdown();
  std::filesystem::remove_all(dir_);
}

}  // namespace opensandbox::testing
