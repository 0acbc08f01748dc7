#include "daemon/services/batch_run.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "daemon/services/field_error.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/provision.h"
#include "daemon/services/upstream_stream.h"
#include "daemon/template_store.h"
#include "daemon/warm_pools.h"
#include "google/protobuf/util/time_util.h"
#include "rest/execd_code.h"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

constexpr uint32_t kDefaultParallel = 4;
constexpr uint32_t kMaxParallel = 64;
constexpr uint64_t kDefaultOutputLimit = 1 << 20;
constexpr uint64_t kMaxOutputLimit = 3 << 20;

// The call's side: results queued and written one at a time, then OK.
class BatchStream final : public UpstreamStream<BatchStream, v1::BatchJobResult> {
 public:
  BatchStream(DaemonContext& context, grpc::CallbackServerContext* ctx)
      : UpstreamStream(context, ctx, /*high_water=*/SIZE_MAX, /*low_water=*/0) {}
  void Push(v1::BatchJobResult result) {
    absl::MutexLock lock(&mu_);
    (void)QueueLocked(std::move(result));
  }
  using UpstreamStream::CallCancelled;
  using UpstreamStream::link;
};

struct WorkItem {
  int job = 0;
  std::optional<std::size_t> sandbox;  // index into the batch's sandboxes; unset: the lane's
  std::string context_key;             // once taken: the code context it holds (ContextKeyLocked)
};

// A code job past its timeout is interrupted; one that has not ended this long after is cut off.
constexpr absl::Duration kCodeInterruptGrace = absl::Seconds(5);

// One job's output and outcome, filled by the stream's callbacks (loop thread).
struct JobOutput {
  bool code = false;  // a code job: output kept raw, no exit code, a result
  std::string command_id, stdout_data, stderr_data, result_text;
  bool stdout_cut = false, stderr_cut = false, ended = false, failed = false;
  bool timed_out = false;  // a code job interrupted at its timeout
  std::optional<int> exit_code;
  std::string error;
};

class BatchRun : public std::enable_shared_from_this<BatchRun> {
 public:
  BatchRun(DaemonContext& context, Origin origin, v1::RunBatchRequest request,
           std::shared_ptr<BatchStream::Link> link)
      : context_(context),
        origin_(std::move(origin)),
        request_(std::move(request)),
        link_(std::move(link)),
        parallel_(std::min(request_.max_parallel() == 0 ? kDefaultParallel
                                                        : request_.max_parallel(),
                           kMaxParallel)),
        output_limit_(std::min(request_.output_limit_bytes() == 0 ? kDefaultOutputLimit
                                                                  : request_.output_limit_bytes(),
                               kMaxOutputLimit)) {}

  void Start() {
    absl::ReleasableMutexLock start_lock(&mu_);  // lanes may call back before Start returns
    const v1::BatchTarget& target = request_.target();
    const int jobs = request_.jobs_size();
    if (target.has_sandboxes()) {
      sandboxes_.assign(target.sandboxes().sandbox_ids().begin(),
                        target.sandboxes().sandbox_ids().end());
    } else if (target.kind_case() == v1::BatchTarget::kSandboxId) {
      sandboxes_ = {target.sandbox_id()};
    }
    const bool each =
        target.has_sandboxes() && target.sandboxes().distribution() == v1::BATCH_DISTRIBUTION_EACH;
    for (int j = 0; j < jobs; ++j) {
      if (each) {
        for (std::size_t s = 0; s < sandboxes_.size(); ++s) queue_.push_back({j, s});
      } else {
        queue_.push_back({j, std::nullopt});
      }
    }
    per_job_sandbox_ = target.has_fresh() && target.fresh().count() == 0;
    const std::size_t lanes = std::min<std::size_t>(parallel_, queue_.size());
    lanes_running_ = lanes;
    if (target.has_fresh() && !per_job_sandbox_) {
      // The fresh sandboxes first, then the lanes.
      const uint32_t count = target.fresh().count();
      sandboxes_.assign(count, "");
      start_lock.Release();
      auto pending = std::make_shared<uint32_t>(count);
      for (uint32_t i = 0; i < count; ++i) {
        Fresh([self = shared_from_this(), i, pending, lanes](absl::StatusOr<std::string> id) {
          {
            absl::MutexLock lock(&self->mu_);
            if (id.ok()) {
              self->sandboxes_[i] = *id;
              self->fresh_.push_back(*id);
            } else {
              self->sandbox_errors_[i] = std::string(id.status().message());
            }
            if (--*pending != 0) return;
          }
          for (std::size_t lane = 0; lane < lanes; ++lane) self->Next(lane);
        });
      }
      return;
    }
    start_lock.Release();
    for (std::size_t lane = 0; lane < lanes; ++lane) Next(lane);
  }

 private:
  // Takes the lane's next item and runs it, or ends the lane.
  void Next(std::size_t lane) {
    for (;;) {
      WorkItem item;
      bool skip = false;
      {
        absl::MutexLock lock(&mu_);
        if (queue_.empty() || ClientGone()) return LaneDoneLocked();
        // The first item this lane may start: not a cell for a context another lane is using.
        auto it = std::find_if(queue_.begin(), queue_.end(), [&](const WorkItem& w) {
          const std::string key = ContextKeyLocked(w, lane);
          return key.empty() || busy_contexts_.count(key) == 0;
        });
        if (it == queue_.end()) {
          parked_.push_back(lane);  // woken when a context is free again
          return;
        }
        item = *it;
        queue_.erase(it);
        item.context_key = ContextKeyLocked(item, lane);
        if (!item.context_key.empty()) busy_contexts_.insert(item.context_key);
        skip = failed_ && request_.stop_on_failure();
      }
      v1::BatchJobResult result = ResultFor(item.job);
      if (skip) {
        result.set_skipped(true);
        result.set_error("not started: an earlier job failed (stop_on_failure)");
        Ended(item);
        Emit(std::move(result));
        continue;
      }
      if (per_job_sandbox_) {
        Fresh([self = shared_from_this(), lane, item](absl::StatusOr<std::string> id) {
          if (!id.ok()) return self->Finished(lane, item, "", JobFailure(id.status()));
          self->Run(lane, item, *id, /*kill_after=*/!self->request_.target().fresh().keep());
        });
        return;
      }
      std::string sandbox_id;
      {
        absl::MutexLock lock(&mu_);
        const std::size_t index = SandboxIndexLocked(item, lane);
        if (index < sandboxes_.size()) sandbox_id = sandboxes_[index];
        if (sandbox_id.empty()) {
          auto why = sandbox_errors_.find(index);
          result.set_error(absl::StrCat("no sandbox: ", why == sandbox_errors_.end()
                                                            ? "none was made"
                                                            : why->second));
          failed_ = true;
        }
      }
      if (sandbox_id.empty()) {
        Ended(item);
        Emit(std::move(result));
        continue;
      }
      return Run(lane, item, sandbox_id, /*kill_after=*/false);
    }
  }

  // The sandbox (index into sandboxes_) `lane` runs `item` in.
  std::size_t SandboxIndexLocked(const WorkItem& item, std::size_t lane) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return item.sandbox.value_or(lane % std::max<std::size_t>(1, sandboxes_.size()));
  }

  // Which context a code item would use when `lane` runs it: a context runs one cell at a time,
  // so two items with the same key never run at once. Empty for commands, and for cells in a
  // fresh sandbox of their own.
  std::string ContextKeyLocked(const WorkItem& item, std::size_t lane) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const v1::BatchJob& job = request_.jobs(item.job);
    if (!job.has_code() || per_job_sandbox_) return "";
    const std::string& context = job.code().context_id();
    const std::string& language = job.code().language();
    return absl::StrCat(SandboxIndexLocked(item, lane), "/",
                        !context.empty()    ? context
                        : language.empty() ? std::string("language:python")
                                           : "language:" + language);
  }

  // An item is done with its context: lanes waiting for one start again.
  void Ended(const WorkItem& item) {
    std::vector<std::size_t> woken;
    {
      absl::MutexLock lock(&mu_);
      if (item.context_key.empty()) return;
      busy_contexts_.erase(item.context_key);
      woken.swap(parked_);
    }
    for (std::size_t lane : woken) Next(lane);
  }

  // The job's limit: its own, else the batch's; nullopt for none.
  std::optional<google::protobuf::Duration> TimeoutOf(const v1::BatchJob& job) const {
    if (job.has_timeout()) return job.timeout();
    if (request_.has_job_timeout()) return request_.job_timeout();
    return std::nullopt;
  }

  // Runs the item's command or code in `sandbox_id`, then reports it and goes on with the lane.
  void Run(std::size_t lane, WorkItem item, const std::string& sandbox_id, bool kill_after) {
    const v1::BatchJob& job = request_.jobs(item.job);
    auto output = std::make_shared<JobOutput>();
    output->code = job.has_code();
    // Starts the job's stream on the endpoint; returns its transfer.
    std::function<CurlLoop::TransferId(const ExecdEndpoint&, CommandStreamHandler)> start;
    // A code job's cell, completed (ExecdClient::CompleteCodeRun) before it starts.
    std::shared_ptr<rest::RunCodeRequest> code;
    if (job.has_code()) {
      code = std::make_shared<rest::RunCodeRequest>();
      code->code = job.code().code();
      if (!job.code().context_id().empty()) code->context_id = job.code().context_id();
      if (!job.code().language().empty()) {
        code->language = job.code().language();
      } else if (!code->context_id.has_value()) {
        code->language = "python";
      }
      start = [self = shared_from_this(), code](const ExecdEndpoint& endpoint,
                                               CommandStreamHandler handler) {
        return self->context_.execd().RunCode(endpoint, *code, std::move(handler));
      };
    } else {
      v1::RunCommandRequest run;
      run.set_sandbox_id(sandbox_id);
      run.set_command(job.command().command());
      run.set_cwd(job.command().cwd());
      *run.mutable_envs() = job.command().envs();
      if (job.command().has_uid()) run.set_uid(job.command().uid());
      if (job.command().has_gid()) run.set_gid(job.command().gid());
      if (auto timeout = TimeoutOf(job)) *run.mutable_timeout() = *timeout;
      auto rest_run = ToRest(run);
      if (!rest_run.ok()) return Finished(lane, item, sandbox_id, JobFailure(rest_run.status()));
      start = [self = shared_from_this(), converted = *std::move(rest_run)](
                  const ExecdEndpoint& endpoint, CommandStreamHandler handler) {
        return self->context_.execd().RunCommand(endpoint, converted, std::move(handler));
      };
    }
    const absl::Time started = absl::Now();
    auto self = shared_from_this();
    auto end = [self, lane, item, sandbox_id, output, started, kill_after](absl::Status status) {
      if (output->timed_out) {
        output->failed = true;
        output->error = "timeout";
      } else if (!output->ended) {
        output->error = status.ok() ? "the stream ended before the job did"
                                    : std::string(status.message());
      }
      if (!kill_after) return self->Finished(lane, item, sandbox_id, *output, started);
      // Gone before its result is reported: a finished batch leaves no fresh sandbox behind.
      self->Kill(sandbox_id, [self, lane, item, sandbox_id, output, started] {
        self->Finished(lane, item, sandbox_id, *output, started);
      });
    };
    // execd has no timeout for code: osbd interrupts the cell at the job's limit.
    std::optional<absl::Duration> code_timeout;
    if (auto timeout = TimeoutOf(job); timeout.has_value() && job.has_code()) {
      code_timeout = absl::Milliseconds(TimeUtil::DurationToMilliseconds(*timeout));
    }
    auto go = [self, output, end, start = std::move(start),
               code_timeout](const ExecdEndpoint& endpoint) {
      CommandStreamHandler handler;
      handler.on_event = [self, output](rest::ServerStreamEvent event) {
        self->Collect(*output, event);
        return DataAction::kContinue;
      };
      handler.on_end = end;
      const CurlLoop::TransferId transfer = start(endpoint, std::move(handler));
      if (code_timeout.has_value()) self->InterruptAt(*code_timeout, endpoint, transfer, output);
    };
    context_.WithExecd(origin_, sandbox_id,
                       [self, end, go, code](absl::StatusOr<ExecdEndpoint> endpoint) {
                         if (!endpoint.ok()) return end(endpoint.status());
                         if (code == nullptr) return go(*endpoint);
                         self->context_.execd().CompleteCodeRun(
                             *endpoint, *code,
                             [end, go, code, endpoint = *endpoint](
                                 absl::StatusOr<rest::RunCodeRequest> completed) {
                               if (!completed.ok()) return end(completed.status());
                               *code = *std::move(completed);
                               go(endpoint);
                             });
                       });
  }

  // After `timeout`, interrupts a code job that has not ended, and cuts its stream off if it has
  // not ended kCodeInterruptGrace later. Runs on the loop thread, as the stream's callbacks do.
  void InterruptAt(absl::Duration timeout, const ExecdEndpoint& endpoint,
                   CurlLoop::TransferId transfer, std::shared_ptr<JobOutput> output) {
    auto self = shared_from_this();
    context_.loop().Post(
        [self, endpoint, transfer, output] {
          if (output->ended) return;
          output->timed_out = true;
          if (!output->command_id.empty()) {
            self->context_.execd().Call(endpoint, "DELETE",
                                        "/code?id=" + rest::UrlEncode(output->command_id), "",
                                        [](absl::StatusOr<HttpResult>) {});
          }
          self->context_.loop().Post(
              [self, transfer, output] {
                if (!output->ended) self->context_.loop().Cancel(transfer);
              },
              kCodeInterruptGrace);
        },
        timeout);
  }

  void Collect(JobOutput& out, const rest::ServerStreamEvent& event) {
    // A command's events are lines without their newline; a cell's are raw chunks.
    auto append = [this, &out](std::string& to, bool& cut, const std::string& line) {
      std::string text = out.code || line == "\n" ? line : line + "\n";
      if (to.size() + text.size() > output_limit_) {
        to.append(text, 0, output_limit_ - to.size());
        cut = true;
      } else {
        to += text;
      }
    };
    if (event.type == rest::kEventInit) {
      out.command_id = event.text;
    } else if (event.type == rest::kEventStdout) {
      if (!out.stdout_cut) append(out.stdout_data, out.stdout_cut, event.text);
    } else if (event.type == rest::kEventStderr) {
      if (!out.stderr_cut) append(out.stderr_data, out.stderr_cut, event.text);
    } else if (event.type == rest::kEventResult) {
      if (event.results.has_value() && event.results->is_object()) {
        out.result_text = event.results->value("text", "");
      }
    } else if (event.type == rest::kEventExecutionComplete) {
      out.ended = true;
      if (!out.code) out.exit_code = 0;
    } else if (event.type == rest::kEventError) {
      out.ended = true;
      out.failed = true;
      if (!out.code) out.exit_code = rest::ExitCodeOf(event);
      const rest::EventError error = event.error.value_or(rest::EventError{});
      out.error = absl::StrCat(error.ename, ": ", error.evalue);
    }
  }

  static JobOutput JobFailure(const absl::Status& status) {
    JobOutput out;
    out.error = std::string(status.message());
    return out;
  }

  v1::BatchJobResult ResultFor(int job) const {
    v1::BatchJobResult result;
    const std::string& id = request_.jobs(job).id();
    result.set_job_id(id.empty() ? std::to_string(job) : id);
    return result;
  }

  void Finished(std::size_t lane, WorkItem item, const std::string& sandbox_id,
                const JobOutput& out, std::optional<absl::Time> started = std::nullopt) {
    v1::BatchJobResult result = ResultFor(item.job);
    result.set_sandbox_id(sandbox_id);
    result.set_command_id(out.command_id);
    if (out.exit_code.has_value()) result.set_exit_code(*out.exit_code);
    result.set_success(out.ended && !out.failed && !out.timed_out);
    result.set_result_text(out.result_text);
    if (!result.success()) result.set_error(out.error.empty() ? "failed" : out.error);
    result.set_stdout(out.stdout_data);
    result.set_stderr(out.stderr_data);
    result.set_stdout_truncated(out.stdout_cut);
    result.set_stderr_truncated(out.stderr_cut);
    if (started.has_value()) {
      *result.mutable_started_at() =
          TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(*started));
      *result.mutable_duration() =
          TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(absl::Now() - *started));
    }
    if (!result.success()) {
      absl::MutexLock lock(&mu_);
      failed_ = true;
    }
    Emit(std::move(result));
    Ended(item);
    Next(lane);
  }

  // Makes one fresh sandbox from the target's template or pool.
  void Fresh(std::function<void(absl::StatusOr<std::string>)> done) {
    const v1::BatchFreshSandboxes& fresh = request_.target().fresh();
    if (fresh.source_case() == v1::BatchFreshSandboxes::kPool) {
      auto pool = context_.pools().Find(fresh.pool());
      if (pool == nullptr) return done(NoSuchPool(fresh.pool()));
      return pool->Acquire(v1::ACQUIRE_POLICY_DIRECT_CREATE, std::nullopt, {},
                           [done](absl::StatusOr<WarmPool::Acquired> acquired) {
                             if (!acquired.ok()) return done(acquired.status());
                             done(acquired->sandbox.id);
                           });
    }
    auto t = context_.templates().Get(fresh.template_());
    if (!t.ok()) return done(t.status());
    auto p = ProvisioningFor(origin_, ApplyTemplate(*t, v1::CreateSandboxRequest()));
    if (!p.ok()) return done(p.status());
    ProvisionSandbox(context_, *std::move(p), [done](absl::StatusOr<rest::Sandbox> ready) {
      if (!ready.ok()) return done(ready.status());
      done(ready->id);
    });
  }

  void Kill(const std::string& id, std::function<void()> then) {
    context_.DeleteSandbox(origin_, id, [then = std::move(then)](absl::Status) { then(); });
  }

  void Emit(v1::BatchJobResult result) {
    absl::MutexLock lock(&link_->mu);
    if (BatchStream* stream = link_->reactor()) stream->Push(std::move(result));
  }

  // The client left: its call is done, or cancelled (a batch learns of a cancel only here, as it
  // has no one transfer to abort).
  bool ClientGone() {
    absl::MutexLock lock(&link_->mu);
    BatchStream* stream = link_->reactor();
    return stream == nullptr || stream->CallCancelled();
  }

  // The last lane to end kills the batch's fresh sandboxes (unless kept), then ends the call.
  void LaneDoneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (--lanes_running_ != 0) return;
    std::vector<std::string> doomed;
    if (!request_.target().has_fresh() || !request_.target().fresh().keep()) doomed = fresh_;
    auto end = [link = link_] {
      absl::MutexLock lock(&link->mu);
      if (BatchStream* stream = link->reactor()) stream->End(grpc::Status::OK);
    };
    if (doomed.empty()) return end();
    auto pending = std::make_shared<std::atomic<std::size_t>>(doomed.size());
    for (const auto& id : doomed) {
      Kill(id, [pending, end] {
        if (--*pending == 0) end();
      });
    }
  }

  DaemonContext& context_;
  const Origin origin_;
  const v1::RunBatchRequest request_;
  const std::shared_ptr<BatchStream::Link> link_;
  const uint32_t parallel_;
  const uint64_t output_limit_;
  bool per_job_sandbox_ = false;
  absl::Mutex mu_;
  std::deque<WorkItem> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> sandboxes_ ABSL_GUARDED_BY(mu_);
  std::map<std::size_t, std::string> sandbox_errors_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> fresh_ ABSL_GUARDED_BY(mu_);
  std::size_t lanes_running_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> busy_contexts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::size_t> parked_ ABSL_GUARDED_BY(mu_);  // lanes waiting for a free context
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
};

absl::Status Validate(const v1::RunBatchRequest& request) {
  if (request.jobs().empty()) return InvalidField("jobs", "needs at least one job");
  std::set<std::string> ids;
  for (int i = 0; i < request.jobs_size(); ++i) {
    const v1::BatchJob& job = request.jobs(i);
    const std::string field = absl::StrCat("jobs[", i, "]");
    if (job.has_code()) {
      if (absl::Status s = RequiredField(job.code().code(), field + ".code.code"); !s.ok()) {
        return s;
      }
      if (!job.code().context_id().empty() &&
          request.target().kind_case() != v1::BatchTarget::kSandboxId) {
        return InvalidField(field + ".code.context_id",
                            "needs target.sandbox_id: a context lives in one sandbox");
      }
    } else if (!job.has_command() || job.command().command().empty()) {
      return InvalidField(field, "needs a command or code");
    }
    const std::string id = job.id().empty() ? std::to_string(i) : job.id();
    if (!ids.insert(id).second) {
      return InvalidField(field + ".id", absl::StrCat("repeats the job id ", id));
    }
  }
  const v1::BatchTarget& target = request.target();
  switch (target.kind_case()) {
    case v1::BatchTarget::kSandboxId:
      return RequiredField(target.sandbox_id(), "target.sandbox_id");
    case v1::BatchTarget::kSandboxes: {
      std::set<std::string> unique(target.sandboxes().sandbox_ids().begin(),
                                   target.sandboxes().sandbox_ids().end());
      if (unique.empty() || unique.count("") != 0 ||
          unique.size() != static_cast<std::size_t>(target.sandboxes().sandbox_ids_size())) {
        return InvalidField("target.sandboxes.sandbox_ids",
                            "needs at least one id, none empty, none twice");
      }
      return absl::OkStatus();
    }
    case v1::BatchTarget::kFresh:
      if (target.fresh().source_case() == v1::BatchFreshSandboxes::SOURCE_NOT_SET) {
        return InvalidField("target.fresh", "needs a template or a pool");
      }
      return absl::OkStatus();
    default:
      return InvalidField("target", "is required: a sandbox, sandboxes or fresh ones");
  }
}

}  // namespace

grpc::ServerWriteReactor<v1::BatchJobResult>* StartBatch(DaemonContext& context,
                                                         grpc::CallbackServerContext* ctx,
                                                         const v1::RunBatchRequest& request) {
  auto* stream = new BatchStream(context, ctx);
  absl::Status valid = Validate(request);
  auto origin = context.Resolve(request.connection());
  if (!valid.ok() || !origin.ok()) {
    stream->End(ToGrpcStatus(!valid.ok() ? valid : origin.status()));
    return stream;
  }
  auto run = std::make_shared<BatchRun>(context, *std::move(origin), request, stream->link());
  run->Start();
  return stream;
}

}  // namespace osb::daemon
