// osbctl as a user runs it: the real binary against a real osbd (osb::test::Stack), checked by
// its exit status, stdout and stderr; and osbctl starting osbd itself when none answers.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/harness.h"

namespace osb::test {
namespace {

// Runs osbctl under timeout(1), so a hang fails the test (status 124) instead of stalling it.
ProcessResult Osbctl(const std::vector<std::string>& args,
                     const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> argv = {"/usr/bin/timeout", "-k", "10", "180", BinDir() + "/osbctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  // The user's own osbctl.toml must not change what the tests see.
  std::vector<std::string> env = {"XDG_CONFIG_HOME=/nonexistent/osbctl-test-config"};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return RunProcess(argv, env);
}

std::string Describe(const ProcessResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\nstdout: ", r.out, "\nstderr: ", r.err);
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ProcessRunning(pid) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  if (ProcessRunning(pid)) ::kill(pid, SIGKILL);
}

// Stops what `osbctl` started on its own (osbd on `socket`, and the embedded osb-runtime that
// osbd started under `state_home`), sandboxes first, even when the test fails half way.
class StartedDaemonCleanup {
 public:
  StartedDaemonCleanup(std::string socket, std::string state_home)
      : socket_(std::move(socket)), runtime_dir_(std::move(state_home) + "/opensandbox/runtime") {}

  ~StartedDaemonCleanup() {
    for (pid_t pid : ProcessesMatching(socket_)) Stop(pid);
    auto ready = ReadFile(runtime_dir_ + "/ready.json");
    if (!ready.ok()) return;
    auto j = nlohmann::json::parse(*ready, nullptr, false);
    if (!j.is_object() || !j["address"].is_string() || !j["pid"].is_number_integer()) return;
    auto key = ReadFile(runtime_dir_ + "/api-key");
    httplib::Client client("http://" + j["address"].get<std::string>());
    client.set_default_headers(
        {{"OPEN-SANDBOX-API-KEY",
          key.ok() ? std::string(absl::StripAsciiWhitespace(*key)) : std::string()}});
    client.set_read_timeout(60, 0);
    if (auto list = client.Get("/v1/sandboxes?pageSize=200"); list && list->status == 200) {
      auto items = nlohmann::json::parse(list->body, nullptr, false);
      if (items.is_object()) {
        for (const auto& item : items.value("items", nlohmann::json::array())) {
          client.Delete(absl::StrCat("/v1/sandboxes/", item.value("id", "")));
        }
      }
    }
    Stop(j["pid"].get<pid_t>());
  }

 private:
  std::string socket_, runtime_dir_;
};

class OsbctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
  }

  // osbctl --socket <the stack's socket> args...
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", stack_->socket_path()});
    return Osbctl(args);
  }

  // Run, with `input` on osbctl's stdin (RunProcess gives it /dev/null).
  ProcessResult RunWithInput(const std::string& input, std::vector<std::string> args) {
    TempDir dir;
    const std::string stdin_path = dir.path() + "/stdin";
    EXPECT_TRUE(WriteFileAtomic(stdin_path, input, 0600).ok());
    args.insert(args.begin(),
                {"/bin/sh", "-c", "exec /usr/bin/timeout -k 10 180 \"$0\" \"$@\" < \"$STDIN_FILE\"",
                 BinDir() + "/osbctl", "--socket", stack_->socket_path()});
    return RunProcess(args, {"STDIN_FILE=" + stdin_path,
                             "XDG_CONFIG_HOME=/nonexistent/osbctl-test-config"});
  }

  // `sandbox create flags...`: the new sandbox's id, or "" (with a test failure).
  std::string NewSandbox(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), {"sandbox", "create"});
    ProcessResult created = Run(flags);
    EXPECT_EQ(created.exit_code, 0) << Describe(created);
    return created.exit_code == 0 ? std::string(absl::StripTrailingAsciiWhitespace(created.out))
                                  : "";
  }

  // `-o raw args...` as JSON (null, with a test failure, when it does not exit 0 with JSON).
  nlohmann::json RunJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "raw"});
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << Describe(r);
    return j.is_discarded() ? nlohmann::json() : j;
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(OsbctlTest, RunPassesOutputAndExitStatus) {
  ProcessResult r = Run({"run", "--", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "out\n") << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "err")) << Describe(r);
}

// Each -e takes one value, and the words after `--` are the command's, options included.
TEST_F(OsbctlTest, RepeatedFlagsStopAtTheCommand) {
  ProcessResult r =
      Run({"run", "-e", "A=1", "-e", "B=2", "--", "sh", "-c", "echo $A$B", "-x"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "12\n") << Describe(r);
}

TEST_F(OsbctlTest, FilesGoInAndComeOut) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  TempDir dir;
  const std::string local = dir.path() + "/in.txt", back = dir.path() + "/out.txt";
  ASSERT_TRUE(WriteFileAtomic(local, "line one\nline two\n", 0644).ok());

  ProcessResult up = Run({"file", "upload", id, local, "/work/in.txt", "--mode", "600"});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  ProcessResult cat = Run({"file", "cat", id, "/work/in.txt"});
  EXPECT_EQ(cat.exit_code, 0) << Describe(cat);
  EXPECT_EQ(cat.out, "line one\nline two\n");
  ProcessResult ls = Run({"file", "ls", id, "/work"});
  EXPECT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_TRUE(absl::StrContains(ls.out, "\"/work/in.txt\"")) << ls.out;
  EXPECT_TRUE(absl::StrContains(ls.out, "\"mode\": 384")) << ls.out;  // 0600
  ProcessResult replaced = Run({"file", "replace", id, "/work/in.txt", "line", "row"});
  EXPECT_EQ(replaced.out, "2\n") << Describe(replaced);
  ProcessResult down = Run({"file", "download", id, "/work/in.txt", back});
  ASSERT_EQ(down.exit_code, 0) << Describe(down);
  EXPECT_EQ(*ReadFile(back), "row one\nrow two\n");

  ProcessResult rm = Run({"file", "rm", id, "/work/in.txt"});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  ProcessResult gone = Run({"file", "cat", id, "/work/in.txt"});
  EXPECT_EQ(gone.exit_code, 125) << Describe(gone);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << Describe(gone);
  // A failed download leaves no partial file behind.
  ProcessResult failed = Run({"file", "download", id, "/work/in.txt", dir.path() + "/none"});
  EXPECT_EQ(failed.exit_code, 125) << Describe(failed);
  EXPECT_FALSE(ReadFile(dir.path() + "/none").ok());
  EXPECT_FALSE(ReadFile(dir.path() + "/none.osbctl-part").ok());
  ProcessResult bad_mode = Run({"file", "mkdir", id, "/x", "--mode", "9"});
  EXPECT_EQ(bad_mode.exit_code, 2) << Describe(bad_mode);
  ProcessResult unknown = Run({"command", "status", id, "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(unknown.exit_code, 125) << Describe(unknown);
  EXPECT_TRUE(absl::StrContains(unknown.err, "NOT_FOUND")) << Describe(unknown);
}

TEST_F(OsbctlTest, SessionsCarryDirectoryAndExportsAcrossInvocations) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult session = Run({"command", "session", "create", id, "--cwd", "/tmp"});
  ASSERT_EQ(session.exit_code, 0) << Describe(session);
  const std::string sid(absl::StripTrailingAsciiWhitespace(session.out));
  ASSERT_FALSE(sid.empty());

  ProcessResult first =
      Run({"command", "session", "run", id, sid, "--", "export N=5; cd /usr; echo err >&2"});
  EXPECT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_EQ(first.out, "err\n") << "stderr is merged into stdout";
  ProcessResult second = Run({"command", "session", "run", id, sid, "--", "echo $N; pwd; exit 4"});
  EXPECT_EQ(second.exit_code, 4) << Describe(second);
  EXPECT_EQ(second.out, "5\n/usr\n");

  ProcessResult rm = Run({"command", "session", "delete", id, sid});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  ProcessResult again = Run({"command", "session", "delete", id, sid});
  EXPECT_EQ(again.exit_code, 125) << Describe(again);
  EXPECT_TRUE(absl::StrContains(again.err, "NOT_FOUND")) << Describe(again);
}

TEST_F(OsbctlTest, CodeContextsRunCellsAcrossInvocations) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult context = Run({"-o", "raw", "code", "context", "create", id, "python"});
  ASSERT_EQ(context.exit_code, 0) << Describe(context);
  const std::string ctx = nlohmann::json::parse(context.out, nullptr, false).value("id", "");
  ASSERT_FALSE(ctx.empty()) << context.out;

  ProcessResult set = Run({"code", "run", id, "--context", ctx, "--", "x = 6 * 7; print('set')"});
  EXPECT_EQ(set.exit_code, 0) << Describe(set);
  EXPECT_EQ(set.out, "set\n");
  ProcessResult value = Run({"code", "run", id, "--context", ctx, "--", "x"});
  EXPECT_EQ(value.exit_code, 0) << Describe(value);
  EXPECT_EQ(value.out, "42\n") << "the result prints on stdout";
  ProcessResult raised = Run({"code", "run", id, "--context", ctx, "--", "int('seven')"});
  EXPECT_EQ(raised.exit_code, 1) << Describe(raised);
  EXPECT_TRUE(absl::StrContains(raised.err, "ValueError")) << Describe(raised);
  ProcessResult bash = Run({"code", "run", id, "--language", "bash", "--", "echo $((2 + 3))"});
  EXPECT_EQ(bash.exit_code, 0) << Describe(bash);
  EXPECT_EQ(bash.out, "5\n");
  ProcessResult shell = Run({"code", "run", id, "--", "echo plain; exit 3"});
  EXPECT_EQ(shell.exit_code, 3) << "a shell run exits with its status: " << Describe(shell);
  EXPECT_EQ(shell.out, "plain\n");

  ProcessResult list = Run({"code", "context", "list", id, "--language", "python"});
  EXPECT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_TRUE(absl::StrContains(list.out, ctx)) << list.out;
  EXPECT_EQ(Run({"code", "interrupt", id, ctx}).exit_code, 0) << "nothing runs: a no-op";
  EXPECT_EQ(Run({"code", "context", "delete", id, ctx}).exit_code, 0);
  ProcessResult gone = Run({"code", "context", "get", id, ctx});
  EXPECT_EQ(gone.exit_code, 125) << Describe(gone);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << Describe(gone);
  EXPECT_EQ(Run({"code", "context", "delete", id, "--language", "bash"}).exit_code, 0);
  EXPECT_EQ(Run({"code", "context", "delete", id}).exit_code, 2) << "an id or --language";
  ProcessResult cobol = Run({"code", "context", "create", id, "cobol"});
  EXPECT_EQ(cobol.exit_code, 125) << Describe(cobol);
  EXPECT_TRUE(absl::StrContains(cobol.err, "INVALID_ARGUMENT")) << Describe(cobol);
}

TEST_F(OsbctlTest, TheConfigFileGivesDefaultsAndABadOneIsAClearError) {
  char dir_template[] = "/tmp/osbctl-config-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string config = dir + "/osbctl.toml";
  ASSERT_TRUE(WriteFileAtomic(config,
                              absl::StrCat("# defaults\nsocket = \"", stack_->socket_path(),
                                           "\"\noutput = \"raw\"\nimage = \"from-config\"\n"
                                           "timeout = 900\n"),
                              0600)
                  .ok());
  // No --socket: the config file's is used.
  ProcessResult created = Osbctl({"sandbox", "create"}, {"OSBCTL_CONFIG=" + config});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult got = Osbctl({"sandbox", "get", id}, {"OSBCTL_CONFIG=" + config});
  ASSERT_EQ(got.exit_code, 0) << Describe(got);
  EXPECT_EQ(std::count(got.out.begin(), got.out.end(), '\n'), 1) << "raw: one line" << got.out;
  auto sandbox = nlohmann::json::parse(got.out, nullptr, false);
  EXPECT_EQ(sandbox.value("image", ""), "from-config") << got.out;
  ProcessResult flag = Osbctl({"-o", "json", "sandbox", "get", id}, {"OSBCTL_CONFIG=" + config});
  EXPECT_GT(std::count(flag.out.begin(), flag.out.end(), '\n'), 1) << "a flag wins" << flag.out;

  struct Bad {
    std::string text, says;
  };
  for (const Bad& bad : std::vector<Bad>{{"colour = \"red\"\n", "unknown key 'colour'"},
                                         {"output = \"xml\"\n", "'output' must be"},
                                         {"timeout = 5\n", "'timeout' must be"},
                                         {"socket = \n", "1:"}}) {
    ASSERT_TRUE(WriteFileAtomic(config, bad.text, 0600).ok());
    ProcessResult r = Osbctl({"daemon", "status"}, {"OSBCTL_CONFIG=" + config});
    EXPECT_EQ(r.exit_code, 2) << bad.text << Describe(r);
    EXPECT_TRUE(absl::StrContains(r.err, config)) << Describe(r);
    EXPECT_TRUE(absl::StrContains(r.err, bad.says)) << Describe(r);
  }
  ProcessResult missing = Osbctl({"daemon", "status"}, {"OSBCTL_CONFIG=" + dir + "/none.toml"});
  EXPECT_EQ(missing.exit_code, 2) << Describe(missing);
  EXPECT_EQ(RemoveTree(dir), absl::OkStatus());
}

// What bash completes after sourcing `osbctl completion SHELL`, for the words typed so far (the
// last one being completed).
std::string Completions(const std::string& shell, const std::string& words) {
  const std::string script = "/tmp/osbctl-completion-" + std::to_string(::getpid()) + ".sh";
  ProcessResult made = Osbctl({"completion", shell});
  EXPECT_EQ(made.exit_code, 0) << Describe(made);
  EXPECT_TRUE(WriteFileAtomic(script, made.out, 0600).ok());
  // zsh's script starts with its bashcompinit; bash has neither autoload nor needs it.
  ProcessResult r = RunProcess(
      {"/bin/bash", "-c",
       absl::StrCat("autoload() { :; }; bashcompinit() { :; }; source ", script,
                    "; COMP_WORDS=(", words, "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); ",
                    "_osbctl; echo \"${COMPREPLY[*]}\"")},
      {});
  (void)RemoveTree(script);
  return std::string(absl::StripTrailingAsciiWhitespace(r.out));
}

TEST(OsbctlCompletion, CompletesSubcommandsAndFlagsFromTheCommandTree) {
  EXPECT_EQ(Completions("bash", "osbctl sandbox cr"), "create");
  EXPECT_EQ(Completions("bash", "osbctl --socket /x sandbox create --im"), "--image");
  EXPECT_EQ(Completions("bash", "osbctl code context ''"), "create list get delete --help -h");
  EXPECT_EQ(Completions("bash", "osbctl temp"), "template");
  EXPECT_EQ(Completions("zsh", "osbctl pool acq"), "acquire");
  EXPECT_EQ(Osbctl({"completion", "fish"}).exit_code, 2) << "bash or zsh";
}

TEST_F(OsbctlTest, UploadsAndDownloadsShowProgressOnATerminalOnly) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  TempDir dir;
  const std::string local = dir.path() + "/data.bin";
  ASSERT_TRUE(WriteFileAtomic(local, std::string(3 << 20, 'x'), 0600).ok());
  // Not a terminal: nothing but the result.
  ProcessResult quiet = Run({"file", "upload", id, local, "/tmp/data.bin"});
  EXPECT_EQ(quiet.exit_code, 0) << Describe(quiet);
  EXPECT_EQ(quiet.err, "");
  // On a terminal (script(1) gives osbctl a pty): the byte count, the total and 100 %.
  const std::string osbctl = absl::StrCat(BinDir(), "/osbctl --socket ", stack_->socket_path());
  ProcessResult up = RunProcess({"/usr/bin/script", "-qec",
                                 absl::StrCat(osbctl, " file upload ", id, " ", local,
                                              " /tmp/data2.bin"),
                                 "/dev/null"},
                                {"XDG_CONFIG_HOME=/nonexistent/osbctl-test-config"});
  EXPECT_EQ(up.exit_code, 0) << Describe(up);
  EXPECT_TRUE(absl::StrContains(up.out, "3.0 MiB / 3.0 MiB  100%")) << Describe(up);
  ProcessResult down = RunProcess({"/usr/bin/script", "-qec",
                                   absl::StrCat(osbctl, " file download ", id, " /tmp/data2.bin ",
                                                dir.path(), "/back.bin"),
                                   "/dev/null"},
                                  {"XDG_CONFIG_HOME=/nonexistent/osbctl-test-config"});
  EXPECT_EQ(down.exit_code, 0) << Describe(down);
  EXPECT_TRUE(absl::StrContains(down.out, "/tmp/data2.bin  3.0 MiB / 3.0 MiB  100%"))
      << Describe(down);
  auto back = ReadFile(dir.path() + "/back.bin");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 3u << 20);
}

TEST_F(OsbctlTest, SandboxMetricsEndpointAndRenew) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult metrics = Run({"sandbox", "metrics", id});
  EXPECT_EQ(metrics.exit_code, 0) << Describe(metrics);
  EXPECT_TRUE(absl::StrContains(metrics.out, "\"cpu_count\"")) << metrics.out;
  EXPECT_TRUE(absl::StrContains(metrics.out, "\"memory_used_mib\"")) << metrics.out;
  ProcessResult unknown = Run({"sandbox", "metrics", "no-such-sandbox"});
  EXPECT_EQ(unknown.exit_code, 125) << Describe(unknown);
  ProcessResult endpoint = Run({"sandbox", "endpoint", id, "8080"});
  EXPECT_EQ(endpoint.exit_code, 0) << Describe(endpoint);
  EXPECT_TRUE(absl::StrContains(endpoint.out, "/proxy/8080")) << endpoint.out;
  // `sandbox create` makes a sandbox with a timeout: it can be renewed.
  ProcessResult renewed = Run({"sandbox", "renew", id, "--timeout", "3600"});
  EXPECT_EQ(renewed.exit_code, 0) << Describe(renewed);
  EXPECT_TRUE(absl::StrContains(renewed.out, "T")) << renewed.out;
  ProcessResult bad = Run({"sandbox", "renew", id, "--timeout", "-5"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
}

TEST_F(OsbctlTest, TemplatesAndPools) {
  ProcessResult defined = Run({"template", "define", "jobs", "--image", "host", "--timeout", "600",
                               "-e", "ROLE=job", "--metadata", "team=ci"});
  ASSERT_EQ(defined.exit_code, 0) << Describe(defined);
  auto t = nlohmann::json::parse(defined.out, nullptr, false);
  ASSERT_TRUE(t.is_object()) << defined.out;
  EXPECT_EQ(t["env"]["ROLE"], "job");
  EXPECT_EQ(Run({"template", "define", "bad", "-e", "NOEQUALS"}).exit_code, 2);
  ProcessResult listed = Run({"template", "list"});
  EXPECT_TRUE(absl::StrContains(listed.out, "\"jobs\"")) << Describe(listed);

  ASSERT_EQ(Run({"pool", "define", "jobs", "--template", "jobs", "--min-idle", "1"}).exit_code, 0);
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    auto stats = nlohmann::json::parse(Run({"pool", "stats", "jobs"}).out, nullptr, false);
    ready = stats.is_object() && stats.value("idle", 0) == 1;
    if (!ready) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(ready);
  ProcessResult acquired = Run({"pool", "acquire", "jobs", "--fail-fast"});
  ASSERT_EQ(acquired.exit_code, 0) << Describe(acquired);
  const std::string id(absl::StripTrailingAsciiWhitespace(acquired.out));
  ProcessResult ran = Run({"command", "run", id, "--", "echo $ROLE"});
  EXPECT_EQ(ran.exit_code, 0) << Describe(ran);
  EXPECT_EQ(ran.out, "job\n");
  ProcessResult released = Run({"pool", "release", "jobs", id});
  EXPECT_EQ(released.exit_code, 0) << Describe(released);
  EXPECT_EQ(Run({"sandbox", "get", id}).exit_code, 125) << "released without --reuse: killed";

  // `run --pool` takes the pool's ready sandbox, runs the command in it and ends it.
  auto pool_stats = [&] {
    return nlohmann::json::parse(Run({"pool", "stats", "jobs"}).out, nullptr, false);
  };
  for (int i = 0; i < 300 && pool_stats().value("idle", 0) != 1; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(pool_stats().value("idle", 0), 1);
  std::vector<std::string> before;
  const nlohmann::json sandboxes = nlohmann::json::parse(Run({"sandbox", "list"}).out);
  for (const auto& s : sandboxes["sandboxes"]) before.push_back(s["id"]);
  ProcessResult pooled = Run({"run", "--pool", "jobs", "--", "echo $ROLE; exit 3"});
  EXPECT_EQ(pooled.exit_code, 3) << Describe(pooled);
  EXPECT_EQ(pooled.out, "job\n");
  EXPECT_EQ(pool_stats().value("warm_acquires", ""), "2") << "the run took the warm sandbox";
  int gone_after_run = 0;
  std::string seen;
  for (const std::string& before_id : before) {
    ProcessResult got = Run({"sandbox", "get", before_id});
    seen += Describe(got);
    if (got.exit_code == 125) ++gone_after_run;
  }
  EXPECT_EQ(gone_after_run, 1) << "the sandbox the run used is killed: " << seen;
  EXPECT_EQ(Run({"run", "--pool", "jobs", "--image", "host", "--", "true"}).exit_code, 2)
      << "the pool's template decides the image";
  ProcessResult no_pool = Run({"run", "--pool", "nope", "--", "true"});
  EXPECT_EQ(no_pool.exit_code, 125) << Describe(no_pool);
  EXPECT_TRUE(absl::StrContains(no_pool.err, "NOT_FOUND")) << no_pool.err;

  EXPECT_EQ(Run({"template", "delete", "jobs"}).exit_code, 125) << "a pool uses it";
  EXPECT_EQ(Run({"pool", "delete", "jobs"}).exit_code, 0);
  EXPECT_EQ(Run({"template", "delete", "jobs"}).exit_code, 0);
  ProcessResult gone = Run({"template", "get", "jobs"});
  EXPECT_EQ(gone.exit_code, 125);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << gone.err;
}

TEST_F(OsbctlTest, SandboxHealthSaysWhetherItRunsCommands) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult healthy = Run({"sandbox", "health", id});
  EXPECT_EQ(healthy.exit_code, 0) << Describe(healthy);
  EXPECT_EQ(healthy.out, "healthy\n");
  ASSERT_EQ(Run({"sandbox", "pause", id}).exit_code, 0);
  ProcessResult paused = Run({"sandbox", "health", id});
  EXPECT_EQ(paused.exit_code, 1) << Describe(paused);
  EXPECT_EQ(paused.out, "unhealthy: the sandbox is Paused\n");
  EXPECT_EQ(Run({"sandbox", "health", "no-such-sandbox"}).exit_code, 125);
}

TEST_F(OsbctlTest, ResultsPrintAsTableYamlOrRawJson) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ProcessResult table = Run({"-o", "table", "sandbox", "list"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_TRUE(absl::StartsWith(table.out, "id ")) << table.out;
  EXPECT_TRUE(absl::StrContains(table.out, "\n" + id + " ")) << table.out;
  ProcessResult yaml = Run({"-o", "yaml", "sandbox", "get", id});
  ASSERT_EQ(yaml.exit_code, 0) << Describe(yaml);
  EXPECT_TRUE(absl::StartsWith(yaml.out, "\"id\": \"" + id + "\"\n")) << yaml.out;
  ProcessResult raw = Run({"-o", "raw", "sandbox", "get", id});
  EXPECT_EQ(std::count(raw.out.begin(), raw.out.end(), '\n'), 1) << raw.out;
  EXPECT_EQ(nlohmann::json::parse(raw.out)["id"], id);
  EXPECT_EQ(Run({"-o", "xml", "sandbox", "list"}).exit_code, 2);
}

TEST_F(OsbctlTest, DaemonStatsCountCallsByMethodAndOutcome) {
  ASSERT_EQ(Run({"sandbox", "get", "no-such-sandbox"}).exit_code, 125);
  // Long enough for osbd's own keep-awake calls (every 250 ms), which are not a client's.
  absl::SleepFor(absl::Milliseconds(600));
  ProcessResult stats = Run({"daemon", "stats"});
  ASSERT_EQ(stats.exit_code, 0) << Describe(stats);
  auto j = nlohmann::json::parse(stats.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << stats.out;
  bool found = false;
  for (const auto& op : j.value("operations", nlohmann::json::array())) {
    EXPECT_FALSE(absl::StrContains(op.value("operation", ""), "KeepAwake")) << op.dump();
    if (op.value("operation", "") != "/opensandbox.v1.Sandboxes/Get") continue;
    found = true;
    EXPECT_GE(std::stoi(op["errors"].get<std::string>()), 1) << op.dump();
    EXPECT_TRUE(op["outcomes"].contains("NOT_FOUND")) << op.dump();
    EXPECT_TRUE(op["latency"].contains("p50")) << op.dump();
  }
  EXPECT_TRUE(found) << stats.out;
  EXPECT_TRUE(j.contains("uptime")) << stats.out;
}

TEST_F(OsbctlTest, CommandBatchRunsTheJobsOfAFile) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  TempDir dir;
  const std::string file = dir.path() + "/batch.json";
  ASSERT_TRUE(WriteFileAtomic(file,
                              absl::StrCat(R"({"target": {"sandbox_id": ")", id, R"("}, "jobs": [)",
                                           R"({"id": "a", "command": {"command": "echo A"}},)",
                                           R"({"id": "b", "command": {"command": "exit 4"}}]})"),
                              0600)
                  .ok());
  ProcessResult ran = Run({"command", "batch", file});
  EXPECT_EQ(ran.exit_code, 1) << "a job failed: " << Describe(ran);
  std::vector<std::string> lines =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(ran.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << ran.out;
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["job_id"] == "a") {
      EXPECT_EQ(j["success"], true);
    } else {
      EXPECT_EQ(j["exit_code"], 4);
    }
  }
  ASSERT_TRUE(WriteFileAtomic(file, "{not json", 0600).ok());
  EXPECT_EQ(Run({"command", "batch", file}).exit_code, 2);

  // The same in YAML, with a code cell.
  const std::string yaml = dir.path() + "/batch.yaml";
  ASSERT_TRUE(WriteFileAtomic(yaml,
                              absl::StrCat("target:\n  sandbox_id: ", id,
                                           "\nmax_parallel: 2\njobs:\n"
                                           "  - id: shell\n    command:\n      command: echo Y\n"
                                           "  - id: cell\n    code:\n      code: \"6 * 7\"\n"),
                              0600)
                  .ok());
  ProcessResult from_yaml = Run({"command", "batch", yaml});
  EXPECT_EQ(from_yaml.exit_code, 0) << Describe(from_yaml);
  EXPECT_TRUE(absl::StrContains(from_yaml.out, R"("stdout":"WQo=")")) << from_yaml.out;
  EXPECT_TRUE(absl::StrContains(from_yaml.out, R"("result_text":"42")")) << from_yaml.out;
  ASSERT_TRUE(WriteFileAtomic(yaml, "jobs:\n  - id: [unclosed\n", 0600).ok());
  ProcessResult bad_yaml = Run({"command", "batch", yaml});
  EXPECT_EQ(bad_yaml.exit_code, 2) << Describe(bad_yaml);
  EXPECT_TRUE(absl::StrContains(bad_yaml.err, "line ")) << Describe(bad_yaml);
}

TEST_F(OsbctlTest, ALeaseTiesTheSandboxToAProcess) {
  pid_t holder = ::fork();
  if (holder == 0) {
    ::execl("/bin/sleep", "sleep", "300", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(holder, 0);
  ProcessResult created = Run({"sandbox", "create", "--lease-pid", std::to_string(holder)});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  EXPECT_EQ(Run({"sandbox", "get", id}).exit_code, 0);
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  const absl::Time killed = absl::Now();
  int code = 0;
  for (int i = 0; i < 100 && code == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    code = Run({"sandbox", "get", id}).exit_code;
  }
  EXPECT_EQ(code, 125) << "the sandbox outlived its lease holder";
  // osbctl's own start (a few ms a run) counts here too.
  EXPECT_LT(absl::Now() - killed, absl::Seconds(2)) << "issue 5: killed within 2 s";
  ProcessResult bad = Run({"sandbox", "create", "--lease-pid", "0"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
}

TEST_F(OsbctlTest, ARunCutShortStillEndsItsSandbox) {
  const std::string log = stack_->dir() + "/run.log";
  pid_t run = Spawn({BinDir() + "/osbctl", "--socket", stack_->socket_path(), "run", "--",
                     "echo started; sleep 300"},
                    log);
  ASSERT_GT(run, 0);
  auto client = stack_->RuntimeClient();
  auto listed = [&]() -> std::size_t {
    auto list = client->Get("/v1/sandboxes?state=Running");
    if (!list || list->status != 200) return 0;
    return nlohmann::json::parse(list->body).value("items", nlohmann::json::array()).size();
  };
  for (int i = 0; i < 300 && ReadFile(log).value_or("").find("started") == std::string::npos;
       ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(listed(), 1u) << ReadFile(log).value_or("");
  ::kill(run, SIGKILL);
  ::waitpid(run, nullptr, 0);
  std::size_t left = 1;
  for (int i = 0; i < 50 && left != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    left = listed();
  }
  EXPECT_EQ(left, 0u) << "the sandbox outlived the osbctl run that made it";
}

TEST_F(OsbctlTest, RunExitsZeroOnSuccess) {
  ProcessResult r = Run({"run", "--", "true"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
}

TEST_F(OsbctlTest, RunOfAMissingCommandExits127) {
  ProcessResult r = Run({"run", "--", "definitely-not-a-command"});
  EXPECT_EQ(r.exit_code, 127) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "definitely-not-a-command")) << Describe(r);
}

TEST_F(OsbctlTest, RunQuotesEachArgument) {
  ProcessResult r = Run({"run", "--", "echo", "a b", "c$d"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "a b c$d\n") << Describe(r);
}

TEST_F(OsbctlTest, SandboxCreateGetKill) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ASSERT_FALSE(id.empty()) << Describe(created);
  EXPECT_FALSE(absl::StrContains(id, "\n")) << Describe(created);

  ProcessResult got = Run({"sandbox", "get", id});
  ASSERT_EQ(got.exit_code, 0) << Describe(got);
  auto j = nlohmann::json::parse(got.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << Describe(got);
  EXPECT_EQ(j.value("id", ""), id) << Describe(got);
  ASSERT_TRUE(j.contains("status")) << Describe(got);
  EXPECT_EQ(j["status"].value("state", ""), "Running") << Describe(got);

  ProcessResult killed = Run({"sandbox", "kill", id});
  EXPECT_EQ(killed.exit_code, 0) << Describe(killed);

  ProcessResult again = Run({"sandbox", "kill", id});
  EXPECT_EQ(again.exit_code, 125) << Describe(again);  // osbctl's "the tool failed" status
  EXPECT_TRUE(absl::StrContains(again.err, "NOT_FOUND")) << Describe(again);
  EXPECT_EQ(again.out, "") << Describe(again);
}

TEST_F(OsbctlTest, SnapshotsAreTakenRestoredListedAndDeleted) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  ASSERT_EQ(Run({"command", "run", id, "--", "echo kept > /root/f"}).exit_code, 0);

  ProcessResult snapped = Run({"snapshot", "create", id, "--name", "v1"});
  ASSERT_EQ(snapped.exit_code, 0) << Describe(snapped);
  auto snapshot = nlohmann::json::parse(snapped.out, nullptr, false);
  ASSERT_TRUE(snapshot.is_object()) << Describe(snapped);
  EXPECT_EQ(snapshot["status"].value("state", ""), "Ready") << Describe(snapped);
  const std::string snapshot_id = snapshot.value("id", "");

  ProcessResult restored = Run({"sandbox", "create", "--snapshot", snapshot_id});
  ASSERT_EQ(restored.exit_code, 0) << Describe(restored);
  const std::string copy(absl::StripTrailingAsciiWhitespace(restored.out));
  ProcessResult read = Run({"command", "run", copy, "--", "cat /root/f"});
  EXPECT_EQ(read.out, "kept\n") << Describe(read);

  ProcessResult listed = Run({"snapshot", "list", "--sandbox", id});
  ASSERT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_TRUE(absl::StrContains(listed.out, snapshot_id)) << Describe(listed);
  EXPECT_EQ(Run({"snapshot", "delete", snapshot_id}).exit_code, 0);
  ProcessResult gone = Run({"snapshot", "get", snapshot_id});
  EXPECT_EQ(gone.exit_code, 125) << Describe(gone);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << Describe(gone);
}

// No Stack here: osbctl must bring up osbd (and osbd its runtime) on paths of our choosing.
TEST_F(OsbctlTest, SandboxListPauseResume) {
  ProcessResult created = Run({"sandbox", "create"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));

  auto state_of = [&](const std::string& sandbox_id) {
    ProcessResult got = Run({"sandbox", "get", sandbox_id});
    auto j = nlohmann::json::parse(got.out, nullptr, false);
    return j.is_object() && j.contains("status") ? j["status"].value("state", "") : "";
  };
  ProcessResult listed = Run({"sandbox", "list", "--state", "Running"});
  ASSERT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_TRUE(absl::StrContains(listed.out, id)) << Describe(listed);

  ProcessResult paused = Run({"sandbox", "pause", id});
  ASSERT_EQ(paused.exit_code, 0) << Describe(paused);
  EXPECT_EQ(state_of(id), "Paused");
  ProcessResult listed_running = Run({"sandbox", "list", "--state", "Running"});
  EXPECT_FALSE(absl::StrContains(listed_running.out, id)) << Describe(listed_running);

  ProcessResult resumed = Run({"sandbox", "resume", id});
  ASSERT_EQ(resumed.exit_code, 0) << Describe(resumed);
  EXPECT_EQ(state_of(id), "Running");
  ProcessResult resumed_again = Run({"sandbox", "resume", id});
  EXPECT_EQ(resumed_again.exit_code, 125) << Describe(resumed_again);
}

TEST_F(OsbctlTest, DaemonStatusAndStop) {
  ProcessResult status = Run({"daemon", "status"});
  ASSERT_EQ(status.exit_code, 0) << Describe(status);
  auto j = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << Describe(status);
  EXPECT_EQ(j.value("api_version", ""), "v1") << Describe(status);
  EXPECT_EQ(j.value("embedded_runtime_address", ""), stack_->runtime_address()) << Describe(status);

  ProcessResult stopped = Run({"daemon", "stop"});
  ASSERT_EQ(stopped.exit_code, 0) << Describe(stopped);
  // Gone: status now reports no daemon instead of starting one.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  ProcessResult after;
  do {
    after = Run({"daemon", "status"});
  } while (after.exit_code == 0 && absl::Now() < deadline);
  EXPECT_EQ(after.exit_code, 125) << Describe(after);
  EXPECT_TRUE(absl::StrContains(after.err, "no osbd answers")) << Describe(after);
  ProcessResult stop_again = Run({"daemon", "stop"});
  EXPECT_EQ(stop_again.exit_code, 0) << Describe(stop_again);
  EXPECT_TRUE(absl::StrContains(stop_again.err, "not running")) << Describe(stop_again);
}

TEST_F(OsbctlTest, FileWriteStoresStdinAndMvMovesIt) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ProcessResult wrote =
      RunWithInput("hello\n", {"file", "write", id, "/work/w.txt", "--mode", "640"});
  ASSERT_EQ(wrote.exit_code, 0) << Describe(wrote);
  EXPECT_EQ(wrote.out, "") << Describe(wrote);
  EXPECT_EQ(Run({"file", "cat", id, "/work/w.txt"}).out, "hello\n");
  nlohmann::json info = RunJson({"file", "info", id, "/work/w.txt"});
  EXPECT_EQ(info["infos"]["/work/w.txt"].value("mode", 0), 0640) << info.dump();

  ProcessResult moved = Run({"file", "mv", id, "/work/w.txt", "/work/moved.txt"});
  EXPECT_EQ(moved.exit_code, 0) << Describe(moved);
  EXPECT_EQ(Run({"file", "cat", id, "/work/moved.txt"}).out, "hello\n");
  ProcessResult old = Run({"file", "cat", id, "/work/w.txt"});
  EXPECT_EQ(old.exit_code, 125) << Describe(old);
  EXPECT_TRUE(absl::StrContains(old.err, "NOT_FOUND")) << Describe(old);
  ProcessResult missing = Run({"file", "mv", id, "/work/none", "/work/x"});
  EXPECT_EQ(missing.exit_code, 125) << Describe(missing);
  EXPECT_TRUE(absl::StrContains(missing.err, "NOT_FOUND")) << Describe(missing);
  ProcessResult bad_mode = RunWithInput("x", {"file", "write", id, "/work/y", "--mode", "rw"});
  EXPECT_EQ(bad_mode.exit_code, 2) << Describe(bad_mode);
}

TEST_F(OsbctlTest, FileInfoChmodSearchAndRmdir) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Run({"file", "mkdir", id, "/work/tree/sub"}).exit_code, 0);
  for (const char* path : {"/work/tree/a.py", "/work/tree/b.txt", "/work/tree/sub/c.py"}) {
    ProcessResult wrote = RunWithInput("x\n", {"file", "write", id, path});
    ASSERT_EQ(wrote.exit_code, 0) << path << Describe(wrote);
  }

  nlohmann::json info = RunJson({"file", "info", id, "/work/tree/a.py", "/work/tree/sub"});
  EXPECT_EQ(info["infos"]["/work/tree/a.py"].value("type", ""), "FILE_TYPE_FILE") << info.dump();
  EXPECT_EQ(info["infos"]["/work/tree/a.py"].value("size", ""), "2") << info.dump();
  EXPECT_EQ(info["infos"]["/work/tree/sub"].value("type", ""), "FILE_TYPE_DIRECTORY")
      << info.dump();

  ProcessResult chmod = Run({"file", "chmod", id, "/work/tree/a.py", "--mode", "600"});
  EXPECT_EQ(chmod.exit_code, 0) << Describe(chmod);
  info = RunJson({"file", "info", id, "/work/tree/a.py"});
  EXPECT_EQ(info["infos"]["/work/tree/a.py"].value("mode", 0), 0600) << info.dump();
  EXPECT_EQ(Run({"file", "chmod", id, "/work/tree/a.py", "--mode", "999"}).exit_code, 2);

  nlohmann::json found = RunJson({"file", "search", id, "/work/tree", "--pattern", "*.py"});
  std::vector<std::string> paths;
  for (const auto& file : found.value("files", nlohmann::json::array())) {
    paths.push_back(file.value("path", ""));
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/work/tree/a.py", "/work/tree/sub/c.py"}))
      << found.dump();

  ProcessResult rmdir = Run({"file", "rmdir", id, "/work/tree"});
  EXPECT_EQ(rmdir.exit_code, 0) << Describe(rmdir);
  ProcessResult gone = Run({"file", "info", id, "/work/tree"});
  EXPECT_EQ(gone.exit_code, 125) << Describe(gone);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << Describe(gone);
}

TEST_F(OsbctlTest, BackgroundCommandLogsResumeAtTheCursorAndInterruptStopsIt) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ProcessResult started = Run(
      {"command", "run", "--background", id, "--", "printf 'first\\nsecond\\n'; sleep 300"});
  ASSERT_EQ(started.exit_code, 0) << Describe(started);
  const std::string command_id(absl::StripTrailingAsciiWhitespace(started.out));
  ASSERT_EQ(command_id.size(), 32u) << "only the command's id: " << Describe(started);

  ProcessResult logs;
  for (int i = 0; i < 100; ++i) {
    logs = Run({"command", "logs", id, command_id});
    if (logs.out == "first\nsecond\n") break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(logs.exit_code, 0) << Describe(logs);
  EXPECT_EQ(logs.out, "first\nsecond\n") << Describe(logs);
  EXPECT_EQ(logs.err, "osbctl: next cursor 13\n") << Describe(logs);
  ProcessResult rest = Run({"command", "logs", id, command_id, "--cursor", "6"});
  EXPECT_EQ(rest.exit_code, 0) << Describe(rest);
  EXPECT_EQ(rest.out, "second\n") << Describe(rest);
  EXPECT_EQ(rest.err, "osbctl: next cursor 13\n") << Describe(rest);
  EXPECT_EQ(RunJson({"command", "status", id, command_id}).value("running", false), true);

  ProcessResult interrupted = Run({"command", "interrupt", id, command_id});
  EXPECT_EQ(interrupted.exit_code, 0) << Describe(interrupted);
  nlohmann::json status;
  for (int i = 0; i < 100; ++i) {
    status = RunJson({"command", "status", id, command_id});
    if (!status.value("running", false)) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(status.value("running", false)) << status.dump();
  EXPECT_EQ(status.value("exit_code", 0), -1) << "killed by a signal: " << status.dump();
  ProcessResult unknown = Run({"command", "logs", id, "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(unknown.exit_code, 125) << Describe(unknown);
}

TEST_F(OsbctlTest, MetricsWatchStopsAfterCountSamples) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ProcessResult watched = Run({"-o", "raw", "sandbox", "metrics", id, "--watch", "--count", "2"});
  EXPECT_EQ(watched.exit_code, 0) << Describe(watched);
  EXPECT_EQ(watched.err, "") << Describe(watched);
  std::vector<std::string> lines =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(watched.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << Describe(watched);
  for (const auto& line : lines) {
    auto sample = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(sample.is_object() && sample.contains("cpu_count")) << line;
  }
  EXPECT_EQ(Run({"sandbox", "metrics", id, "--count", "2"}).exit_code, 2) << "needs --watch";
  EXPECT_EQ(Run({"sandbox", "metrics", id, "--watch", "--count", "0"}).exit_code, 2);
}

TEST_F(OsbctlTest, PoolListShowsEachPoolAndItsTemplate) {
  EXPECT_EQ(RunJson({"pool", "list"}), (nlohmann::json{{"pools", nlohmann::json::array()}}))
      << "no pools: an empty list, not {}";
  ASSERT_EQ(Run({"template", "define", "quiet", "--image", "host"}).exit_code, 0);
  ASSERT_EQ(Run({"pool", "define", "idle", "--template", "quiet", "--min-idle", "0"}).exit_code,
            0);
  nlohmann::json listed = RunJson({"pool", "list"});
  ASSERT_EQ(listed.value("pools", nlohmann::json::array()).size(), 1u) << listed.dump();
  EXPECT_EQ(listed["pools"][0].value("name", ""), "idle") << listed.dump();
  EXPECT_EQ(listed["pools"][0].value("template", ""), "quiet") << listed.dump();
  ProcessResult table = Run({"-o", "table", "pool", "list"});
  EXPECT_TRUE(absl::StartsWith(table.out, "name ")) << table.out;
  EXPECT_TRUE(absl::StrContains(table.out, "\nidle ")) << table.out;
  EXPECT_EQ(Run({"pool", "delete", "idle"}).exit_code, 0);
  EXPECT_EQ(Run({"template", "delete", "quiet"}).exit_code, 0);
}

TEST_F(OsbctlTest, SandboxListFiltersByMetadataAndPages) {
  const std::string older = NewSandbox({"-m", "team=ml", "-m", "tier=gold"});
  const std::string newer = NewSandbox({"--metadata", "team=web"});
  ASSERT_FALSE(older.empty());
  ASSERT_FALSE(newer.empty());
  auto ids = [](const nlohmann::json& page) {
    std::vector<std::string> out;
    for (const auto& s : page.value("sandboxes", nlohmann::json::array())) {
      out.push_back(s.value("id", ""));
    }
    return out;
  };
  using Ids = std::vector<std::string>;

  nlohmann::json ml = RunJson({"sandbox", "list", "--metadata", "team=ml"});
  EXPECT_EQ(ids(ml), Ids{older}) << ml.dump();
  nlohmann::json none = RunJson({"sandbox", "list", "-m", "team=ml", "-m", "tier=silver"});
  EXPECT_EQ(none["sandboxes"], nlohmann::json::array()) << "pairs AND: " << none.dump();
  EXPECT_EQ(none["pagination"], (nlohmann::json{{"page", 1},
                                                {"page_size", 200},
                                                {"total_items", "0"},
                                                {"total_pages", 0},
                                                {"has_next_page", false}}))
      << "every pagination field, zeros included: " << none.dump();

  nlohmann::json first = RunJson({"sandbox", "list", "--page-size", "1"});
  EXPECT_EQ(ids(first), Ids{newer}) << "newest first: " << first.dump();
  EXPECT_EQ(first["pagination"], (nlohmann::json{{"page", 1},
                                                 {"page_size", 1},
                                                 {"total_items", "2"},
                                                 {"total_pages", 2},
                                                 {"has_next_page", true}}))
      << first.dump();
  nlohmann::json second = RunJson({"sandbox", "list", "--page-size", "1", "--page", "2"});
  EXPECT_EQ(ids(second), Ids{older}) << second.dump();
  EXPECT_EQ(second["pagination"].value("has_next_page", true), false) << second.dump();
  ProcessResult table = Run({"-o", "table", "sandbox", "list", "--page-size", "1"});
  EXPECT_TRUE(absl::EndsWith(table.out, "\npage 1 of 2 (2 items)\n")) << table.out;

  ProcessResult bad = Run({"sandbox", "list", "--metadata", "team"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_EQ(bad.err, "osbctl: --metadata team: expected KEY=VALUE\n") << Describe(bad);
  EXPECT_EQ(bad.out, "") << Describe(bad);
  EXPECT_EQ(Run({"sandbox", "list", "--page-size", "201"}).exit_code, 2);
  EXPECT_EQ(Run({"sandbox", "list", "--page", "0"}).exit_code, 2);
}

TEST_F(OsbctlTest, SandboxCreateSetsResourcesMetadataAndEnv) {
  const std::string id = NewSandbox({"--resource", "cpu=500m", "--resource", "memory=256Mi", "-m",
                                     "team=ml", "--metadata", "tier=gold", "-e", "GREETING=hi"});
  ASSERT_FALSE(id.empty());
  nlohmann::json got = RunJson({"sandbox", "get", id});
  EXPECT_EQ(got["metadata"], (nlohmann::json{{"team", "ml"}, {"tier", "gold"}})) << got.dump();
  // A Sandbox has no limits field: osb-runtime's status message names the limits it was given.
  const std::string message = got["status"].value("message", "");
  EXPECT_TRUE(absl::StrContains(message, "cpu 500m")) << message;
  EXPECT_TRUE(absl::StrContains(message, "memory 256Mi")) << message;
  EXPECT_EQ(Run({"command", "run", id, "--", "echo $GREETING"}).out, "hi\n");

  struct Bad {
    std::vector<std::string> flags;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {{"--metadata", "team"}, "osbctl: --metadata team: expected KEY=VALUE\n"},
           {{"--resource", "=1"}, "osbctl: --resource =1: expected KEY=VALUE\n"},
           {{"-e", "GREETING"}, "osbctl: --env GREETING: expected KEY=VALUE\n"},
           {{"--egress-rule", "pypi.org"},
            "osbctl: --egress-rule pypi.org: expected allow=HOST or deny=HOST\n"},
           {{"--egress-rule", "allow="},
            "osbctl: --egress-rule allow=: expected allow=HOST or deny=HOST\n"}}) {
    std::vector<std::string> args = {"sandbox", "create"};
    args.insert(args.end(), bad.flags.begin(), bad.flags.end());
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << bad.flags[1] << Describe(r);
    EXPECT_EQ(r.err, bad.says) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
  }
  ProcessResult bad_run = Run({"run", "--metadata", "team", "--", "true"});
  EXPECT_EQ(bad_run.exit_code, 2) << Describe(bad_run);
  EXPECT_EQ(RunJson({"sandbox", "list"})["pagination"].value("total_items", ""), "1")
      << "a usage error creates no sandbox";
}

TEST_F(OsbctlTest, SandboxCreateSetsAnEgressPolicy) {
  ProcessResult created = Run({"sandbox", "create", "--egress-rule", "allow=pypi.org",
                               "--egress-rule", "deny=*.example.com"});
  if (created.exit_code == 125 && absl::StrContains(created.err, "needs pasta")) {
    GTEST_SKIP() << "osb-runtime has no egress on this host: " << created.err;
  }
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  const std::string id(absl::StripTrailingAsciiWhitespace(created.out));
  // A Sandbox has no policy field: osb-runtime's status message says which one it applied.
  EXPECT_TRUE(absl::StrContains(RunJson({"sandbox", "get", id})["status"].value("message", ""),
                                "by name (default deny)"))
      << "rules alone deny the rest";
  const std::string open =
      NewSandbox({"--network-default", "allow", "--egress-rule", "deny=example.com"});
  ASSERT_FALSE(open.empty());
  EXPECT_TRUE(absl::StrContains(RunJson({"sandbox", "get", open})["status"].value("message", ""),
                                "by name (default allow)"));
  EXPECT_EQ(Run({"sandbox", "create", "--network-default", "sometimes"}).exit_code, 2);
}

TEST_F(OsbctlTest, ARemoteFailureIsOneLineWithItsCodeAndRequestId) {
  ProcessResult r = Run({"sandbox", "get", "no-such-sandbox"});
  EXPECT_EQ(r.exit_code, 125) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_TRUE(std::regex_match(r.err, std::regex("osbctl: get sandbox: SANDBOX::NOT_FOUND: [^\n]* "
                                                  "\\(request id [0-9a-f-]{8,}\\) "
                                                  "\\(NOT_FOUND\\)\n")))
      << r.err;
  // The same for a streamed call, whose failure comes from execd.
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  ProcessResult cat = Run({"file", "cat", id, "/no/such/file"});
  EXPECT_EQ(cat.exit_code, 125) << Describe(cat);
  EXPECT_TRUE(std::regex_match(cat.err, std::regex("osbctl: read /no/such/file: [A-Z_:]+: [^\n]* "
                                                   "\\(request id [0-9a-f-]{8,}\\) "
                                                   "\\(NOT_FOUND\\)\n")))
      << cat.err;
}

TEST_F(OsbctlTest, WithNoColorNothingPrintsAnEscapeByte) {
  const std::string id = NewSandbox();
  ASSERT_FALSE(id.empty());
  TempDir dir;
  const std::string local = dir.path() + "/data.bin";
  ASSERT_TRUE(WriteFileAtomic(local, std::string(3 << 20, 'x'), 0600).ok());
  // On a terminal (script(1) gives osbctl a pty), where the progress line redraws itself.
  const std::string osbctl = absl::StrCat(BinDir(), "/osbctl --socket ", stack_->socket_path());
  ProcessResult on_tty = RunProcess(
      {"/usr/bin/script", "-qec",
       absl::StrCat(osbctl, " file upload ", id, " ", local, " /tmp/data.bin; ", osbctl,
                    " -o table sandbox list; ", osbctl, " sandbox get no-such-sandbox"),
       "/dev/null"},
      {"NO_COLOR=1", "XDG_CONFIG_HOME=/nonexistent/osbctl-test-config"});
  EXPECT_TRUE(absl::StrContains(on_tty.out, "3.0 MiB / 3.0 MiB  100%")) << Describe(on_tty);
  EXPECT_TRUE(absl::StrContains(on_tty.out, "\n" + id + " ")) << Describe(on_tty);
  EXPECT_TRUE(absl::StrContains(on_tty.out, "(NOT_FOUND)")) << Describe(on_tty);
  EXPECT_EQ(on_tty.out.find('\x1b'), std::string::npos) << Describe(on_tty);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"sandbox", "create", "--help"}, {"sandbox", "list", "--page", "x"}}) {
    ProcessResult r = Osbctl(args, {"NO_COLOR=1"});
    EXPECT_EQ((r.out + r.err).find('\x1b'), std::string::npos) << Describe(r);
  }
}

// Every command path of osbctl's tree ("osbctl", "osbctl sandbox", "osbctl sandbox create", ...),
// read from the completion script, which osbctl generates from the tree itself.
std::vector<std::string> CommandPaths() {
  ProcessResult script = Osbctl({"completion", "bash"});
  EXPECT_EQ(script.exit_code, 0) << Describe(script);
  std::vector<std::string> paths;
  for (absl::string_view line : absl::StrSplit(script.out, '\n')) {
    if (!absl::ConsumePrefix(&line, "  [\"")) continue;
    const std::size_t end = line.find("\"]=");
    if (end != absl::string_view::npos) paths.emplace_back(line.substr(0, end));
  }
  return paths;
}

TEST(OsbctlHelp, EveryCommandPrintsItsOwnUsageAndExitsZero) {
  const std::vector<std::string> paths = CommandPaths();
  for (const char* leaf : {"osbctl sandbox list", "osbctl file chmod", "osbctl command logs",
                           "osbctl command session run", "osbctl pool list", "osbctl run"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), leaf), paths.end()) << leaf;
  }
  for (const std::string& path : paths) {
    std::vector<std::string> args = absl::StrSplit(path, ' ');
    args.erase(args.begin());  // "osbctl"
    args.push_back("--help");
    ProcessResult r = Osbctl(args);
    EXPECT_EQ(r.exit_code, 0) << path << "\n" << Describe(r);
    const std::string usage = absl::StrCat("Usage: ", BinDir(), "/", path, " [OPTIONS]");
    EXPECT_TRUE(absl::StrContains(r.out, usage)) << path << "\n" << Describe(r);
    EXPECT_EQ(r.err, "") << path << "\n" << Describe(r);
  }
}

TEST(OsbctlStartsDaemon, WhenNoneAnswers) {
  TempDir dir;
  const std::string socket = dir.path() + "/sock";
  const std::string state_home = dir.path() + "/state";
  StartedDaemonCleanup cleanup(socket, state_home);
  // Ours must be the only values osbctl and osbd see (RunProcess appends to our environment).
  for (const char* name :
       {"OSBD_SOCKET", "XDG_STATE_HOME", "OSBD_EMBEDDED_LISTEN", "OPEN_SANDBOX_DOMAIN"}) {
    ::unsetenv(name);
  }
  struct stat st {};
  ASSERT_NE(::stat(socket.c_str(), &st), 0);

  ProcessResult r =
      Osbctl({"run", "--", "echo", "hi"}, {"OSBD_SOCKET=" + socket, "XDG_STATE_HOME=" + state_home,
                                           "OSBD_EMBEDDED_LISTEN=127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hi\n") << Describe(r);
  ASSERT_EQ(::stat(socket.c_str(), &st), 0) << "no socket at " << socket;
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_FALSE(ProcessesMatching(socket).empty()) << "no osbd serving " << socket;

  // The daemon it started keeps serving the next call.
  ProcessResult again = Osbctl({"run", "--", "echo", "again"},
                               {"OSBD_SOCKET=" + socket, "XDG_STATE_HOME=" + state_home});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(again.out, "again\n") << Describe(again);
  EXPECT_EQ(ProcessesMatching(socket).size(), 1u) << "a second osbd was started";
}

}  // namespace
}  // namespace osb::test
