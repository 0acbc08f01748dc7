#include "client/osbctl/code_commands.h"

#include <cstdio>
#include <iostream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "client/osbctl/output.h"
#include "opensandbox/v1/code.grpc.pb.h"

namespace osb::cli {
namespace {

namespace v1 = opensandbox::v1;

// The exit status of a cell that raised or was interrupted.
constexpr int kCellFailed = 1;

}  // namespace

CodeCommands::CodeCommands(CLI::App& app) {
  code_ = app.add_subcommand("code", "the code interpreter: contexts of python, bash, javascript");
  code_->require_subcommand(1);
  run_ = code_->add_subcommand(
      "run", "run a cell, streamed; prints its result; exit 1 when it raised");
  run_->add_option("id", sandbox_id_, "sandbox id")->required();
  run_->add_option("--context", context_id_, "context to run in");
  run_->add_option("--language", language_,
                   "python, bash or javascript: its default context (neither: a shell command)");
  run_->add_option("code", code_args_, "the code (after --), or - to read it from stdin")
      ->required();
  interrupt_ = code_->add_subcommand("interrupt", "interrupt the cell running in a context");
  interrupt_->add_option("id", sandbox_id_, "sandbox id")->required();
  interrupt_->add_option("context", context_id_, "context id")->required();

  CLI::App* context = code_->add_subcommand("context", "code contexts (live interpreters)");
  context->require_subcommand(1);
  create_ = context->add_subcommand("create", "start a context; prints it as JSON");
  create_->add_option("id", sandbox_id_, "sandbox id")->required();
  create_->add_option("language", language_, "python, bash or javascript")->required();
  create_->add_option("--cwd", cwd_, "working directory of its interpreter");
  list_ = context->add_subcommand("list", "list contexts as JSON");
  list_->add_option("id", sandbox_id_, "sandbox id")->required();
  list_->add_option("--language", language_, "only this language's");
  get_ = context->add_subcommand("get", "print a context as JSON");
  get_->add_option("id", sandbox_id_, "sandbox id")->required();
  get_->add_option("context", context_id_, "context id")->required();
  delete_ = context->add_subcommand("delete", "end a context, or every one of --language");
  delete_->add_option("id", sandbox_id_, "sandbox id")->required();
  delete_->add_option("context", context_id_, "context id");
  delete_->add_option("--language", language_, "delete every context of this language");
}

bool CodeCommands::Chosen() const { return code_->parsed(); }

int CodeCommands::Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call) {
  if (run_->parsed()) return RunCell(channel, call);
  auto code = v1::Code::NewStub(channel);
  if (interrupt_->parsed()) {
    v1::InterruptCodeRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(context_id_);
    v1::InterruptCodeResponse response;
    grpc::Status status = code->Interrupt(&call, request, &response);
    return status.ok() ? 0 : Fail(status, "interrupt");
  }
  if (create_->parsed()) {
    v1::CreateCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language(language_);
    request.set_cwd(cwd_);
    v1::CodeContext created;
    grpc::Status status = code->CreateContext(&call, request, &created);
    return status.ok() ? PrintJson(created) : Fail(status, "create context");
  }
  if (list_->parsed()) {
    v1::ListCodeContextsRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language(language_);
    v1::ListCodeContextsResponse found;
    grpc::Status status = code->ListContexts(&call, request, &found);
    return status.ok() ? PrintJson(found) : Fail(status, "list contexts");
  }
  if (get_->parsed()) {
    v1::GetCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(context_id_);
    v1::CodeContext found;
    grpc::Status status = code->GetContext(&call, request, &found);
    return status.ok() ? PrintJson(found) : Fail(status, "get context");
  }
  // delete: one context, or every one of a language.
  if (context_id_.empty() == language_.empty()) {
    std::fprintf(stderr, "osbctl: code context delete: give a context id or --language\n");
    return 2;
  }
  grpc::Status status;
  if (!context_id_.empty()) {
    v1::DeleteCodeContextRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_context_id(context_id_);
    v1::DeleteCodeContextResponse response;
    status = code->DeleteContext(&call, request, &response);
  } else {
    v1::DeleteCodeContextsRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_language(language_);
    v1::DeleteCodeContextsResponse response;
    status = code->DeleteContexts(&call, request, &response);
  }
  return status.ok() ? 0 : Fail(status, "delete context");
}

int CodeCommands::RunCell(const std::shared_ptr<grpc::Channel>& channel,
                          grpc::ClientContext& call) {
  std::string source;
  if (code_args_.size() == 1 && code_args_[0] == "-") {
    source.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    source = absl::StrJoin(code_args_, " ");
  }
  auto code = v1::Code::NewStub(channel);
  v1::RunCodeRequest request;
  request.set_sandbox_id(sandbox_id_);
  request.set_code(source);
  request.set_context_id(context_id_);
  request.set_language(language_);
  auto reader = code->Run(&call, request);
  v1::CodeEvent event;
  std::optional<int> exit_status;
  const bool shell = context_id_.empty() && language_.empty();
  while (reader->Read(&event)) {
    switch (event.kind_case()) {
      case v1::CodeEvent::kStdout:
      case v1::CodeEvent::kStderr: {
        std::string text = event.has_stdout() ? event.stdout().data() : event.stderr().data();
        // A shell run's events are lines without their newline (a blank line is "\n").
        if (shell && text != "\n") text += "\n";
        WriteAll(event.has_stdout() ? 1 : 2, text);
        break;
      }
      case v1::CodeEvent::kResult:
        if (auto text = event.result().data().find("text"); text != event.result().data().end()) {
          WriteAll(1, text->second + "\n");
        }
        break;
      case v1::CodeEvent::kCompleted:
        exit_status = 0;
        break;
      case v1::CodeEvent::kError: {
        const auto& error = event.error();
        std::string report = error.traceback().empty()
                                 ? error.name() + ": " + error.value()
                                 : absl::StrJoin(error.traceback(), "\n");
        WriteAll(2, report + "\n");
        exit_status = kCellFailed;
        // A shell run exits with its command's status, as `command run` does.
        int command_status = 0;
        if (shell && error.name() == "CommandExecError" &&
            absl::SimpleAtoi(error.value(), &command_status)) {
          exit_status = command_status >= 0 && command_status < 256 ? command_status : 137;
        }
        break;
      }
      case v1::CodeEvent::kBroken:
        std::fprintf(stderr, "osbctl: lost the stream of context %s: %s\n",
                     event.broken().context_id().c_str(), event.broken().reason().c_str());
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(status, "code run");
  return exit_status.value_or(kToolFailure);
}

}  // namespace osb::cli
