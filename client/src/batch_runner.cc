#include "absl/strings/str_cat.h"
#include "client/src/daemon_connection.h"
#include "client/src/lazy_daemon.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"
#include "opensandbox/batch.h"

namespace opensandbox {

namespace v1 = ::opensandbox::v1;

namespace {

absl::StatusOr<v1::RunBatchRequest> ToProto(const BatchTarget& target,
                                            const std::vector<BatchJob>& jobs,
                                            const BatchOptions& options) {
  v1::RunBatchRequest request;
  const int kinds = (target.sandbox_ids.empty() ? 0 : 1) + (target.fresh_template.empty() ? 0 : 1) +
                    (target.fresh_pool.empty() ? 0 : 1);
  if (kinds != 1) {
    return absl::InvalidArgumentError(
        "a batch target needs exactly one of sandbox_ids, fresh_template and fresh_pool");
  }
  v1::BatchTarget* t = request.mutable_target();
  if (target.sandbox_ids.size() == 1) {
    // osbd takes code jobs with a context only for this target: a context lives in one sandbox.
    // Spread and each are the same over one sandbox.
    t->set_sandbox_id(target.sandbox_ids.front());
  } else if (!target.sandbox_ids.empty()) {
    t->mutable_sandboxes()->mutable_sandbox_ids()->Assign(target.sandbox_ids.begin(),
                                                          target.sandbox_ids.end());
    t->mutable_sandboxes()->set_distribution(target.each ? v1::BATCH_DISTRIBUTION_EACH
                                                         : v1::BATCH_DISTRIBUTION_SPREAD);
  } else {
    v1::BatchFreshSandboxes* fresh = t->mutable_fresh();
    if (!target.fresh_template.empty()) fresh->set_template_(target.fresh_template);
    if (!target.fresh_pool.empty()) fresh->set_pool(target.fresh_pool);
    fresh->set_count(target.fresh_count);
    fresh->set_keep(target.keep_fresh);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const BatchJob& job = jobs[i];
    v1::BatchJob* out = request.add_jobs();
    out->set_id(job.id);
    if (!job.code.empty()) {
      // Refused rather than dropped: a cell meant to run unprivileged must not run as root.
      if (job.uid.has_value() || job.gid.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "jobs[", i, "]: uid and gid apply to commands; a cell runs as its interpreter's user"));
      }
      out->mutable_code()->set_code(job.code);
      out->mutable_code()->set_language(job.code_language);
      out->mutable_code()->set_context_id(job.code_context_id);
    } else {
      out->mutable_command()->set_command(job.command);
      out->mutable_command()->set_cwd(job.working_directory);
      out->mutable_command()->mutable_envs()->insert(job.envs.begin(), job.envs.end());
      if (job.uid.has_value()) out->mutable_command()->set_uid(*job.uid);
      if (job.gid.has_value()) out->mutable_command()->set_gid(*job.gid);
    }
    if (job.timeout.has_value()) *out->mutable_timeout() = internal::DurationToProto(*job.timeout);
  }
  request.set_max_parallel(options.max_parallel);
  request.set_stop_on_failure(options.stop_on_failure);
  if (options.job_timeout.has_value()) {
    *request.mutable_job_timeout() = internal::DurationToProto(*options.job_timeout);
  }
  request.set_output_limit_bytes(options.output_limit_bytes);
  return request;
}

BatchJobResult FromProto(const v1::BatchJobResult& in) {
  BatchJobResult out;
  out.job_id = in.job_id();
  out.sandbox_id = in.sandbox_id();
  out.success = in.success();
  if (in.has_exit_code()) out.exit_code = in.exit_code();
  out.stdout_data = in.stdout();
  out.stderr_data = in.stderr();
  out.result_text = in.result_text();
  out.stdout_truncated = in.stdout_truncated();
  out.stderr_truncated = in.stderr_truncated();
  out.error = in.error();
  out.duration = internal::DurationFromProto(in.duration());
  out.command_id = in.command_id();
  out.skipped = in.skipped();
  return out;
}

}  // namespace

BatchRunner::BatchRunner(Options options)
    : daemon_(std::make_shared<internal::LazyDaemon>(std::move(options))) {}

absl::Status BatchRunner::Run(const BatchTarget& target, const std::vector<BatchJob>& jobs,
                              const BatchOptions& options,
                              const std::function<void(const BatchJobResult&)>& on_result) {
  auto request = ToProto(target, jobs, options);
  if (!request.ok()) return request.status();
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  *request->mutable_connection() = (*daemon)->connection();
  auto ctx = (*daemon)->StreamContext();
  auto reader = (*daemon)->commands().RunBatch(ctx.get(), *request);
  v1::BatchJobResult result;
  while (reader->Read(&result)) {
    if (on_result) on_result(FromProto(result));
  }
  return internal::DaemonConnection::FromGrpcStatus(reader->Finish());
}

absl::StatusOr<std::vector<BatchJobResult>> BatchRunner::Run(const BatchTarget& target,
                                                             const std::vector<BatchJob>& jobs,
                                                             const BatchOptions& options) {
  std::vector<BatchJobResult> results;
  auto status = Run(target, jobs, options,
                    [&results](const BatchJobResult& r) { results.push_back(r); });
  if (!status.ok()) return status;
  return results;
}

std::future<absl::StatusOr<std::vector<BatchJobResult>>> BatchRunner::RunAsync(
    BatchTarget target, std::vector<BatchJob> jobs, BatchOptions options) {
  return internal::RunAsync(
      [self = *this, target = std::move(target), jobs = std::move(jobs),
       options = std::move(options)]() mutable { return self.Run(target, jobs, options); });
}

}  // namespace opensandbox
