// Commands.RunBatch through osbd: many commands or code cells with bounded parallelism in one
// sandbox, spread over several or run in each, or in fresh sandboxes from a template; results as
// jobs complete.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "tests/integration/osbd_fixture.h"
#include "tests/integration/status_details.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;
using ::testing::HasSubstr;
using ::testing::Not;

class OsbdBatchTest : public OsbdFixture {
 protected:
  static void AddJob(v1::RunBatchRequest& request, const std::string& id,
                     const std::string& command) {
    v1::BatchJob* job = request.add_jobs();
    job->set_id(id);
    job->mutable_command()->set_command(command);
  }

  // The results in arrival order, and how the call ended.
  std::pair<std::vector<v1::BatchJobResult>, grpc::Status> RunBatch(
      const v1::RunBatchRequest& request) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    auto reader = commands_->RunBatch(&ctx, request);
    std::vector<v1::BatchJobResult> results;
    v1::BatchJobResult result;
    while (reader->Read(&result)) results.push_back(result);
    return {results, reader->Finish()};
  }

  // The results by job id (with several per id, the last).
  static std::map<std::string, v1::BatchJobResult> ById(
      const std::vector<v1::BatchJobResult>& results) {
    std::map<std::string, v1::BatchJobResult> by_id;
    for (const auto& r : results) by_id[r.job_id()] = r;
    return by_id;
  }

};

TEST_F(OsbdBatchTest, JobsInOneSandboxReportOutputExitCodesAndErrors) {
  v1::RunBatchRequest request;
  request.mutable_target()->set_sandbox_id(NewSandbox());
  request.set_max_parallel(2);
  for (int i = 0; i < 4; ++i) {
    AddJob(request, "ok-" + std::to_string(i), "echo job " + std::to_string(i));
  }
  AddJob(request, "fails", "echo partial; echo oops >&2; exit 3");
  request.add_jobs()->mutable_command()->set_command("true");  // no id: its index, "5"
  auto [results, status] = RunBatch(request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(results.size(), 6u);
  auto by_id = ById(results);
  EXPECT_TRUE(by_id["ok-2"].success());
  EXPECT_EQ(by_id["ok-2"].stdout(), "job 2\n");
  EXPECT_EQ(by_id["ok-2"].exit_code(), 0);
  EXPECT_EQ(by_id["ok-2"].command_id().size(), 32u);
  EXPECT_TRUE(by_id["ok-2"].has_duration());
  EXPECT_FALSE(by_id["fails"].success());
  EXPECT_EQ(by_id["fails"].exit_code(), 3);
  EXPECT_EQ(by_id["fails"].stdout(), "partial\n");
  EXPECT_EQ(by_id["fails"].stderr(), "oops\n");
  EXPECT_EQ(by_id["fails"].error(), "CommandExecError: 3");
  EXPECT_TRUE(by_id["5"].success());
}

TEST_F(OsbdBatchTest, CodeJobsReportOutputResultsErrorsAndTimeouts) {
  v1::RunBatchRequest request;
  request.mutable_target()->set_sandbox_id(NewSandbox());
  // Cells for the same context run in turn, in the order given, however many lanes there are.
  request.set_max_parallel(4);
  auto add = [&](const std::string& id, const std::string& language, const std::string& code) {
    v1::BatchJob* job = request.add_jobs();
    job->set_id(id);
    job->mutable_code()->set_language(language);
    job->mutable_code()->set_code(code);
    return job;
  };
  add("define", "", "total = 40\nprint('defined')");  // no language: python
  add("use", "python", "total + 2");
  add("raises", "python", "raise ValueError('bad input')");
  add("shell", "bash", "echo from bash; echo warn >&2");
  add("slow", "python", "import time\nwhile True: time.sleep(0.05)")
      ->mutable_timeout()
      ->set_seconds(1);
  add("after", "python", "total");
  auto [results, status] = RunBatch(request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(results.size(), 6u);
  auto by_id = ById(results);
  EXPECT_TRUE(by_id["define"].success()) << by_id["define"].error();
  EXPECT_EQ(by_id["define"].stdout(), "defined\n");
  EXPECT_FALSE(by_id["define"].has_exit_code()) << "code has no exit code";
  EXPECT_EQ(by_id["define"].command_id().size(), 32u) << "the context id";
  EXPECT_EQ(by_id["use"].result_text(), "42");
  EXPECT_FALSE(by_id["raises"].success());
  EXPECT_EQ(by_id["raises"].error(), "ValueError: bad input");
  EXPECT_TRUE(by_id["shell"].success()) << by_id["shell"].error();
  EXPECT_EQ(by_id["shell"].stdout(), "from bash\n");
  EXPECT_EQ(by_id["shell"].stderr(), "warn\n");
  EXPECT_FALSE(by_id["slow"].success());
  EXPECT_EQ(by_id["slow"].error(), "timeout");
  EXPECT_TRUE(by_id["after"].success()) << "the interrupted context is free again: "
                                        << by_id["after"].error();
  EXPECT_EQ(by_id["after"].result_text(), "40");
}

TEST_F(OsbdBatchTest, SpreadAndEachOverSeveralSandboxes) {
  const std::string a = NewSandbox(), b = NewSandbox();
  v1::RunBatchRequest spread;
  spread.mutable_target()->mutable_sandboxes()->add_sandbox_ids(a);
  spread.mutable_target()->mutable_sandboxes()->add_sandbox_ids(b);
  for (int i = 0; i < 6; ++i) AddJob(spread, std::to_string(i), "sleep 0.1; hostname");
  auto [spread_results, spread_status] = RunBatch(spread);
  ASSERT_TRUE(spread_status.ok()) << spread_status.error_message();
  ASSERT_EQ(spread_results.size(), 6u);
  std::set<std::string> used;
  for (const auto& r : spread_results) used.insert(r.sandbox_id());
  EXPECT_EQ(used, (std::set<std::string>{a, b})) << "both sandboxes took jobs";

  v1::RunBatchRequest each = spread;
  each.mutable_target()->mutable_sandboxes()->set_distribution(v1::BATCH_DISTRIBUTION_EACH);
  each.clear_jobs();
  AddJob(each, "x", "echo x");
  AddJob(each, "y", "echo y");
  auto [each_results, each_status] = RunBatch(each);
  ASSERT_TRUE(each_status.ok()) << each_status.error_message();
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& r : each_results) pairs.insert({r.job_id(), r.sandbox_id()});
  EXPECT_EQ(pairs.size(), 4u) << "every job in every sandbox";
}

TEST_F(OsbdBatchTest, FreshSandboxesFromATemplateAreKilledAfterwards) {
  {
    auto templates = v1::Templates::NewStub(stack_->channel());
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefineTemplateRequest request;
    request.mutable_template_()->set_name("batch");
    request.mutable_template_()->set_image("host");
    (*request.mutable_template_()->mutable_env())["KIND"] = "fresh";
    v1::Template t;
    ASSERT_TRUE(templates->Define(&ctx, request, &t).ok());
  }
  v1::RunBatchRequest request;
  request.mutable_target()->mutable_fresh()->set_template_("batch");
  for (int i = 0; i < 3; ++i) AddJob(request, std::to_string(i), "echo $KIND");
  auto [results, status] = RunBatch(request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(results.size(), 3u);
  std::set<std::string> used;
  for (const auto& r : results) {
    EXPECT_TRUE(r.success()) << r.error();
    EXPECT_EQ(r.stdout(), "fresh\n");
    used.insert(r.sandbox_id());
  }
  EXPECT_EQ(used.size(), 3u) << "a sandbox per job with count 0";

  // Two sandboxes shared by five jobs.
  request.mutable_target()->mutable_fresh()->set_count(2);
  for (int i = 3; i < 5; ++i) AddJob(request, std::to_string(i), "echo $KIND");
  auto [shared, shared_status] = RunBatch(request);
  ASSERT_TRUE(shared_status.ok()) << shared_status.error_message();
  ASSERT_EQ(shared.size(), 5u);
  std::set<std::string> shared_used;
  for (const auto& r : shared) {
    EXPECT_TRUE(r.success()) << r.error();
    shared_used.insert(r.sandbox_id());
  }
  EXPECT_EQ(shared_used.size(), 2u);
  used.insert(shared_used.begin(), shared_used.end());
  for (const auto& id : used) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetSandboxRequest get;
    get.set_sandbox_id(id);
    v1::Sandbox sandbox;
    EXPECT_EQ(sandboxes_->Get(&ctx, get, &sandbox).error_code(), grpc::StatusCode::NOT_FOUND)
        << "killed when the batch ended";
  }
}

TEST_F(OsbdBatchTest, StopOnFailureSkipsTheRestAndOutputIsCapped) {
  v1::RunBatchRequest request;
  request.mutable_target()->set_sandbox_id(NewSandbox());
  request.set_max_parallel(1);
  request.set_stop_on_failure(true);
  request.set_output_limit_bytes(10);
  AddJob(request, "long", "seq 1 100");
  AddJob(request, "fails", "exit 1");
  AddJob(request, "never", "echo never");
  auto [results, status] = RunBatch(request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto by_id = ById(results);
  ASSERT_EQ(by_id.size(), 3u);
  EXPECT_EQ(by_id["long"].stdout(), "1\n2\n3\n4\n5\n");
  EXPECT_TRUE(by_id["long"].stdout_truncated());
  EXPECT_FALSE(by_id["fails"].success());
  EXPECT_TRUE(by_id["never"].skipped());
  EXPECT_FALSE(by_id["never"].success());
}

TEST_F(OsbdBatchTest, ACancelledBatchStartsNoMoreJobs) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  v1::RunBatchRequest request;
  request.mutable_target()->set_sandbox_id(id);
  request.set_max_parallel(1);
  AddJob(request, "first", "true");
  AddJob(request, "slow", "sleep 1; touch /tmp/m-1");
  AddJob(request, "next", "sleep 1; touch /tmp/m-2");
  AddJob(request, "last", "touch /tmp/m-3");
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    auto reader = commands_->RunBatch(&ctx, request);
    v1::BatchJobResult result;
    ASSERT_TRUE(reader->Read(&result));
    EXPECT_EQ(result.job_id(), "first");
    ctx.TryCancel();
    while (reader->Read(&result)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Long enough for the jobs after the cancel to have run, had they been started.
  absl::SleepFor(absl::Seconds(3));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::RunCommandRequest look;
  look.set_sandbox_id(id);
  look.set_command("ls /tmp");
  auto reader = commands_->Run(&ctx, look);
  std::string listing;
  v1::CommandEvent event;
  while (reader->Read(&event)) {
    if (event.has_stdout()) listing += event.stdout().data() + "\n";
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_THAT(listing, Not(HasSubstr("m-2"))) << "a job started after the cancel";
  EXPECT_THAT(listing, Not(HasSubstr("m-3"))) << "a job started after the cancel";
}

TEST_F(OsbdBatchTest, BadBatchesAreRefusedNamingTheField) {
  auto expect_refused = [this](const v1::RunBatchRequest& request, const std::string& field) {
    grpc::Status status = RunBatch(request).second;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(BadRequestField(status), field) << status.error_message();
  };
  v1::RunBatchRequest none;
  none.mutable_target()->set_sandbox_id("x");
  expect_refused(none, "jobs");
  v1::RunBatchRequest twice = none;
  AddJob(twice, "a", "true");
  AddJob(twice, "a", "true");
  expect_refused(twice, "jobs[1].id");
  v1::RunBatchRequest empty_code = none;
  empty_code.add_jobs()->mutable_code()->set_language("python");
  expect_refused(empty_code, "jobs[0].code.code");
  v1::RunBatchRequest context_across_sandboxes;
  context_across_sandboxes.mutable_target()->mutable_sandboxes()->add_sandbox_ids("x");
  v1::BatchCode* code = context_across_sandboxes.add_jobs()->mutable_code();
  code->set_code("1");
  code->set_context_id("some-context");
  expect_refused(context_across_sandboxes, "jobs[0].code.context_id");
  v1::RunBatchRequest no_target;
  AddJob(no_target, "a", "true");
  expect_refused(no_target, "target");

  v1::RunBatchRequest unknown;
  unknown.mutable_target()->set_sandbox_id("no-such-sandbox");
  AddJob(unknown, "a", "true");
  auto [results, status] = RunBatch(unknown);
  ASSERT_TRUE(status.ok()) << "a job that cannot run is a result, not an RPC error";
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].success());
  EXPECT_FALSE(results[0].error().empty());
}

}  // namespace
}  // namespace osb::test
