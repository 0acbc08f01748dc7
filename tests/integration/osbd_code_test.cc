// osbd's Code service against osb-runtime's agent: contexts created, listed, read and deleted;
// cells streamed with their output, result, execution count and errors; interrupts; a client
// that leaves frees the context; bad requests and unknown contexts refused.
#include <grpcpp/client_context.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "opensandbox/v1/code.grpc.pb.h"
#include "tests/integration/osbd_fixture.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What a Run brought back.
struct Cell {
  grpc::Status status;
  std::vector<v1::CodeEvent> events;

  std::vector<std::string> Kinds() const {
    std::vector<std::string> kinds;
    for (const auto& e : events) {
      kinds.push_back(v1::CodeEvent::GetDescriptor()
                          ->FindFieldByNumber(static_cast<int>(e.kind_case()))
                          ->name());
    }
    return kinds;
  }
  std::string Output(bool stderr_stream = false) const {
    std::string out;
    for (const auto& e : events) {
      if (!stderr_stream && e.has_stdout()) out += e.stdout().data();
      if (stderr_stream && e.has_stderr()) out += e.stderr().data();
    }
    return out;
  }
  std::string Result() const {
    for (const auto& e : events) {
      if (e.has_result()) return e.result().data().at("text");
    }
    return "";
  }
  const v1::CodeError* Error() const {
    for (const auto& e : events) {
      if (e.has_error()) return &e.error();
    }
    return nullptr;
  }
  std::string Describe() const {
    return absl::StrCat(status.error_code(), " ", status.error_message(), " [",
                        absl::StrJoin(Kinds(), ","), "] ", Output(), Output(true));
  }
};

class OsbdCodeTest : public OsbdFixture {
 protected:
  void SetUp() override {
    OsbdFixture::SetUp();
    if (stack_ == nullptr) return;
    code_ = v1::Code::NewStub(stack_->channel());
    sandbox_id_ = NewSandbox();
  }

  grpc::Status CreateContext(const std::string& language, v1::CodeContext* out,
                             const std::string& cwd = "") {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::CreateCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language(language);
    request.set_cwd(cwd);
    return code_->CreateContext(&ctx, request, out);
  }

  // Runs `code` in `context_id` (or, when empty, by `language`), on `ctx` when given.
  Cell Run(const std::string& code, const std::string& context_id,
           const std::string& language = "", grpc::ClientContext* given = nullptr) {
    grpc::ClientContext own;
    grpc::ClientContext& ctx = given != nullptr ? *given : own;
    SetDeadline(ctx);
    v1::RunCodeRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_code(code);
    request.set_context_id(context_id);
    request.set_language(language);
    auto reader = code_->Run(&ctx, request);
    Cell cell;
    v1::CodeEvent e;
    while (reader->Read(&e)) cell.events.push_back(e);
    cell.status = reader->Finish();
    return cell;
  }

  grpc::Status Interrupt(const std::string& context_id) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::InterruptCodeRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(context_id);
    v1::InterruptCodeResponse response;
    return code_->Interrupt(&ctx, request, &response);
  }

  std::unique_ptr<v1::Code::Stub> code_;
  std::string sandbox_id_;
};

TEST_F(OsbdCodeTest, CellsKeepTheirContextsStateAndStreamTheirEvents) {
  v1::CodeContext context;
  grpc::Status s = CreateContext("python", &context);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(context.language(), "python");
  ASSERT_FALSE(context.id().empty());

  Cell first = Run("x = 20\nprint('hello')", context.id());
  EXPECT_TRUE(first.status.ok()) << first.Describe();
  EXPECT_THAT(first.Kinds(), ElementsAre("started", "execution_count", "stdout", "completed"));
  ASSERT_FALSE(first.events.empty());
  EXPECT_EQ(first.events[0].started().context_id(), context.id());
  EXPECT_EQ(first.events[1].execution_count(), 1);
  EXPECT_EQ(first.Output(), "hello\n");

  Cell second = Run("x * 2 + 2", context.id());
  EXPECT_TRUE(second.status.ok()) << second.Describe();
  EXPECT_EQ(second.Result(), "42");

  Cell failed = Run("undefined_name", context.id());
  EXPECT_TRUE(failed.status.ok()) << "a cell's error is an event, not a failed call";
  ASSERT_NE(failed.Error(), nullptr) << failed.Describe();
  EXPECT_EQ(failed.Error()->name(), "NameError");
  EXPECT_THAT(absl::StrJoin(failed.Error()->traceback(), "\n"), HasSubstr("undefined_name"));
}

TEST_F(OsbdCodeTest, ContextsAreListedReadAndDeleted) {
  v1::CodeContext py, sh;
  ASSERT_TRUE(CreateContext("python", &py, "/tmp").ok());
  ASSERT_TRUE(CreateContext("bash", &sh).ok());
  EXPECT_EQ(py.cwd(), "/tmp");

  auto list = [&](const std::string& language) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListCodeContextsRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language(language);
    v1::ListCodeContextsResponse response;
    grpc::Status status = code_->ListContexts(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const auto& c : response.contexts()) ids.push_back(c.id());
    return ids;
  };
  EXPECT_THAT(list(""), ElementsAre(py.id(), sh.id()));
  EXPECT_THAT(list("bash"), ElementsAre(sh.id()));

  auto get = [&](const std::string& id, v1::CodeContext* out) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(id);
    return code_->GetContext(&ctx, request, out);
  };
  v1::CodeContext got;
  ASSERT_TRUE(get(sh.id(), &got).ok());
  EXPECT_EQ(got.language(), "bash");

  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(sh.id());
    v1::DeleteCodeContextResponse response;
    ASSERT_TRUE(code_->DeleteContext(&ctx, request, &response).ok());
  }
  EXPECT_EQ(get(sh.id(), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  Cell gone = Run("echo", sh.id());
  EXPECT_EQ(gone.status.error_code(), grpc::StatusCode::NOT_FOUND) << gone.Describe();
  EXPECT_TRUE(gone.events.empty());

  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteCodeContextsRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language("python");
    v1::DeleteCodeContextsResponse response;
    ASSERT_TRUE(code_->DeleteContexts(&ctx, request, &response).ok());
  }
  EXPECT_THAT(list(""), ElementsAre());
}

TEST_F(OsbdCodeTest, InterruptStopsTheCellAndALeavingClientFreesTheContext) {
  v1::CodeContext context;
  ASSERT_TRUE(CreateContext("python", &context).ok());
  Cell interrupted;
  std::thread run([&] {
    interrupted = Run("import time\nwhile True: time.sleep(0.05)", context.id());
  });
  absl::SleepFor(absl::Milliseconds(800));
  grpc::Status s = Interrupt(context.id());
  run.join();
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_NE(interrupted.Error(), nullptr) << interrupted.Describe();
  EXPECT_EQ(interrupted.Error()->name(), "KeyboardInterrupt");

  // A client that cancels its call: the agent interrupts the cell once it finds the client gone
  // (its next write fails: a ping within 3 s, passed on by the runtime's proxy), and the
  // context is free again.
  grpc::ClientContext ctx;
  std::thread cancel([&] {
    absl::SleepFor(absl::Milliseconds(800));
    ctx.TryCancel();
  });
  Cell cancelled = Run("import time\nwhile True: time.sleep(0.05)", context.id(), "", &ctx);
  cancel.join();
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED) << cancelled.Describe();
  Cell after;
  const absl::Time cancelled_at = absl::Now();
  for (int i = 0; i < 200; ++i) {
    after = Run("'free'", context.id());
    if (after.status.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(after.Result(), "'free'") << after.Describe();
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(15));
}

TEST_F(OsbdCodeTest, LanguageOnlyUsesTheDefaultContextAndNeitherRunsAShellCommand) {
  Cell set = Run("answer = 42", "", "python");
  EXPECT_TRUE(set.status.ok()) << set.Describe();
  Cell read = Run("answer", "", "python");
  EXPECT_EQ(read.Result(), "42") << read.Describe();
  Cell shell = Run("echo from the shell", "");
  EXPECT_TRUE(shell.status.ok()) << shell.Describe();
  EXPECT_EQ(shell.Output(), "from the shell");
  EXPECT_EQ(shell.Kinds().back(), "completed");
}

TEST_F(OsbdCodeTest, BadRequestsAreRefused) {
  Cell empty = Run("", "");
  EXPECT_EQ(empty.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Cell cobol = Run("1", "", "cobol");
  EXPECT_EQ(cobol.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << cobol.Describe();
  EXPECT_THAT(cobol.status.error_message(), HasSubstr("not supported"));
  v1::CodeContext context;
  EXPECT_EQ(CreateContext("", &context).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateContext("go", &context).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Interrupt("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A context named alone is looked up first, for the language execd's spec wants with it.
  Cell unknown_context = Run("1", "no-such-context");
  EXPECT_EQ(unknown_context.status.error_code(), grpc::StatusCode::NOT_FOUND)
      << unknown_context.Describe();
  Cell unknown_sandbox;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::RunCodeRequest request;
    request.set_sandbox_id("no-such-sandbox");
    request.set_code("1");
    request.set_language("python");
    auto reader = code_->Run(&ctx, request);
    v1::CodeEvent e;
    while (reader->Read(&e)) unknown_sandbox.events.push_back(e);
    unknown_sandbox.status = reader->Finish();
  }
  EXPECT_EQ(unknown_sandbox.status.error_code(), grpc::StatusCode::NOT_FOUND)
      << unknown_sandbox.Describe();
}

}  // namespace
}  // namespace osb::test
