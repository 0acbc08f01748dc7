// The C++ SDK against the real stack (osbd with its embedded osb-runtime), every public method
// of Sandbox, Commands, Codes, Files and SandboxManager as a user calls it.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "opensandbox/opensandbox.h"
#include "tests/integration/harness.h"

namespace osb::test {
namespace {

using ::opensandbox::Options;
using ::opensandbox::Sandbox;
using ::opensandbox::SandboxManager;
using ::opensandbox::SandboxSpec;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
    options_.set<opensandbox::SocketPathOption>(stack_->socket_path());
  }

  Sandbox NewSandbox(SandboxSpec spec = {}) {
    auto sandbox = Sandbox::Create("debian", spec, options_);
    EXPECT_TRUE(sandbox.ok()) << sandbox.status();
    return *std::move(sandbox);
  }

  static std::vector<std::string> Texts(const std::vector<opensandbox::OutputMessage>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(line.text);
    return out;
  }

  std::unique_ptr<Stack> stack_;
  Options options_;
};

TEST_F(SdkTest, CreateRunsTheSpecAndKillDeletes) {
  SandboxSpec spec;
  spec.timeout = absl::Minutes(5);
  spec.env = {{"GREETING", "hello"}};
  spec.metadata = {{"suite", "sdk"}};
  const absl::Time before = absl::Now();
  Sandbox sandbox = NewSandbox(spec);

  auto info = sandbox.GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, sandbox.id());
  EXPECT_EQ(info->status.state, "Running");
  EXPECT_EQ(info->metadata.at("suite"), "sdk");
  ASSERT_TRUE(info->expires_at.has_value());
  EXPECT_GT(*info->expires_at, before + absl::Minutes(4));
  EXPECT_TRUE(sandbox.IsHealthy());

  auto execution = sandbox.commands().Run("echo $GREETING");
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_THAT(Texts(execution->logs.stdout_lines), ElementsAre("hello"));

  ASSERT_TRUE(sandbox.Kill().ok());
  auto gone = Sandbox::Connect(sandbox.id(), options_);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_FALSE(opensandbox::GetErrorDetails(gone.status()).code.empty()) << gone.status();
  EXPECT_FALSE(opensandbox::GetErrorDetails(gone.status()).request_id.empty()) << gone.status();
}

TEST_F(SdkTest, ManualCleanupHasNoExpiryAndCannotBeRenewed) {
  SandboxSpec spec;
  spec.manual_cleanup = true;
  Sandbox sandbox = NewSandbox(spec);
  auto info = sandbox.GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->expires_at.has_value());
  EXPECT_EQ(sandbox.Renew(absl::Minutes(5)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SdkTest, RunStreamsLinesAndReportsExitCodes) {
  Sandbox sandbox = NewSandbox();
  std::vector<std::string> seen;
  opensandbox::ExecutionHandlers handlers;
  handlers.on_stdout = [&](const auto& m) { seen.push_back("out:" + m.text); };
  handlers.on_stderr = [&](const auto& m) { seen.push_back("err:" + m.text); };
  handlers.on_error = [&](const auto& e) { seen.push_back("error:" + e.value); };
  auto execution =
      sandbox.commands().Run("echo one; echo two >&2; sleep 0.05; echo three; exit 3", {},
                             handlers);
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_THAT(seen, ElementsAre("out:one", "err:two", "out:three", "error:3"));
  EXPECT_EQ(execution->exit_code, 3);
  EXPECT_EQ(execution->error->name, "CommandExecError");
  EXPECT_EQ(execution->id.size(), 32u);

  auto ok = sandbox.commands().Run("true");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_FALSE(ok->error.has_value());

  auto bad_cwd = sandbox.commands().Run("true", {.working_directory = "/no/such/dir"});
  EXPECT_EQ(bad_cwd.status().code(), absl::StatusCode::kInvalidArgument) << bad_cwd.status();
}

TEST_F(SdkTest, DefaultsAndOptionsOfRun) {
  Sandbox sandbox = NewSandbox();
  auto& commands = sandbox.commands();
  commands.SetEnv({{"A", "default"}, {"B", "default"}});
  commands.SetCwd("/tmp");
  auto execution = commands.Run("echo $A $B $PWD", {.envs = {{"B", "mine"}}});
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_THAT(Texts(execution->logs.stdout_lines), ElementsAre("default mine /tmp"));

  auto timed_out = commands.Run("sleep 30", {.timeout = absl::Milliseconds(300)});
  ASSERT_TRUE(timed_out.ok()) << timed_out.status();
  EXPECT_EQ(timed_out->exit_code, -1);

  auto as_nobody = commands.Run("id -u", {.uid = 65534});
  ASSERT_TRUE(as_nobody.ok()) << as_nobody.status();
  EXPECT_THAT(Texts(as_nobody->logs.stdout_lines), ElementsAre("65534"));
}

TEST_F(SdkTest, BackgroundRunsStatusLogsAndInterrupt) {
  Sandbox sandbox = NewSandbox();
  auto& commands = sandbox.commands();
  auto started = commands.Run("echo begun; sleep 30", {.background = true});
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_FALSE(started->id.empty());

  std::string log;
  std::int64_t cursor = 0;
  for (int i = 0; i < 100 && log.find("begun") == std::string::npos; ++i) {
    auto logs = commands.GetLogs(started->id, cursor);
    ASSERT_TRUE(logs.ok()) << logs.status();
    log += logs->data;
    cursor = logs->next_cursor;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(log, HasSubstr("begun"));
  auto running = commands.GetStatus(started->id);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(running->running);

  ASSERT_TRUE(commands.Interrupt(started->id).ok());
  bool stopped = false;
  for (int i = 0; i < 100 && !stopped; ++i) {
    auto status = commands.GetStatus(started->id);
    ASSERT_TRUE(status.ok()) << status.status();
    stopped = !status->running;
    if (!stopped) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(stopped);
}

TEST_F(SdkTest, AttachReplaysARunFromAnyEventStillJournalled) {
  Sandbox sandbox = NewSandbox();
  auto& commands = sandbox.commands();
  auto run = commands.Run("echo one; echo two; exit 5");
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->last_seq, 4u);  // started, one, two, failed

  std::vector<std::string> seen;
  opensandbox::ExecutionHandlers handlers;
  handlers.on_stdout = [&](const auto& m) { seen.push_back(m.text); };
  auto replay = commands.Attach(run->id, 0, handlers);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_THAT(seen, ElementsAre("one", "two"));
  EXPECT_EQ(replay->id, run->id);
  EXPECT_EQ(replay->exit_code, 5);

  auto tail = commands.Attach(run->id, 2);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_THAT(Texts(tail->logs.stdout_lines), ElementsAre("two"));
  EXPECT_EQ(tail->exit_code, 5);
  EXPECT_EQ(tail->id, run->id);

  EXPECT_EQ(commands.Attach("0123456789abcdef0123456789abcdef").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SdkTest, SessionsKeepStateBetweenRuns) {
  Sandbox sandbox = NewSandbox();
  auto& commands = sandbox.commands();
  auto session = commands.CreateSession("/tmp");
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(commands.RunInSession(*session, "export X=42; cd /usr").ok());
  auto after = commands.RunInSession(*session, "echo $X $PWD");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(Texts(after->logs.stdout_lines), ElementsAre("42 /usr"));
  ASSERT_TRUE(commands.DeleteSession(*session).ok());
  EXPECT_EQ(commands.DeleteSession(*session).code(), absl::StatusCode::kNotFound);
}

TEST_F(SdkTest, CodeContextsKeepStateAndReportResultsAndErrors) {
  Sandbox sandbox = NewSandbox();
  auto& codes = sandbox.codes();
  auto context = codes.CreateContext("python");
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ(context->language, "python");

  std::vector<std::string> streamed;
  opensandbox::CodeHandlers handlers;
  handlers.on_stdout = [&](const opensandbox::OutputMessage& m) { streamed.push_back(m.text); };
  auto first = codes.Run("x = 6 * 7\nprint('computed')", {.context_id = context->id}, handlers);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(streamed, ElementsAre("computed\n"));
  EXPECT_EQ(first->context_id, context->id);
  EXPECT_EQ(first->execution_count, 1);
  EXPECT_TRUE(first->complete.has_value());
  EXPECT_TRUE(first->results.empty());

  auto second = codes.Run("x", {.context_id = context->id});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->results.size(), 1u);
  EXPECT_EQ(second->results[0].text, "42");
  EXPECT_EQ(second->results[0].data.at("text/plain"), "42");
  EXPECT_EQ(second->execution_count, 2);

  auto failed = codes.Run("1 / 0", {.context_id = context->id});
  ASSERT_TRUE(failed.ok()) << "a cell that raised is a result: " << failed.status();
  ASSERT_TRUE(failed->error.has_value());
  EXPECT_EQ(failed->error->name, "ZeroDivisionError");
  EXPECT_FALSE(failed->complete.has_value());

  auto by_language = codes.Run("echo $((40 + 2))", {.language = "bash"});
  ASSERT_TRUE(by_language.ok()) << by_language.status();
  EXPECT_EQ(by_language->logs.stdout_lines.at(0).text, "42\n");
  auto shell = codes.Run("echo plain shell");
  ASSERT_TRUE(shell.ok()) << shell.status();
  EXPECT_EQ(shell->logs.stdout_lines.at(0).text, "plain shell");

  auto contexts = codes.ListContexts();
  ASSERT_TRUE(contexts.ok()) << contexts.status();
  EXPECT_EQ(contexts->size(), 2u) << "the python one and bash's default";
  auto got = codes.GetContext(context->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->language, "python");

  auto running = codes.RunAsync("import time\nwhile True: time.sleep(0.05)",
                                {.context_id = context->id});
  absl::SleepFor(absl::Milliseconds(800));
  EXPECT_TRUE(codes.Interrupt(context->id).ok());
  auto interrupted = running.get();
  ASSERT_TRUE(interrupted.ok()) << interrupted.status();
  ASSERT_TRUE(interrupted->error.has_value());
  EXPECT_EQ(interrupted->error->name, "KeyboardInterrupt");

  ASSERT_TRUE(codes.DeleteContext(context->id).ok());
  EXPECT_EQ(codes.GetContext(context->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(codes.Run("1", {.context_id = context->id}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(codes.CreateContext("cobol").status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(codes.DeleteContexts("bash").ok());
  EXPECT_TRUE(codes.ListContexts()->empty());
}

TEST_F(SdkTest, OneHandlersValueServesCommandsAndCells) {
  Sandbox sandbox = NewSandbox();
  auto context = sandbox.codes().CreateContext("python");
  ASSERT_TRUE(context.ok()) << context.status();
  std::vector<std::string> seen;
  opensandbox::ExecutionHandlers handlers;
  handlers.on_init = [&](const std::string& id) { seen.push_back("init " + id); };
  handlers.on_stdout = [&](const auto& m) { seen.push_back("out " + m.text); };
  handlers.on_result = [&](const auto& r) { seen.push_back("result " + r.text); };
  handlers.on_complete = [&](const auto&) { seen.push_back("complete"); };

  auto command = sandbox.commands().Run("echo 42", {}, handlers);
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_THAT(seen, ElementsAre("init " + command->id, "out 42", "complete"))
      << "execd sends no result for a command";

  seen.clear();
  auto cell = sandbox.codes().Run("print('out')\n6 * 7", {.context_id = context->id}, handlers);
  ASSERT_TRUE(cell.ok()) << cell.status();
  EXPECT_THAT(seen, ElementsAre("init " + context->id, "out out\n", "result 42", "complete"));
}

TEST_F(SdkTest, FilesRoundTripAndManage) {
  Sandbox sandbox = NewSandbox();
  auto& files = sandbox.files();
  ASSERT_TRUE(files.CreateDirectories({"/work/a/b"}, {.mode = 0750}).ok());
  ASSERT_TRUE(files.WriteFile("/work/a/hello.txt", "hello world, hello\n", {.mode = 0640}).ok());

  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  std::istringstream in(big);
  auto written = files.WriteFileFrom("/work/a/b/big.bin", in);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, static_cast<std::int64_t>(big.size()));
  auto read_back = files.ReadFile("/work/a/b/big.bin");
  ASSERT_TRUE(read_back.ok()) << read_back.status();
  EXPECT_TRUE(*read_back == big);
  std::ostringstream out;
  ASSERT_TRUE(files.ReadFileTo("/work/a/b/big.bin", out, {.offset = 10, .length = 5}).ok());
  EXPECT_EQ(out.str(), big.substr(10, 5));

  auto info = files.GetInfo({"/work/a/hello.txt", "/work/a/b"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->at("/work/a/hello.txt").mode, 0640u);
  EXPECT_EQ(info->at("/work/a/hello.txt").size, 19);
  EXPECT_EQ(info->at("/work/a/b").type, opensandbox::FileType::kDirectory);
  EXPECT_EQ(info->at("/work/a/b").mode, 0750u);

  auto listed = files.ListDirectory("/work/a", 2);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 3u);  // b, hello.txt, b/big.bin
  auto found = files.Search("/work", "*.bin");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().path, "/work/a/b/big.bin");

  auto replaced = files.ReplaceContents({{"/work/a/hello.txt", "hello", "bye"}});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->at("/work/a/hello.txt"), 2);
  ASSERT_TRUE(files.Move("/work/a/hello.txt", "/work/c/moved.txt").ok());
  EXPECT_EQ(*files.ReadFile("/work/c/moved.txt"), "bye world, bye\n");
  ASSERT_TRUE(files.SetPermissions("/work/c/moved.txt", {.mode = 0600}).ok());
  EXPECT_EQ(files.GetInfo({"/work/c/moved.txt"})->at("/work/c/moved.txt").mode, 0600u);

  ASSERT_TRUE(files.DeleteFiles({"/work/c/moved.txt", "/work/never-was"}).ok());
  ASSERT_TRUE(files.DeleteDirectories({"/work/a"}).ok());
  auto missing = files.ReadFile("/work/a/b/big.bin");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
}

TEST_F(SdkTest, EndpointAndMetrics) {
  Sandbox sandbox = NewSandbox();
  auto endpoint = sandbox.GetEndpoint(44772);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_THAT(endpoint->url, HasSubstr(sandbox.id()));
  EXPECT_FALSE(endpoint->headers.empty());
  absl::Status bad_port = sandbox.GetEndpoint(0).status();
  EXPECT_EQ(bad_port.code(), absl::StatusCode::kInvalidArgument);
  // A signed route is the service's to give; osb-runtime has none, and says so.
  absl::Status unsigned_here =
      sandbox.GetSignedEndpoint(8080, absl::Now() + absl::Hours(1)).status();
  EXPECT_EQ(unsigned_here.code(), absl::StatusCode::kInvalidArgument) << unsigned_here;
  EXPECT_EQ(opensandbox::GetErrorDetails(unsigned_here).code, "SANDBOX::API_NOT_SUPPORTED")
      << unsigned_here;
  EXPECT_EQ(opensandbox::GetErrorDetails(unsigned_here).http_status, 400);

  auto metrics = sandbox.GetMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_GT(metrics->cpu_count, 0);
  EXPECT_GT(metrics->memory_total_mib, 0);
  EXPECT_GT(metrics->time, absl::Now() - absl::Minutes(1));
}

TEST_F(SdkTest, ManagerListsRenewsPausesResumesPatchesAndKills) {
  SandboxSpec spec;
  spec.metadata = {{"group", "m"}};
  Sandbox a = NewSandbox(spec);
  Sandbox b = NewSandbox(spec);
  NewSandbox();  // unlabelled: filtered out

  SandboxManager manager(options_);
  auto page = manager.List({.states = {"RUNNING"}, .metadata = {{"group", "m"}}});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_items, 2);
  ASSERT_EQ(page->sandboxes.size(), 2u);
  EXPECT_EQ(page->sandboxes[0].id, b.id());  // newest first

  auto expiry = manager.Renew(a.id(), absl::Minutes(45));
  ASSERT_TRUE(expiry.ok()) << expiry.status();
  EXPECT_GT(*expiry, absl::Now() + absl::Minutes(44));

  ASSERT_TRUE(manager.Pause(a.id()).ok());
  EXPECT_EQ(manager.Get(a.id())->status.state, "Paused");
  EXPECT_EQ(manager.Pause(a.id()).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(manager.Resume(a.id()).ok());
  EXPECT_TRUE(a.IsHealthy());

  auto patched = manager.PatchMetadata(a.id(), {{"stage", "two"}}, {"group"});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->metadata.count("group"), 0u);
  EXPECT_EQ(patched->metadata.at("stage"), "two");
  auto bad = manager.PatchMetadata(a.id(), {{"opensandbox.io/x", "y"}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();

  ASSERT_TRUE(manager.Kill(b.id()).ok());
  EXPECT_EQ(manager.Kill(b.id()).code(), absl::StatusCode::kNotFound);
}

TEST_F(SdkTest, AsyncFormsRunConcurrently) {
  std::vector<std::future<absl::StatusOr<Sandbox>>> creating;
  for (int i = 0; i < 3; ++i) {
    creating.push_back(Sandbox::CreateAsync("debian", {.metadata = {{"async", "yes"}}}, options_));
  }
  std::vector<Sandbox> sandboxes;
  for (auto& f : creating) {
    auto sandbox = f.get();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandboxes.push_back(*std::move(sandbox));
  }

  // Three commands that each wait (up to 10 s) until all three have started: they finish
  // with "3" only if they run at the same time.
  std::vector<std::future<absl::StatusOr<opensandbox::Execution>>> running;
  for (int i = 0; i < 3; ++i) {
    running.push_back(sandboxes[0].commands().RunAsync(
        "touch /tmp/started-" + std::to_string(i) +
        "; for n in $(seq 200); do [ $(ls /tmp/started-* | wc -l) -ge 3 ] && break; sleep 0.05;"
        " done; ls /tmp/started-* | wc -l"));
  }
  for (auto& f : running) {
    auto execution = f.get();
    ASSERT_TRUE(execution.ok()) << execution.status();
    EXPECT_THAT(Texts(execution->logs.stdout_lines), ElementsAre("3"));
  }

  auto write = sandboxes[0].files().WriteFileAsync("/tmp/a", "async data");
  ASSERT_TRUE(write.get().ok());
  auto read = sandboxes[0].files().ReadFileAsync("/tmp/a");
  EXPECT_EQ(read.get().value_or(""), "async data");

  SandboxManager manager(options_);
  auto page = manager.ListAsync({.metadata = {{"async", "yes"}}}).get();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_items, 3);
  EXPECT_TRUE(manager.KillAsync(sandboxes[0].id()).get().ok());
  EXPECT_TRUE(sandboxes[1].KillAsync().get().ok());
  EXPECT_EQ(manager.List({.metadata = {{"async", "yes"}}})->total_items, 1);
}

// Every call's XxxAsync twin gives what the call gives, on a thread of its own.
TEST_F(SdkTest, EveryCallHasAnAsyncTwin) {
  SandboxSpec spec;
  spec.metadata = {{"twin", "async"}};
  Sandbox sandbox = NewSandbox(spec);
  auto connected = Sandbox::ConnectAsync(sandbox.id(), options_).get();
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(connected->GetInfoAsync().get()->id, sandbox.id());
  EXPECT_EQ(sandbox.GetEndpointAsync(44772).get().status().code(), absl::StatusCode::kOk);
  EXPECT_GT(sandbox.GetMetricsAsync().get()->memory_total_mib, 0);
  auto expiry = sandbox.RenewAsync(absl::Minutes(30)).get();
  ASSERT_TRUE(expiry.ok()) << expiry.status();
  EXPECT_GT(*expiry, absl::Now() + absl::Minutes(29));
  EXPECT_TRUE(sandbox.IsHealthyAsync().get());

  auto& files = sandbox.files();
  ASSERT_TRUE(files.CreateDirectoriesAsync({"/w/in"}, {.mode = 0700}).get().ok());
  ASSERT_TRUE(files
                  .WriteFilesAsync(
                      {{"/w/in/a.txt", "alpha alpha", {}}, {"/w/in/b.log", "beta", {.mode = 0600}}})
                  .get()
                  .ok());
  auto info = files.GetInfoAsync({"/w/in/b.log"}).get();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->at("/w/in/b.log").mode, 0600u);
  EXPECT_EQ(files.ListDirectoryAsync("/w/in").get()->size(), 2u);
  EXPECT_EQ(files.SearchAsync("/w", "*.log").get()->size(), 1u);
  EXPECT_EQ(
      files.ReplaceContentsAsync({{"/w/in/a.txt", "alpha", "omega"}}).get()->at("/w/in/a.txt"), 2);
  ASSERT_TRUE(files.MoveAsync("/w/in/a.txt", "/w/a.txt").get().ok());
  ASSERT_TRUE(files.SetPermissionsAsync("/w/a.txt", {.mode = 0640}).get().ok());
  EXPECT_EQ(files.GetInfo({"/w/a.txt"})->at("/w/a.txt").mode, 0640u);
  EXPECT_EQ(*files.ReadFile("/w/a.txt"), "omega omega");
  ASSERT_TRUE(files.DeleteFilesAsync({"/w/a.txt"}).get().ok());
  ASSERT_TRUE(files.DeleteDirectoriesAsync({"/w"}).get().ok());
  EXPECT_EQ(files.GetInfo({"/w"}).status().code(), absl::StatusCode::kNotFound);

  auto& commands = sandbox.commands();
  auto background = commands.Run("echo hi; sleep 30", {.background = true});
  ASSERT_TRUE(background.ok()) << background.status();
  absl::StatusOr<opensandbox::CommandLogs> logs;
  for (int i = 0; i < 100; ++i) {  // until its first line is logged
    logs = commands.GetLogsAsync(background->id).get();
    if (!logs.ok() || !logs->data.empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(logs->data, "hi\n");
  EXPECT_TRUE(commands.GetStatusAsync(background->id).get()->running);
  ASSERT_TRUE(commands.InterruptAsync(background->id).get().ok());
  auto session = commands.CreateSessionAsync("/tmp").get();
  ASSERT_TRUE(session.ok()) << session.status();
  auto in_session = commands.RunInSessionAsync(*session, "pwd").get();
  ASSERT_TRUE(in_session.ok()) << in_session.status();
  EXPECT_THAT(Texts(in_session->logs.stdout_lines), ElementsAre("/tmp"));
  ASSERT_TRUE(commands.DeleteSessionAsync(*session).get().ok());
  auto ran = commands.Run("echo replayed");
  ASSERT_TRUE(ran.ok()) << ran.status();
  auto attached = commands.AttachAsync(ran->id).get();
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_THAT(Texts(attached->logs.stdout_lines), ElementsAre("replayed"));

  auto context = sandbox.codes().CreateContextAsync("python").get();
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ(sandbox.codes().ListContextsAsync("python").get()->size(), 1u);
  ASSERT_TRUE(sandbox.codes().InterruptAsync(context->id).get().ok());
  ASSERT_TRUE(sandbox.codes().DeleteContextAsync(context->id).get().ok());

  SandboxManager manager(options_);
  EXPECT_EQ(manager.GetAsync(sandbox.id()).get()->metadata.at("twin"), "async");
  EXPECT_EQ(manager.PatchMetadataAsync(sandbox.id(), {{"more", "yes"}}).get()->metadata.size(), 2u);
  EXPECT_GT(*manager.RenewAsync(sandbox.id(), absl::Minutes(20)).get(), absl::Now());
  ASSERT_TRUE(sandbox.PauseAsync().get().ok());
  EXPECT_EQ(manager.GetAsync(sandbox.id()).get()->status.state, "Paused");
  ASSERT_TRUE(manager.ResumeAsync(sandbox.id()).get().ok());
  ASSERT_TRUE(manager.PauseAsync(sandbox.id()).get().ok());
  auto resumed = Sandbox::ResumeAsync(sandbox.id(), options_).get();
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->IsHealthy());

  opensandbox::TemplateManager templates(options_);
  opensandbox::SandboxTemplate t{.name = "twin", .image = "debian"};
  ASSERT_TRUE(templates.DefineAsync(t).get().ok());
  EXPECT_EQ(templates.GetAsync("twin").get()->image, "debian");
  EXPECT_EQ(templates.ListAsync().get()->size(), 1u);
  ASSERT_TRUE(templates.DeleteAsync("twin").get().ok());
  EXPECT_EQ(templates.GetAsync("twin").get().status().code(), absl::StatusCode::kNotFound);
}

// Connect finds a live sandbox; Close leaves it running and makes the handle refuse calls.
TEST_F(SdkTest, ConnectFindsASandboxAndCloseLeavesItRunning) {
  Sandbox created = NewSandbox();
  auto connected = Sandbox::Connect(created.id(), options_);
  ASSERT_TRUE(connected.ok()) << connected.status();
  ASSERT_TRUE(connected->files().WriteFile("/tmp/shared", "from the second handle").ok());
  EXPECT_EQ(*created.files().ReadFile("/tmp/shared"), "from the second handle");
  connected->Close();
  EXPECT_EQ(connected->GetInfo().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(connected->files().ReadFile("/tmp/shared").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto info = created.GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->status.state, "Running");
}

// The create options a spec carries reach the sandbox: its entrypoint runs, its limits hold,
// a named volume outlives it for the next sandbox that claims it.
TEST_F(SdkTest, CreateOptionsReachTheSandbox) {
  SandboxSpec spec;
  spec.entrypoint = {"bash", "-c", "echo started > /tmp/entry; exec sleep infinity"};
  spec.resource = {{"cpu", "500m"}, {"memory", "256Mi"}};
  spec.extensions = {{"tier", "gold"}};
  spec.volumes = {{.name = "cache", .mount_path = "/cache", .claim_name = "sdk-cache"}};
  Sandbox sandbox = NewSandbox(spec);
  auto info = sandbox.GetInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->entrypoint, spec.entrypoint);
  absl::StatusOr<std::string> entry;
  for (int i = 0; i < 100; ++i) {  // the entrypoint starts alongside the agent
    entry = sandbox.files().ReadFile("/tmp/entry");
    if (entry.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(entry.value_or(""), "started\n");
  auto metrics = sandbox.GetMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_DOUBLE_EQ(metrics->cpu_count, 0.5);
  EXPECT_DOUBLE_EQ(metrics->memory_total_mib, 256);
  ASSERT_TRUE(sandbox.files().WriteFile("/cache/kept", "for later").ok());
  ASSERT_TRUE(sandbox.Kill().ok());

  SandboxSpec next;
  next.volumes = spec.volumes;
  Sandbox later = NewSandbox(next);
  EXPECT_EQ(later.files().ReadFile("/cache/kept").value_or(""), "for later");
}

// A health check decides when Create returns; one that never passes ends in a ready timeout
// (and no sandbox); skip_health_check returns at once.
TEST_F(SdkTest, HealthChecksDecideWhenCreateReturns) {
  SandboxSpec spec;
  spec.entrypoint = {"bash", "-c", "sleep 1; touch /tmp/ready; exec sleep infinity"};
  spec.health_check = opensandbox::HealthCheck{.command = "test -f /tmp/ready",
                                               .polling_interval = absl::Milliseconds(50)};
  Sandbox ready = NewSandbox(spec);
  auto check = ready.commands().Run("test -f /tmp/ready");
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->exit_code, 0) << "Create returned before the probe passed";

  SandboxSpec never;
  never.metadata = {{"probe", "never"}};
  never.health_check = opensandbox::HealthCheck{.http_port = 8999};
  never.ready_timeout = absl::Seconds(2);
  auto failed = Sandbox::Create("debian", never, options_);
  EXPECT_TRUE(opensandbox::IsReadyTimeout(failed.status())) << failed.status();
  SandboxManager manager(options_);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (manager.List({.metadata = {{"probe", "never"}}})->total_items != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(manager.List({.metadata = {{"probe", "never"}}})->total_items, 0);

  SandboxSpec skip;
  skip.skip_health_check = true;
  auto skipped = Sandbox::Create("debian", skip, options_);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_FALSE(skipped->id().empty());
}

// Pages of the manager's list: sizes, totals, and the next page.
TEST_F(SdkTest, ListPagesThroughSandboxes) {
  SandboxSpec spec;
  spec.metadata = {{"paged", "yes"}};
  for (int i = 0; i < 3; ++i) NewSandbox(spec);
  SandboxManager manager(options_);
  auto first = manager.List({.metadata = {{"paged", "yes"}}, .page = 1, .page_size = 2});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sandboxes.size(), 2u);
  EXPECT_EQ(first->total_items, 3);
  EXPECT_EQ(first->total_pages, 2);
  EXPECT_TRUE(first->has_next_page);
  auto second = manager.List({.metadata = {{"paged", "yes"}}, .page = 2, .page_size = 2});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->sandboxes.size(), 1u);
  EXPECT_FALSE(second->has_next_page);
  for (const auto& s : first->sandboxes) EXPECT_NE(s.id, second->sandboxes[0].id);
}

TEST_F(SdkTest, TemplatesAndWarmPools) {
  opensandbox::TemplateManager templates(options_);
  opensandbox::SandboxTemplate t{.name = "sdk-worker", .description = "for the SDK test",
                                 .image = "debian"};
  t.spec.timeout = absl::Minutes(5);
  t.spec.env = {{"FROM", "template"}};
  auto defined = templates.Define(t);
  ASSERT_TRUE(defined.ok()) << defined.status();
  EXPECT_GT(defined->created_at, absl::Now() - absl::Minutes(1));
  auto got = templates.Get("sdk-worker");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->image, "debian");
  EXPECT_EQ(got->spec.env.at("FROM"), "template");
  EXPECT_EQ(got->spec.timeout, absl::Minutes(5));
  EXPECT_EQ(templates.List()->size(), 1u);

  auto from_template = Sandbox::Create("", {.template_name = "sdk-worker"}, options_);
  ASSERT_TRUE(from_template.ok()) << from_template.status();
  auto echoed = from_template->commands().Run("echo $FROM");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_THAT(Texts(echoed->logs.stdout_lines), ElementsAre("template"));

  opensandbox::PoolManager pools(options_);
  ASSERT_TRUE(
      pools.Define({.name = "sdk-pool", .template_name = "sdk-worker", .min_idle = 1}).ok());
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    auto stats = pools.GetStats("sdk-pool");
    ASSERT_TRUE(stats.ok()) << stats.status();
    ready = stats->idle == 1;
    if (!ready) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(ready);
  auto acquired = pools.Acquire("sdk-pool", {.fail_fast = true});
  ASSERT_TRUE(acquired.ok()) << acquired.status();
  auto ran = acquired->commands().Run("echo $FROM");
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_THAT(Texts(ran->logs.stdout_lines), ElementsAre("template"));
  EXPECT_EQ(pools.GetStats("sdk-pool")->warm_acquires, 1u);
  auto reused = pools.Release("sdk-pool", *acquired);
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_FALSE(*reused);
  EXPECT_EQ(acquired->GetInfo().status().code(), absl::StatusCode::kNotFound);

  ASSERT_EQ(pools.List()->size(), 1u);
  EXPECT_EQ(templates.Delete("sdk-worker").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(pools.Delete("sdk-pool").ok());
  ASSERT_TRUE(templates.Delete("sdk-worker").ok());
  EXPECT_EQ(templates.Get("sdk-worker").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SdkTest, BatchesStreamAResultPerJob) {
  Sandbox a = NewSandbox();
  Sandbox b = NewSandbox();
  opensandbox::BatchRunner batches(options_);
  std::vector<opensandbox::BatchJob> jobs;
  for (int i = 0; i < 5; ++i) {
    jobs.push_back({.id = "job-" + std::to_string(i), .command = "echo " + std::to_string(i)});
  }
  jobs.push_back({.id = "bad", .command = "exit 7"});
  std::vector<std::string> seen;
  auto status =
      batches.Run({.sandbox_ids = {a.id(), b.id()}}, jobs, {.max_parallel = 3},
                  [&](const opensandbox::BatchJobResult& r) { seen.push_back(r.job_id); });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen.size(), 6u);

  auto results = batches.Run({.sandbox_ids = {a.id()}}, jobs);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 6u);
  for (const auto& r : *results) {
    if (r.job_id == "bad") {
      EXPECT_FALSE(r.success);
      EXPECT_EQ(r.exit_code, 7);
    } else {
      EXPECT_TRUE(r.success) << r.error;
      EXPECT_EQ(r.stdout_data, r.job_id.substr(4) + "\n");
      EXPECT_EQ(r.sandbox_id, a.id());
    }
  }
  EXPECT_EQ(batches.Run({}, jobs).status().code(), absl::StatusCode::kInvalidArgument)
      << "no target";

  auto cells = batches.Run({.sandbox_ids = {a.id()}},
                           {{.id = "cell", .code = "print('out')\n6 * 7"},
                            {.id = "raises", .code = "[].pop()", .code_language = "python"}});
  ASSERT_TRUE(cells.ok()) << cells.status();
  ASSERT_EQ(cells->size(), 2u);
  for (const auto& r : *cells) {
    if (r.job_id == "cell") {
      EXPECT_TRUE(r.success) << r.error;
      EXPECT_EQ(r.stdout_data, "out\n");
      EXPECT_EQ(r.result_text, "42");
      EXPECT_FALSE(r.exit_code.has_value());
    } else {
      EXPECT_FALSE(r.success);
      EXPECT_EQ(r.error, "IndexError: pop from empty list");
    }
  }
}

TEST_F(SdkTest, BatchCellsInOneContextRunInOrderAndKeepItsState) {
  Sandbox sandbox = NewSandbox();
  auto context = sandbox.codes().CreateContext("python");
  ASSERT_TRUE(context.ok()) << context.status();
  opensandbox::BatchRunner batches(options_);
  // Parallel lanes to spare: the cells still run one after another, as their state needs.
  std::vector<opensandbox::BatchJob> cells = {
      {.id = "set", .code = "x = 6 * 7", .code_context_id = context->id},
      {.id = "add", .code = "x += 1\nprint(x)", .code_context_id = context->id},
      {.id = "show", .code = "x", .code_context_id = context->id},
      {.id = "square", .code = "x * x", .code_context_id = context->id}};
  auto results = batches.Run({.sandbox_ids = {sandbox.id()}}, cells, {.max_parallel = 4});
  ASSERT_TRUE(results.ok()) << results.status();
  std::vector<std::string> order;
  for (const auto& r : *results) {
    order.push_back(r.job_id);
    EXPECT_TRUE(r.success) << r.job_id << ": " << r.error;
    EXPECT_EQ(r.sandbox_id, sandbox.id());
    EXPECT_EQ(r.command_id, context->id) << r.job_id;
  }
  EXPECT_THAT(order, ElementsAre("set", "add", "show", "square"));
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[1].stdout_data, "43\n");
  EXPECT_EQ((*results)[2].result_text, "43");
  EXPECT_EQ((*results)[3].result_text, "1849");

  // The batch ran in the context itself, not a copy: its state is there afterwards.
  auto after = sandbox.codes().Run("x", {.context_id = context->id});
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->results.size(), 1u);
  EXPECT_EQ(after->results[0].text, "43");

  // A context lives in one sandbox: over two, osbd refuses the batch.
  Sandbox other = NewSandbox();
  auto refused = batches.Run({.sandbox_ids = {sandbox.id(), other.id()}}, cells);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
}

TEST_F(SdkTest, BatchCommandsRunAsTheUserAndGroupTheyName) {
  Sandbox sandbox = NewSandbox();
  opensandbox::BatchRunner batches(options_);
  auto results = batches.Run(
      {.sandbox_ids = {sandbox.id()}},
      {{.id = "default", .command = "id -u"},
       {.id = "nobody", .command = "id -u; id -g", .uid = 65534, .gid = 4321},
       {.id = "user-only", .command = "id -u", .uid = 1234},
       {.id = "group-only", .command = "id -g", .gid = 4321}});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  for (const auto& r : *results) {
    if (r.job_id == "default") {
      EXPECT_TRUE(r.success) << r.error;
      EXPECT_NE(r.stdout_data, "65534\n");
    } else if (r.job_id == "nobody") {
      EXPECT_TRUE(r.success) << r.error;
      EXPECT_EQ(r.stdout_data, "65534\n4321\n");
    } else if (r.job_id == "user-only") {
      EXPECT_TRUE(r.success) << r.error;
      EXPECT_EQ(r.stdout_data, "1234\n");
    } else {
      EXPECT_FALSE(r.success) << "a gid without a uid is refused";
      EXPECT_THAT(r.error, HasSubstr("gid requires uid"));
      EXPECT_TRUE(r.stdout_data.empty());
    }
  }
}

TEST_F(SdkTest, SnapshotsCaptureFilesAndStartNewSandboxes) {
  Sandbox source = NewSandbox();
  ASSERT_TRUE(source.commands().Run("echo kept > /root/kept").ok());
  auto snapshot = source.CreateSnapshot("before");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->status.state, "Ready");
  EXPECT_EQ(snapshot->name, "before");
  EXPECT_EQ(snapshot->sandbox_id, source.id());

  opensandbox::SandboxManager manager(options_);
  auto got = manager.GetSnapshot(snapshot->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status.reason, "snapshot_ready");
  auto page = manager.ListSnapshots({.sandbox_id = source.id(), .states = {"ready"}});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->snapshots.size(), 1u);
  EXPECT_EQ(page->snapshots[0].id, snapshot->id);
  EXPECT_EQ(page->total_items, 1);

  SandboxSpec spec;
  spec.snapshot_id = snapshot->id;
  auto restored = Sandbox::Create("", spec, options_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto read = restored->commands().Run("cat /root/kept");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(Texts(read->logs.stdout_lines), ElementsAre("kept"));
  ASSERT_TRUE(restored->Kill().ok());

  ASSERT_TRUE(manager.DeleteSnapshot(snapshot->id).ok());
  EXPECT_EQ(manager.GetSnapshot(snapshot->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager.CreateSnapshot("no-such-sandbox").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(source.Kill().ok());
}

TEST_F(SdkTest, PausedSandboxResumesThroughTheStaticResume) {
  Sandbox sandbox = NewSandbox();
  ASSERT_TRUE(sandbox.Pause().ok());
  auto resumed = Sandbox::Resume(sandbox.id(), options_);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto execution = resumed->commands().Run("echo awake");
  ASSERT_TRUE(execution.ok()) << execution.status();
  EXPECT_THAT(Texts(execution->logs.stdout_lines), ElementsAre("awake"));
}

TEST_F(SdkTest, BadSpecsAreRefusedWithTheUpstreamCode) {
  SandboxSpec spec;
  spec.metadata = {{"opensandbox.io/reserved", "x"}};
  auto refused = Sandbox::Create("debian", spec, options_);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(opensandbox::GetErrorDetails(refused.status()).code,
            "SANDBOX::INVALID_METADATA_LABEL");

  SandboxSpec both;
  both.manual_cleanup = true;
  both.timeout = absl::Minutes(5);
  absl::Status contradiction = Sandbox::Create("debian", both, options_).status();
  EXPECT_EQ(contradiction.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(opensandbox::GetErrorDetails(contradiction).field, "timeout") << contradiction;

  // What osbd refuses names the field, for programs.
  SandboxSpec proxy_alone;
  proxy_alone.credential_proxy = true;
  absl::Status no_policy = Sandbox::Create("debian", proxy_alone, options_).status();
  EXPECT_EQ(no_policy.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(opensandbox::GetErrorDetails(no_policy).field, "credential_proxy") << no_policy;
}

}  // namespace
}  // namespace osb::test
