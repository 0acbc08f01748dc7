#include "rest/execd.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rest/sse.h"

namespace rest {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string MessageOf(const absl::Status& s) { return std::string(s.message()); }

TEST(RunCommandRequestTest, ParsesAndRoundTripsEveryField) {
  const json original = json::parse(R"({"command":"ls -la /workspace","cwd":"/workspace",
      "background":true,"timeout":60000,"uid":1000,"gid":1000,
      "envs":{"PYTHONUNBUFFERED":"1"}})");
  absl::StatusOr<RunCommandRequest> r = ParseRunCommandRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->command, "ls -la /workspace");
  EXPECT_EQ(r->cwd, "/workspace");
  EXPECT_TRUE(r->background);
  EXPECT_EQ(r->timeout_ms, 60000);
  EXPECT_EQ(r->uid, 1000);
  EXPECT_EQ(r->gid, 1000);
  EXPECT_THAT(r->envs, ElementsAre(Pair("PYTHONUNBUFFERED", "1")));
  EXPECT_EQ(ToJson(*r), original);
}

TEST(RunCommandRequestTest, ArgvRunsExactlyThoseWords) {
  const json original = json::parse(R"({"argv":["echo","a b","$HOME"]})");
  absl::StatusOr<RunCommandRequest> r = ParseRunCommandRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->argv, ElementsAre("echo", "a b", "$HOME"));
  EXPECT_EQ(r->command, "exec echo 'a b' '$HOME'");
  EXPECT_EQ(ToJson(*r), original);
  for (const char* body : {R"({"argv":[]})", R"({"argv":[""]})", R"({"argv":"ls"})",
                           R"({"argv":["ls"],"command":"ls"})", R"({"argv":["a\u0000b"]})"}) {
    EXPECT_EQ(ParseRunCommandRequest(json::parse(body)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << body;
  }
}

TEST(RunCommandRequestTest, MinimalRequestWritesOnlyTheCommand) {
  absl::StatusOr<RunCommandRequest> r = ParseRunCommandRequest(json::parse(R"({"command":"ls"})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->background);
  EXPECT_FALSE(r->timeout_ms.has_value());
  EXPECT_FALSE(r->uid.has_value());
  EXPECT_EQ(ToJson(*r), json::parse(R"({"command":"ls"})"));
}

TEST(RunCommandRequestTest, NullMembersReadAsAbsent) {
  absl::StatusOr<RunCommandRequest> r = ParseRunCommandRequest(json::parse(
      R"({"command":"ls","cwd":null,"background":null,"timeout":null,"uid":null,
          "gid":null,"envs":null})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ToJson(*r), json::parse(R"({"command":"ls"})"));
}

TEST(RunCommandRequestTest, EmptyCwdMeansNoCwd) {
  absl::StatusOr<RunCommandRequest> r =
      ParseRunCommandRequest(json::parse(R"({"command":"pwd","cwd":""})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cwd.has_value());
}

TEST(RunCommandRequestTest, EnvNullValuesAreDropped) {
  absl::StatusOr<RunCommandRequest> r =
      ParseRunCommandRequest(json::parse(R"({"command":"env","envs":{"A":"1","B":null}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->envs, ElementsAre(Pair("A", "1")));
}

TEST(RunCommandRequestTest, InvalidRequestsNameTheField) {
  const struct {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({})", "'command' is required"},
      {R"({"command":null})", "'command' is required"},
      {R"({"command":""})", "'command' must not be empty"},
      {R"({"command":["ls"]})", "'command'"},
      {R"({"command":"ls","cwd":1})", "'cwd'"},
      {R"({"command":"ls","background":"true"})", "'background'"},
      {R"({"command":"ls","timeout":0})", "'timeout'"},
      {R"({"command":"ls","timeout":-1})", "'timeout'"},
      {R"({"command":"ls","timeout":"1000"})", "'timeout'"},
      {R"({"command":"ls","timeout":1.5})", "'timeout'"},
      {R"({"command":"ls","uid":-1})", "'uid'"},
      {R"({"command":"ls","uid":4294967296})", "'uid'"},
      {R"({"command":"ls","uid":"root"})", "'uid'"},
      {R"({"command":"ls","gid":0})", "'gid' requires 'uid'"},
      {R"({"command":"ls","uid":0,"gid":-5})", "'gid'"},
      {R"({"command":"ls","envs":{"A":1}})", "'envs.A'"},
      {R"({"command":"ls","envs":["A=1"]})", "'envs'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<RunCommandRequest> r = ParseRunCommandRequest(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(MessageOf(r.status()), HasSubstr(c.message)) << c.body;
  }
  EXPECT_FALSE(ParseRunCommandRequest(json::array()).ok());
}

TEST(RunCommandRequestTest, BoundaryValuesAreAccepted) {
  absl::StatusOr<RunCommandRequest> r =
      ParseRunCommandRequest(json::parse(R"({"command":"ls","timeout":1,"uid":0,"gid":0})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->timeout_ms, 1);
  EXPECT_EQ(r->uid, 0);
  EXPECT_EQ(r->gid, 0);
}

TEST(CreateSessionRequestTest, CwdIsOptionalAndMustBeAString) {
  absl::StatusOr<CreateSessionRequest> r =
      ParseCreateSessionRequest(json::parse(R"({"cwd":"/w"})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cwd, "/w");
  EXPECT_EQ(ToJson(*r), json::parse(R"({"cwd":"/w"})"));
  for (const char* none : {"{}", R"({"cwd":null})", R"({"cwd":""})"}) {
    r = ParseCreateSessionRequest(json::parse(none));
    ASSERT_TRUE(r.ok()) << none;
    EXPECT_FALSE(r->cwd.has_value()) << none;
    EXPECT_EQ(ToJson(*r), json::object());
  }
  EXPECT_THAT(MessageOf(ParseCreateSessionRequest(json::parse(R"({"cwd":5})")).status()),
              HasSubstr("'cwd'"));
  EXPECT_FALSE(ParseCreateSessionRequest(json::array()).ok());
}

TEST(SessionRunRequestTest, ParsesAndRoundTrips) {
  const json original = json::parse(R"({"command":"cd /tmp","cwd":"/work","timeout":500})");
  absl::StatusOr<SessionRunRequest> r = ParseSessionRunRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->command, "cd /tmp");
  EXPECT_EQ(r->cwd, "/work");
  EXPECT_EQ(r->timeout_ms, 500);
  EXPECT_EQ(ToJson(*r), original);
  // execd's zero values: an empty cwd and a zero timeout mean none.
  r = ParseSessionRunRequest(json::parse(R"({"command":"ls","cwd":"","timeout":0})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cwd.has_value());
  EXPECT_FALSE(r->timeout_ms.has_value());
  EXPECT_EQ(ToJson(*r), json::parse(R"({"command":"ls"})"));
}

TEST(SessionRunRequestTest, InvalidRequestsNameTheField) {
  const struct {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({})", "'command' is required"},
      {R"({"command":""})", "'command' must not be empty"},
      {R"({"command":"ls","cwd":7})", "'cwd'"},
      {R"({"command":"ls","timeout":-1})", "'timeout'"},
      {R"({"command":"ls","timeout":"9"})", "'timeout'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SessionRunRequest> r = ParseSessionRunRequest(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(MessageOf(r.status()), HasSubstr(c.message)) << c.body;
  }
  EXPECT_FALSE(ParseSessionRunRequest(json("ls")).ok());
}

TEST(MetricsTest, ParsesExecdMetricsAndRoundTrips) {
  const json official = json::parse(R"({"cpu_count":2,"cpu_used_pct":12.5,"mem_total_mib":512,
      "mem_used_mib":31.25,"timestamp":1718000000000})");
  absl::StatusOr<Metrics> m = ParseMetrics(official);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_DOUBLE_EQ(m->cpu_count, 2);
  EXPECT_DOUBLE_EQ(m->cpu_used_pct, 12.5);
  EXPECT_DOUBLE_EQ(m->mem_total_mib, 512);
  EXPECT_DOUBLE_EQ(m->mem_used_mib, 31.25);
  EXPECT_EQ(m->timestamp_ms, 1718000000000);
  EXPECT_EQ(ToJson(*m), official);
}

TEST(MetricsTest, MissingOrWrongFieldsAreNamed) {
  EXPECT_THAT(MessageOf(ParseMetrics(json::parse(R"({"cpu_count":1})")).status()),
              HasSubstr("cpu_used_pct"));
  EXPECT_THAT(MessageOf(ParseMetrics(json::parse(R"({"cpu_count":"1","cpu_used_pct":0,
      "mem_total_mib":1,"mem_used_mib":1,"timestamp":1})"))
                            .status()),
              HasSubstr("cpu_count"));
  EXPECT_THAT(MessageOf(ParseMetrics(json::parse(R"({"cpu_count":1,"cpu_used_pct":0,
      "mem_total_mib":1,"mem_used_mib":1})"))
                            .status()),
              HasSubstr("timestamp"));
  EXPECT_FALSE(ParseMetrics(json::array()).ok());
}

// Events exactly as the official execd writes them (COMPAT.md §2.3).
constexpr std::string_view kOfficialEvents[] = {
    R"({"type":"init","text":"3f2a9c0d1b7e4c6a8d5e9f0a1b2c3d4e","timestamp":1718000000000})",
    R"({"type":"stdout","text":"Hello OpenSandbox E2E","timestamp":1718000000105})",
    R"({"type":"execution_complete","execution_time":112,"timestamp":1718000000112})",
    R"({"type":"error","error":{"ename":"CommandExecError","evalue":"127","traceback":["exit status 127"]},"timestamp":1718000000200})",
    R"({"type":"result","results":{"text":"4"},"timestamp":1718000000300})",
    R"({"type":"ping","text":"pong","timestamp":1718000000400})",
    R"({"type":"execution_count","execution_count":3,"timestamp":1718000000500})",
};

TEST(ServerStreamEventTest, ParsesOfficialEvents) {
  absl::StatusOr<ServerStreamEvent> init = ParseServerStreamEvent(kOfficialEvents[0]);
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(init->type, kEventInit);
  EXPECT_EQ(init->text, "3f2a9c0d1b7e4c6a8d5e9f0a1b2c3d4e");
  EXPECT_EQ(init->timestamp_ms, 1718000000000);
  EXPECT_FALSE(init->error.has_value());
  EXPECT_FALSE(init->results.has_value());

  absl::StatusOr<ServerStreamEvent> complete = ParseServerStreamEvent(kOfficialEvents[2]);
  ASSERT_TRUE(complete.ok()) << complete.status();
  EXPECT_EQ(complete->type, kEventExecutionComplete);
  EXPECT_EQ(complete->execution_time_ms, 112);
  EXPECT_EQ(complete->text, "");

  absl::StatusOr<ServerStreamEvent> error = ParseServerStreamEvent(kOfficialEvents[3]);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->type, kEventError);
  ASSERT_TRUE(error->error.has_value());
  EXPECT_EQ(error->error->ename, "CommandExecError");
  EXPECT_EQ(error->error->evalue, "127");
  EXPECT_THAT(error->error->traceback, ElementsAre("exit status 127"));

  absl::StatusOr<ServerStreamEvent> result = ParseServerStreamEvent(kOfficialEvents[4]);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->results.has_value());
  EXPECT_EQ((*result->results)["text"], "4");

  absl::StatusOr<ServerStreamEvent> count = ParseServerStreamEvent(kOfficialEvents[6]);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->execution_count, 3);
}

TEST(ServerStreamEventTest, SerializesByteForByteLikeExecd) {
  for (std::string_view line : kOfficialEvents) {
    absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(line);
    ASSERT_TRUE(e.ok()) << line << ": " << e.status();
    EXPECT_EQ(SerializeEvent(*e), line);
  }
}

TEST(ServerStreamEventTest, ZeroValuesAreOmittedButTimestampIsAlwaysWritten) {
  ServerStreamEvent e;
  e.type = std::string(kEventExecutionComplete);
  EXPECT_EQ(SerializeEvent(e), R"({"type":"execution_complete","timestamp":0})");

  e.type = std::string(kEventStdout);
  e.text = "";
  e.execution_count = 0;
  e.execution_time_ms = 0;
  e.timestamp_ms = 42;
  EXPECT_EQ(SerializeEvent(e), R"({"type":"stdout","timestamp":42})");
}

TEST(ServerStreamEventTest, BlankLineOfOutputIsKept) {
  // execd sends an empty output line as text "\n" precisely because "" would be omitted.
  ServerStreamEvent e;
  e.type = std::string(kEventStdout);
  e.text = "\n";
  e.timestamp_ms = 1;
  EXPECT_EQ(SerializeEvent(e), R"({"type":"stdout","text":"\n","timestamp":1})");
}

TEST(ServerStreamEventTest, TracebackIsAlwaysAnArray) {
  ServerStreamEvent e;
  e.type = std::string(kEventError);
  e.timestamp_ms = 7;
  e.error = EventError{.ename = "CommandExecError", .evalue = "1", .traceback = {}};
  EXPECT_EQ(
      SerializeEvent(e),
      R"({"type":"error","error":{"ename":"CommandExecError","evalue":"1","traceback":[]},"timestamp":7})");
}

TEST(ServerStreamEventTest, NullOrMissingTracebackIsTolerated) {
  // Older execd sent `traceback: null` on spawn failures (issue #700).
  for (
      const char* text :
      {R"({"type":"error","error":{"ename":"CommandExecError","evalue":"exec: no such file","traceback":null},"timestamp":1})",
       R"({"type":"error","error":{"ename":"CommandExecError","evalue":"exec: no such file"},"timestamp":1})"}) {
    absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status();
    ASSERT_TRUE(e->error.has_value());
    EXPECT_THAT(e->error->traceback, IsEmpty());
    EXPECT_THAT(SerializeEvent(*e), HasSubstr(R"("traceback":[])"));
  }
}

TEST(ServerStreamEventTest, InvalidUtf8IsReplacedNotThrown) {
  ServerStreamEvent e;
  e.type = std::string(kEventStdout);
  e.text = "ok\xff\xfe!";
  e.timestamp_ms = 1;
  std::string out;
  ASSERT_NO_THROW(out = SerializeEvent(e));
  EXPECT_EQ(out, "{\"type\":\"stdout\",\"text\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD!\",\"timestamp\":1}");
  absl::StatusOr<ServerStreamEvent> back = ParseServerStreamEvent(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->text, "ok\xEF\xBF\xBD\xEF\xBF\xBD!");
}

TEST(ServerStreamEventTest, InvalidUtf8InErrorAndResultsDoesNotThrow) {
  ServerStreamEvent e;
  e.type = std::string(kEventError);
  e.error = EventError{.ename = "E\xc3", .evalue = "\x80", .traceback = {"line \xff"}};
  e.results = json::object();
  (*e.results)["text/plain"] = "\xfe";
  std::string out;
  ASSERT_NO_THROW(out = SerializeEvent(e));
  EXPECT_TRUE(ParseServerStreamEvent(out).ok()) << out;
}

TEST(ServerStreamEventTest, TheOutputHotPathWritesWhatFrameEventWrites) {
  for (const std::string& text : {std::string("plain"), std::string(""), std::string("\n"),
                                  std::string("tab\there \"quoted\" \\ \x01 \xff \xc3\xa9")}) {
    ServerStreamEvent e;
    e.type = std::string(kEventStderr);
    e.text = text;
    e.timestamp_ms = 9;
    std::string appended = "before";
    AppendOutputEvent(kEventStderr, text, 9, &appended);
    EXPECT_EQ(appended, "before" + FrameEvent(e)) << text;
    EXPECT_EQ(FrameEvent(e), SerializeEvent(e) + "\n\n");
  }
}

TEST(ServerStreamEventTest, ValidUtf8IsWrittenAsIs) {
  ServerStreamEvent e;
  e.type = std::string(kEventStdout);
  e.text = "héllo ✓";
  e.timestamp_ms = 1;
  EXPECT_EQ(SerializeEvent(e), R"({"type":"stdout","text":"héllo ✓","timestamp":1})");
}

TEST(ServerStreamEventTest, ResultsKeepEveryMimeType) {
  const std::string_view text =
      R"({"type":"result","results":{"image/png":"iVBOR","text":"4","text/html":"<b>4</b>"},"timestamp":5})";
  absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(text);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(json::parse(SerializeEvent(*e)), json::parse(text));
}

TEST(ServerStreamEventTest, UnknownFieldsAndTypesAreAccepted) {
  absl::StatusOr<ServerStreamEvent> e =
      ParseServerStreamEvent(R"({"type":"future_kind","text":"x","extra":[1,2],"timestamp":1})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->type, "future_kind");
}

TEST(ServerStreamEventTest, MalformedEventsAreInvalidArgument) {
  const struct {
    std::string_view text;
    const char* message;
  } cases[] = {
      {"", "not valid JSON"},
      {"{\"type\":\"stdout\"", "not valid JSON"},
      {"data: {\"type\":\"stdout\"}", "not valid JSON"},
      {"{\"type\":\"stdout\",\"text\":\"\xff\"}", "not valid JSON"},
      {"[]", "JSON object"},
      {"{}", "'type' is required"},
      {R"({"type":""})", "'type' is required"},
      {R"({"type":1})", "'type'"},
      {R"({"type":"stdout","text":5})", "'text'"},
      {R"({"type":"stdout","timestamp":"now"})", "'timestamp'"},
      {R"({"type":"stdout","timestamp":1.5})", "'timestamp'"},
      {R"({"type":"done","execution_time":"3"})", "'execution_time'"},
      {R"({"type":"x","execution_count":[]})", "'execution_count'"},
      {R"({"type":"result","results":"4"})", "'results'"},
      {R"({"type":"error","error":"boom"})", "'error'"},
      {R"({"type":"error","error":{"ename":1}})", "'error.ename'"},
      {R"({"type":"error","error":{"evalue":false}})", "'error.evalue'"},
      {R"({"type":"error","error":{"traceback":"line"}})", "'error.traceback'"},
      {R"({"type":"error","error":{"traceback":["a",2]}})", "'error.traceback[1]'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(MessageOf(e.status()), HasSubstr(c.message)) << c.text;
  }
}

TEST(ServerStreamEventTest, UnparsableEventMessageQuotesAShortPrefix) {
  const std::string junk = "<" + std::string(10000, 'x');
  absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(junk);
  ASSERT_FALSE(e.ok());
  EXPECT_LT(e.status().message().size(), 300u);
  EXPECT_THAT(MessageOf(e.status()), HasSubstr("<xxx"));
}

ServerStreamEvent ErrorEvent(std::string ename, std::string evalue) {
  ServerStreamEvent e;
  e.type = std::string(kEventError);
  e.error = EventError{.ename = std::move(ename), .evalue = std::move(evalue), .traceback = {}};
  return e;
}

TEST(ExitCodeOfTest, TerminalEvents) {
  ServerStreamEvent complete;
  complete.type = std::string(kEventExecutionComplete);
  EXPECT_EQ(ExitCodeOf(complete), 0);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "127")), 127);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "1")), 1);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "-1")), -1);  // killed by a signal
}

TEST(ExitCodeOfTest, NoExitCodeOtherwise) {
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "fork/exec /bin/nope: no such file")),
            std::nullopt);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "")), std::nullopt);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("CommandExecError", "99999999999")), std::nullopt);
  EXPECT_EQ(ExitCodeOf(ErrorEvent("NameError", "3")), std::nullopt);
  ServerStreamEvent error_without_details;
  error_without_details.type = std::string(kEventError);
  EXPECT_EQ(ExitCodeOf(error_without_details), std::nullopt);
  for (std::string_view type : {kEventInit, kEventStdout, kEventStderr, kEventPing, kEventStatus,
                                kEventResult, kEventExecutionCount}) {
    ServerStreamEvent e;
    e.type = std::string(type);
    EXPECT_EQ(ExitCodeOf(e), std::nullopt) << type;
  }
}

TEST(ExitCodeOfTest, FromParsedOfficialEvent) {
  absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(kOfficialEvents[3]);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(ExitCodeOf(*e), 127);
}

TEST(EventStreamTest, EncodedStreamDecodesToTheSameEvents) {
  std::vector<ServerStreamEvent> sent(3);
  sent[0].type = std::string(kEventInit);
  sent[0].text = "abc";
  sent[0].timestamp_ms = 1;
  sent[1].type = std::string(kEventStdout);
  sent[1].text = "line with \"quotes\" and data: prefix";
  sent[1].timestamp_ms = 2;
  sent[2] = ErrorEvent("CommandExecError", "2");
  sent[2].error->traceback = {"exit status 2"};
  sent[2].timestamp_ms = 3;

  std::string stream;
  for (const ServerStreamEvent& e : sent) stream += EncodeSseEvent(SerializeEvent(e));

  SseDecoder decoder;
  std::vector<std::string> received;
  auto sink = [&received](std::string_view data) { received.emplace_back(data); };
  for (char ch : stream) ASSERT_TRUE(decoder.Feed(std::string_view(&ch, 1), sink).ok());
  ASSERT_TRUE(decoder.Finish(sink).ok());

  ASSERT_EQ(received.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    absl::StatusOr<ServerStreamEvent> e = ParseServerStreamEvent(received[i]);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(SerializeEvent(*e), SerializeEvent(sent[i]));
  }
  EXPECT_EQ(ExitCodeOf(*ParseServerStreamEvent(received.back())), 2);
}

}  // namespace
}  // namespace rest
