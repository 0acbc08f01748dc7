// The code interpreter of osb-agent through osb-runtime's proxy (COMPAT.md §2.2–2.4, 2.8), as
// the official code interpreter SDK uses it: contexts made, listed, read and deleted; cells whose
// state persists per context in python, bash and javascript; results, errors with tracebacks,
// interrupts, busy contexts, interpreters that exit, and bad requests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using json = nlohmann::json;

class CodeTest : public RuntimeSandboxTest {
 protected:
  // A new context's id, or "" (with a failure recorded).
  std::string NewContext(const std::string& language, json extra = json::object()) {
    extra["language"] = language;
    auto r = agent_->Post("/code/context", extra.dump());
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    json j = ParseJson(r->body);
    EXPECT_EQ(j.value("language", ""), language) << r->body;
    return j.is_object() ? j.value("id", "") : "";
  }

  CommandResult RunCode(const json& body) {
    return PostCommand(sandbox_, body.dump(), sandbox_.token, "/code");
  }
  CommandResult RunIn(const std::string& context_id, const std::string& code) {
    return RunCode({{"code", code}, {"context", {{"id", context_id}}}});
  }

  // The stream without pings; the types of its events.
  static std::vector<std::string> Kinds(const CommandResult& r) {
    std::vector<std::string> kinds;
    for (const auto& e : WithoutPings(r.events)) kinds.push_back(e.type);
    return kinds;
  }
  // Everything a stream's events of `type` carried, joined.
  static std::string Joined(const CommandResult& r, std::string_view type) {
    return absl::StrJoin(Texts(r, type), "");
  }
  // The text of the cell's result ("" when none).
  static std::string ResultText(const CommandResult& r) {
    for (const auto& e : r.events) {
      if (e.type == rest::kEventResult && e.results.has_value()) {
        return e.results->value("text", "");
      }
    }
    return "";
  }
  static const rest::EventError* ErrorOf(const CommandResult& r) {
    for (const auto& e : r.events) {
      if (e.type == rest::kEventError && e.error.has_value()) return &*e.error;
    }
    return nullptr;
  }
  static int64_t CountOf(const CommandResult& r) {
    for (const auto& e : r.events) {
      if (e.type == rest::kEventExecutionCount) return e.execution_count;
    }
    return 0;
  }
};

TEST_F(CodeTest, PythonStatePersistsAndAFinalExpressionIsTheResult) {
  std::string id = NewContext("python");
  ASSERT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
  auto first = RunIn(id, "x = 41\nprint('hello')\nprint('two\\nlines')");
  EXPECT_THAT(Kinds(first), testing::IsSupersetOf({"init", "execution_count", "stdout",
                                                   "execution_complete"}))
      << Describe(first);
  EXPECT_EQ(first.events.front().type, "init");
  EXPECT_EQ(first.events.front().text, id) << "init names the context";
  EXPECT_EQ(Kinds(first).back(), "execution_complete");
  EXPECT_EQ(Joined(first, "stdout"), "hello\ntwo\nlines\n");
  EXPECT_EQ(CountOf(first), 1);
  EXPECT_EQ(ResultText(first), "") << "an assignment shows nothing";

  auto second = RunIn(id, "import sys\nprint('to stderr', file=sys.stderr)\nx + 1");
  EXPECT_EQ(ResultText(second), "42") << Describe(second);
  EXPECT_EQ(Joined(second, "stderr"), "to stderr\n");
  EXPECT_EQ(CountOf(second), 2);
  EXPECT_THAT(Kinds(second), ElementsAre("init", "execution_count", "stderr", "result",
                                         "execution_complete"));
  EXPECT_EQ(ResultText(RunIn(id, "'text'")), "'text'") << "results are reprs";
  EXPECT_EQ(ResultText(RunIn(id, "import asyncio\nawait asyncio.sleep(0)\n7")), "7")
      << "top-level await works";
  EXPECT_EQ(Joined(RunIn(id, "print('no newline', end='')"), "stdout"), "no newline");
}

TEST_F(CodeTest, PythonErrorsCarryNameValueAndTraceback) {
  std::string id = NewContext("python");
  auto r = RunIn(id, "def f():\n    return 1 / 0\nf()");
  const rest::EventError* error = ErrorOf(r);
  ASSERT_NE(error, nullptr) << Describe(r);
  EXPECT_EQ(error->ename, "ZeroDivisionError");
  EXPECT_EQ(error->evalue, "division by zero");
  EXPECT_THAT(absl::StrJoin(error->traceback, "\n"), HasSubstr("return 1 / 0"));
  EXPECT_THAT(absl::StrJoin(error->traceback, "\n"), testing::Not(HasSubstr("<string>")))
      << "the interpreter's own frames are not shown";
  EXPECT_EQ(Kinds(r).back(), "error") << "no execution_complete after an error";

  auto syntax = RunIn(id, "def broken(:");
  ASSERT_NE(ErrorOf(syntax), nullptr) << Describe(syntax);
  EXPECT_EQ(ErrorOf(syntax)->ename, "SyntaxError");
  auto exit = RunIn(id, "import sys\nsys.exit(4)");
  ASSERT_NE(ErrorOf(exit), nullptr) << Describe(exit);
  EXPECT_EQ(ErrorOf(exit)->ename, "SystemExit");
  EXPECT_EQ(ResultText(RunIn(id, "f.__name__")), "'f'") << "the context lives on";
}

TEST_F(CodeTest, ContextsAreIsolatedFromEachOther) {
  std::string a = NewContext("python");
  std::string b = NewContext("python");
  RunIn(a, "secret = 'a'");
  auto r = RunIn(b, "secret");
  ASSERT_NE(ErrorOf(r), nullptr) << Describe(r);
  EXPECT_EQ(ErrorOf(r)->ename, "NameError");
  EXPECT_EQ(ResultText(RunIn(a, "secret")), "'a'");
}

TEST_F(CodeTest, BashKeepsVariablesFunctionsAndDirectory) {
  std::string id = NewContext("bash");
  auto first = RunIn(id, "export GREETING=hi; LOCAL=kept\ngreet() { echo \"$GREETING $1\"; }\n"
                         "cd /tmp");
  EXPECT_EQ(Kinds(first).back(), "execution_complete") << Describe(first);
  auto second = RunIn(id, "greet there; echo \"$LOCAL\"; pwd; echo oops >&2");
  EXPECT_EQ(Joined(second, "stdout"), "hi there\nkept\n/tmp\n") << Describe(second);
  EXPECT_EQ(Joined(second, "stderr"), "oops\n");
  auto failed = RunIn(id, "echo before; false");
  ASSERT_NE(ErrorOf(failed), nullptr) << Describe(failed);
  EXPECT_EQ(ErrorOf(failed)->ename, "CommandExecError");
  EXPECT_EQ(ErrorOf(failed)->evalue, "1");
  EXPECT_EQ(Joined(failed, "stdout"), "before\n");
}

TEST_F(CodeTest, JavaScriptKeepsDeclarationsAndShowsValues) {
  if (::access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "node is not installed";
  std::string id = NewContext("javascript");
  auto first = RunIn(id, "let x = 41;\nconst double = (n) => n * 2;\nconsole.log('hello')");
  EXPECT_EQ(Joined(first, "stdout"), "hello\n") << Describe(first);
  EXPECT_EQ(ResultText(first), "") << "undefined shows nothing";
  EXPECT_EQ(ResultText(RunIn(id, "double(x + 1)")), "84");
  EXPECT_EQ(ResultText(RunIn(id, "Promise.resolve({a: [1, 2]})")), "{ a: [ 1, 2 ] }")
      << "a promise is awaited";
  auto error = RunIn(id, "null.field");
  ASSERT_NE(ErrorOf(error), nullptr) << Describe(error);
  EXPECT_EQ(ErrorOf(error)->ename, "TypeError");
  EXPECT_THAT(ErrorOf(error)->evalue, HasSubstr("null"));
}

TEST_F(CodeTest, AnInterruptStopsTheRunningCellAndKeepsTheState) {
  std::string py = NewContext("python");
  RunIn(py, "kept = 'yes'");
  CommandResult interrupted;
  std::thread run([&] { interrupted = RunIn(py, "import time\nwhile True: time.sleep(0.05)"); });
  absl::SleepFor(absl::Milliseconds(800));
  auto answer = agent_->Delete("/code?id=" + py);
  run.join();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200) << answer->body;
  ASSERT_NE(ErrorOf(interrupted), nullptr) << Describe(interrupted);
  EXPECT_EQ(ErrorOf(interrupted)->ename, "KeyboardInterrupt");
  EXPECT_EQ(ResultText(RunIn(py, "kept")), "'yes'");

  std::string sh = NewContext("bash");
  RunIn(sh, "KEPT=yes");
  CommandResult stopped;
  std::thread bash_run([&] { stopped = RunIn(sh, "sleep 30; echo not reached"); });
  absl::SleepFor(absl::Milliseconds(800));
  ASSERT_TRUE(agent_->Delete("/code?id=" + sh));
  bash_run.join();
  ASSERT_NE(ErrorOf(stopped), nullptr) << Describe(stopped);
  EXPECT_EQ(ErrorOf(stopped)->evalue, "130");
  EXPECT_EQ(Joined(stopped, "stdout"), "");
  EXPECT_EQ(Joined(RunIn(sh, "echo $KEPT"), "stdout"), "yes\n");
  // Between cells an interrupt changes nothing.
  auto idle = agent_->Delete("/code?id=" + sh);
  ASSERT_TRUE(idle);
  EXPECT_EQ(idle->status, 200);
  EXPECT_EQ(Joined(RunIn(sh, "echo $KEPT"), "stdout"), "yes\n");
}

TEST_F(CodeTest, ABusyContextRefusesASecondRun) {
  std::string id = NewContext("python");
  std::thread slow([&] { RunIn(id, "import time\ntime.sleep(1.5)"); });
  absl::SleepFor(absl::Milliseconds(600));
  auto busy = RunIn(id, "1");
  slow.join();
  EXPECT_EQ(busy.http_status, 500) << Describe(busy);
  EXPECT_EQ(ErrorCode(busy.body), "RUNTIME_ERROR");
  EXPECT_THAT(busy.body, HasSubstr("busy"));
  EXPECT_EQ(ResultText(RunIn(id, "1")), "1") << "a finished run frees the context";
}

TEST_F(CodeTest, AnInterpreterThatExitsIsStartedAnewAtTheNextRun) {
  std::string id = NewContext("python");
  RunIn(id, "lost = 1");
  auto died = RunIn(id, "import os\nprint('bye')\nos._exit(3)");
  ASSERT_NE(ErrorOf(died), nullptr) << Describe(died);
  EXPECT_EQ(ErrorOf(died)->ename, "ContextExited");
  EXPECT_THAT(ErrorOf(died)->evalue, HasSubstr("exit status 3"));
  EXPECT_EQ(Joined(died, "stdout"), "bye\n") << "output before the exit still arrives";
  auto after = RunIn(id, "'lost' in globals()");
  EXPECT_EQ(ResultText(after), "False") << Describe(after);
  EXPECT_EQ(CountOf(after), 1) << "a new interpreter counts from 1";

  std::string sh = NewContext("bash");
  auto exited = RunIn(sh, "exit 5");
  ASSERT_NE(ErrorOf(exited), nullptr) << Describe(exited);
  EXPECT_EQ(ErrorOf(exited)->ename, "ContextExited");
  EXPECT_EQ(Joined(RunIn(sh, "echo back"), "stdout"), "back\n");
}

TEST_F(CodeTest, ContextsAreListedReadAndDeleted) {
  std::string py = NewContext("python", {{"cwd", "/tmp"}});
  std::string sh = NewContext("bash");
  EXPECT_EQ(ResultText(RunIn(py, "import os\nos.getcwd()")), "'/tmp'") << "cwd is honoured";

  auto all = agent_->Get("/code/contexts");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  json list = ParseJson(all->body);
  ASSERT_THAT(list, SizeIs(2)) << all->body;
  EXPECT_EQ(list[0]["id"], py) << "oldest first";
  EXPECT_EQ(list[0]["cwd"], "/tmp");
  EXPECT_EQ(list[1]["id"], sh);
  auto pythons = agent_->Get("/code/contexts?language=python");
  ASSERT_TRUE(pythons);
  EXPECT_THAT(ParseJson(pythons->body), SizeIs(1)) << pythons->body;

  auto one = agent_->Get("/code/contexts/" + sh);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(ParseJson(one->body)["language"], "bash");

  auto deleted = agent_->Delete("/code/contexts/" + sh);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  auto gone = agent_->Get("/code/contexts/" + sh);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(ErrorCode(gone->body), "CONTEXT_NOT_FOUND");
  auto run_gone = RunIn(sh, "echo");
  EXPECT_EQ(run_gone.http_status, 404) << Describe(run_gone);

  auto by_language = agent_->Delete("/code/contexts?language=python");
  ASSERT_TRUE(by_language);
  EXPECT_EQ(by_language->status, 200);
  auto none = agent_->Get("/code/contexts");
  ASSERT_TRUE(none);
  EXPECT_EQ(ParseJson(none->body), json::array());
}

TEST_F(CodeTest, DeletingABusyContextEndsItsRun) {
  std::string id = NewContext("python");
  CommandResult r;
  std::thread run([&] { r = RunIn(id, "import time\ntime.sleep(30)"); });
  absl::SleepFor(absl::Milliseconds(600));
  ASSERT_TRUE(agent_->Delete("/code/contexts/" + id));
  run.join();
  ASSERT_NE(ErrorOf(r), nullptr) << Describe(r);
  EXPECT_EQ(ErrorOf(r)->ename, "ContextExited");
}

TEST_F(CodeTest, ALanguageWithoutAContextUsesItsDefaultContext) {
  auto first = RunCode({{"code", "z = 5"}, {"context", {{"language", "python"}}}});
  EXPECT_EQ(Kinds(first).back(), "execution_complete") << Describe(first);
  auto second = RunCode({{"code", "z"}, {"context", {{"language", "python"}}}});
  EXPECT_EQ(ResultText(second), "5") << Describe(second);
  ASSERT_FALSE(second.events.empty());
  EXPECT_EQ(second.events[0].text, first.events[0].text) << "the same context";
  auto list = agent_->Get("/code/contexts?language=python");
  ASSERT_TRUE(list);
  EXPECT_THAT(ParseJson(list->body), SizeIs(1));
}

TEST_F(CodeTest, NoContextRunsTheCodeAsAShellCommand) {
  auto r = RunCode({{"code", "echo one; echo two"}});
  EXPECT_THAT(Kinds(r), ElementsAre("init", "stdout", "stdout", "execution_complete"))
      << Describe(r);
  ASSERT_FALSE(r.events.empty());
  EXPECT_TRUE(std::regex_match(r.events[0].text, std::regex("[0-9a-f]{32}")));
  EXPECT_EQ(Stdout(r), "one\ntwo");
  EXPECT_EQ(ExitCode(RunCode({{"code", "exit 3"}, {"context", json::object()}})), 3);
}

TEST_F(CodeTest, TheInterpreterReadinessPortAnswersInsideTheSandbox) {
  // What the official SDK's CodeInterpreter.create runs before it calls the sandbox ready.
  auto r = RunCommand(sandbox_,
                      "bash -c 'exec 3<>/dev/tcp/127.0.0.1/${JUPYTER_PORT:-44771}' && echo ready");
  EXPECT_EQ(Stdout(r), "ready") << Describe(r);
  EXPECT_EQ(ExitCode(r), 0);
}

TEST_F(CodeTest, BadRequestsAreRefusedClearly) {
  std::string id = NewContext("python");
  struct Case {
    json body;
    int status;
    std::string code;
  };
  for (const Case& c : std::vector<Case>{
           {json::object(), 400, "INVALID_REQUEST_BODY"},
           {{{"code", ""}}, 400, "INVALID_REQUEST_BODY"},
           {{{"code", 5}}, 400, "INVALID_REQUEST_BODY"},
           {{{"code", "1"}, {"context", "python"}}, 400, "INVALID_REQUEST_BODY"},
           {{{"code", "1"}, {"context", {{"language", "cobol"}}}}, 400, "INVALID_REQUEST_BODY"},
           {{{"code", "1"}, {"context", {{"id", id}, {"language", "bash"}}}}, 400,
            "INVALID_REQUEST_BODY"},
           {{{"code", "1"}, {"context", {{"id", "no-such-context"}}}}, 404, "CONTEXT_NOT_FOUND"},
       }) {
    auto r = RunCode(c.body);
    EXPECT_EQ(r.http_status, c.status) << c.body.dump() << " " << r.body;
    EXPECT_EQ(ErrorCode(r.body), c.code) << c.body.dump() << " " << r.body;
  }
  auto truncated = PostCommand(sandbox_, "{\"code\": \"1", sandbox_.token, "/code");
  EXPECT_EQ(truncated.http_status, 400);
  for (const std::string& body :
       {std::string("{}"), std::string(R"({"language": "go"})"), std::string("[1]"),
        std::string(R"({"language": "python", "cwd": "/no/such/dir"})")}) {
    auto r = agent_->Post("/code/context", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << " " << r->body;
    EXPECT_EQ(ErrorCode(r->body), "INVALID_REQUEST_BODY") << body;
  }
  auto no_id = agent_->Delete("/code");
  ASSERT_TRUE(no_id);
  EXPECT_EQ(no_id->status, 400);
  auto unknown = agent_->Delete("/code?id=no-such-context");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 500);
  auto no_language = agent_->Delete("/code/contexts");
  ASSERT_TRUE(no_language);
  EXPECT_EQ(no_language->status, 400);
  auto bad_language = agent_->Get("/code/contexts?language=cobol");
  ASSERT_TRUE(bad_language);
  EXPECT_EQ(bad_language->status, 400);
  EXPECT_EQ(ResultText(RunIn(id, "'still serving'")), "'still serving'");
}

}  // namespace
}  // namespace osb::test
