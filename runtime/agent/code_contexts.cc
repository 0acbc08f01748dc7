#include "runtime/agent/code_contexts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rest/ids.h"
#include "rest/execd.h"
#include "rest/sys/file_util.h"
#include "rest/time_util.h"

namespace osb::agent {

namespace {
constexpr char kCellRoot[] = "/tmp/.osb-code";
}  // namespace

struct CodeRun::Context {
  std::string id;
  CodeLanguage language = CodeLanguage::kPython;
  std::optional<std::string> cwd;
  std::string cell_dir;
  int64_t order = 0;
  // Guarded by CodeContexts::mu_.
  std::shared_ptr<CodeKernel> kernel;  // null: the next run starts one
  int64_t execution_count = 0;
  bool busy = false;

  rest::CodeContext Describe() const {
    return {.id = id, .language = std::string(NameOf(language)), .cwd = cwd};
  }
};

CodeRun::CodeRun(CodeContexts& owner, std::shared_ptr<Context> context,
                 std::shared_ptr<CodeKernel> kernel, std::string cell_path,
                 int64_t execution_count)
    : owner_(owner),
      context_(std::move(context)),
      kernel_(std::move(kernel)),
      cell_path_(std::move(cell_path)),
      execution_count_(execution_count) {}

CodeRun::~CodeRun() { Release(); }

void CodeRun::Release() {
  if (released_) return;
  released_ = true;
  owner_.EndRun(*context_, kernel_ != nullptr);
}

void CodeRun::Stream(const ForegroundCommand::Writer& write) {
  auto emit = [&write](rest::ServerStreamEvent e) {
    if (e.timestamp_ms == 0) e.timestamp_ms = rest::NowUnixMillis();
    return write(rest::FrameEvent(e));
  };
  if (emit({.type = std::string(rest::kEventInit), .text = context_->id}) &&
      emit({.type = std::string(rest::kEventExecutionCount),
            .execution_count = execution_count_}) &&
      !kernel_->Run(cell_path_, emit)) {
    kernel_.reset();
  }
  // Before the response ends: a client that sends its next cell as soon as this stream ends
  // must find the context free.
  Release();
}

CodeContexts::~CodeContexts() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, context] : contexts_) {
    if (context->kernel) context->kernel->Kill();
  }
}

absl::StatusOr<rest::CodeContext> CodeContexts::Create(const rest::CodeContextRequest& request) {
  auto language = ParseCodeLanguage(request.language);
  if (!language.ok()) return language.status();
  auto kernel = CodeKernel::Start(reaper_, *language, request.cwd);
  if (!kernel.ok()) return kernel.status();
  auto context = std::make_shared<Context>();
  context->id = rest::NewHexId();
  context->language = *language;
  context->cwd = request.cwd;
  context->cell_dir = absl::StrCat(kCellRoot, "/", context->id);
  context->kernel = std::move(*kernel);
  absl::MutexLock lock(&mu_);
  context->order = ++created_;
  contexts_[context->id] = context;
  return context->Describe();
}

absl::StatusOr<std::vector<rest::CodeContext>> CodeContexts::List(std::string_view language) {
  std::optional<CodeLanguage> only;
  if (!language.empty()) {
    auto parsed = ParseCodeLanguage(language);
    if (!parsed.ok()) return parsed.status();
    only = *parsed;
  }
  std::vector<std::shared_ptr<Context>> chosen;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, context] : contexts_) {
      if (!only.has_value() || context->language == *only) chosen.push_back(context);
    }
  }
  std::sort(chosen.begin(), chosen.end(),
            [](const auto& a, const auto& b) { return a->order < b->order; });
  std::vector<rest::CodeContext> out;
  for (const auto& c : chosen) out.push_back(c->Describe());
  return out;
}

absl::StatusOr<rest::CodeContext> CodeContexts::Get(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = contexts_.find(id);
  if (it == contexts_.end()) return absl::NotFoundError(absl::StrCat("no code context ", id));
  return it->second->Describe();
}

absl::Status CodeContexts::Delete(const std::string& id) {
  std::shared_ptr<Context> context;
  {
    absl::MutexLock lock(&mu_);
    auto it = contexts_.find(id);
    if (it == contexts_.end()) return absl::NotFoundError(absl::StrCat("no code context ", id));
    context = std::move(it->second);
    contexts_.erase(it);
    if (context->kernel) context->kernel->Kill();
  }
  return RemoveTree(context->cell_dir);
}

absl::Status CodeContexts::DeleteLanguage(std::string_view language) {
  auto contexts = List(language);
  if (!contexts.ok()) return contexts.status();
  for (const auto& c : *contexts) {
    // One deleted meanwhile by another request is gone all the same.
    if (auto s = Delete(c.id); !s.ok() && !absl::IsNotFound(s)) return s;
  }
  return absl::OkStatus();
}

absl::Status CodeContexts::Interrupt(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = contexts_.find(id);
  if (it == contexts_.end()) return absl::NotFoundError(absl::StrCat("no code context ", id));
  if (it->second->busy && it->second->kernel) it->second->kernel->Interrupt();
  return absl::OkStatus();
}

absl::StatusOr<std::string> CodeContexts::DefaultContext(CodeLanguage language) {
  {
    absl::MutexLock lock(&mu_);
    auto it = defaults_.find(language);
    if (it != defaults_.end() && contexts_.count(it->second) != 0) return it->second;
  }
  auto created = Create({.language = std::string(NameOf(language))});
  if (!created.ok()) return created.status();
  std::string extra;
  {
    absl::MutexLock lock(&mu_);
    auto it = defaults_.find(language);
    if (it == defaults_.end() || contexts_.count(it->second) == 0) {
      defaults_[language] = created->id;
      return created->id;
    }
    extra = created->id;  // another run made the default meanwhile: that one is used
  }
  (void)Delete(extra);
  absl::MutexLock lock(&mu_);
  return defaults_[language];
}

absl::StatusOr<std::unique_ptr<CodeRun>> CodeContexts::Begin(const rest::RunCodeRequest& request) {
  std::optional<CodeLanguage> language;
  if (request.language.has_value()) {
    auto parsed = ParseCodeLanguage(*request.language);
    if (!parsed.ok()) return parsed.status();
    language = *parsed;
  }
  std::string id;
  if (request.context_id.has_value()) {
    id = *request.context_id;
  } else if (language.has_value()) {
    auto made = DefaultContext(*language);
    if (!made.ok()) return made.status();
    id = *std::move(made);
  } else {
    return absl::InvalidArgumentError("a code run needs a context id or a language");
  }

  std::shared_ptr<Context> context;
  std::shared_ptr<CodeKernel> kernel;
  {
    absl::MutexLock lock(&mu_);
    auto it = contexts_.find(id);
    if (it == contexts_.end()) return absl::NotFoundError(absl::StrCat("no code context ", id));
    context = it->second;
    if (language.has_value() && *language != context->language) {
      return absl::InvalidArgumentError(absl::StrCat("code context ", id, " runs ",
                                                     NameOf(context->language), ", not ",
                                                     NameOf(*language)));
    }
    if (context->busy) {
      return absl::FailedPreconditionError(
          absl::StrCat("code context ", id, " is busy running another cell"));
    }
    context->busy = true;
    kernel = context->kernel;
  }
  // From here the context is ours until the run ends.
  auto release = [&](absl::Status s) {
    EndRun(*context, kernel != nullptr);
    return s;
  };
  if (kernel == nullptr) {
    auto started = CodeKernel::Start(reaper_, context->language, context->cwd);
    if (!started.ok()) return release(started.status());
    kernel = std::move(*started);
    absl::MutexLock lock(&mu_);
    context->kernel = kernel;
    context->execution_count = 0;
  }
  int64_t count;
  {
    absl::MutexLock lock(&mu_);
    count = ++context->execution_count;
  }
  // The directory may have been removed from inside the sandbox: it is made again.
  std::string cell_path =
      absl::StrCat(context->cell_dir, "/cell-", count, ".", CellExtension(context->language));
  if (auto s = MakeDirs(context->cell_dir, 0700); !s.ok()) return release(s);
  if (auto s = WriteFileAtomic(cell_path, request.code, 0600); !s.ok()) return release(s);
  return std::unique_ptr<CodeRun>(
      new CodeRun(*this, std::move(context), std::move(kernel), std::move(cell_path), count));
}

void CodeContexts::EndRun(Context& context, bool kernel_alive) {
  absl::MutexLock lock(&mu_);
  context.busy = false;
  // The interpreter exited: the next run starts a new one.
  if (!kernel_alive) context.kernel.reset();
}

}  // namespace osb::agent
