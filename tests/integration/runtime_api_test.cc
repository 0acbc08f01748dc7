// osb-runtime's lifecycle API seen from outside, over HTTP only, as an OpenSandbox SDK sees it:
// authentication and request ids, error answers, create/get/list/delete, and the endpoint that
// leads through the runtime's proxy to a sandbox's agent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/ids.h"
#include "rest/time_util.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::EndsWith;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using json = nlohmann::json;

const char kUuidPattern[] = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

// --- Authentication and request ids -------------------------------------------------------------

class Auth : public RuntimeTest {};

TEST_F(Auth, MissingKeyIs401MissingApiKey) {
  httplib::Client anonymous("http://" + runtime_->address());
  auto res = anonymous.Get("/v1/sandboxes");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_TRUE(IsErrorBody(res->body));
  EXPECT_EQ(ErrorCode(res->body), "MISSING_API_KEY");
}

TEST_F(Auth, WrongKeyIs401InvalidApiKey) {
  httplib::Client wrong("http://" + runtime_->address());
  wrong.set_default_headers({{"OPEN-SANDBOX-API-KEY", "not-the-key"}});
  auto res = wrong.Post("/v1/sandboxes", CreateBody().dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_TRUE(IsErrorBody(res->body));
  EXPECT_EQ(ErrorCode(res->body), "INVALID_API_KEY");
  // Nothing was created by the refused request.
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_THAT(ParseJson(list->body)["items"], IsEmpty());
}

TEST_F(Auth, HealthNeedsNoKey) {
  httplib::Client anonymous("http://" + runtime_->address());
  auto res = anonymous.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseJson(res->body), json({{"status", "healthy"}}));
}

TEST_F(Auth, RequestIdEchoedOnSuccessUnauthorizedAndNotFound) {
  httplib::Client anonymous("http://" + runtime_->address());
  auto ok = api_->Get("/v1/sandboxes", {{"X-Request-ID", "req-ok-1"}});
  auto unauthorized = anonymous.Get("/v1/sandboxes", {{"X-Request-ID", "req-401-2"}});
  auto not_found = api_->Get("/v1/sandboxes/no-such-id", {{"X-Request-ID", "req-404-3"}});
  ASSERT_TRUE(ok && unauthorized && not_found);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("X-Request-ID"), "req-ok-1");
  EXPECT_EQ(unauthorized->status, 401);
  EXPECT_EQ(unauthorized->get_header_value("X-Request-ID"), "req-401-2");
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->get_header_value("X-Request-ID"), "req-404-3");
}

TEST_F(Auth, RequestIdGeneratedWhenAbsent) {
  auto first = api_->Get("/v1/sandboxes");
  auto second = api_->Get("/v1/sandboxes/no-such-id");
  ASSERT_TRUE(first && second);
  std::string a = first->get_header_value("X-Request-ID");
  std::string b = second->get_header_value("X-Request-ID");
  EXPECT_THAT(a, Not(IsEmpty()));
  EXPECT_THAT(b, Not(IsEmpty()));
  EXPECT_NE(a, b);
}

// --- Errors --------------------------------------------------------------------------------------

class Errors : public RuntimeTest {};

TEST_F(Errors, UnknownSandboxIs404OnGetDeleteAndEndpoints) {
  const std::string id = rest::NewUuid4();
  auto get = api_->Get("/v1/sandboxes/" + id);
  auto del = api_->Delete("/v1/sandboxes/" + id);
  auto endpoint = api_->Get(absl::StrCat("/v1/sandboxes/", id, "/endpoints/", kAgentPort));
  for (const auto* res : {&get, &del, &endpoint}) {
    ASSERT_TRUE(*res);
    EXPECT_EQ((*res)->status, 404) << (*res)->body;
    EXPECT_TRUE(IsErrorBody((*res)->body));
    EXPECT_EQ(ErrorCode((*res)->body), "SANDBOX::NOT_FOUND");
  }
}

TEST_F(Errors, MalformedJsonIs400AndRuntimeKeepsServing) {
  for (const char* body : {"{\"image\": {\"uri\": \"host\"", "not json at all", "", "[1,2"}) {
    auto res = api_->Post("/v1/sandboxes", body, "application/json");
    ASSERT_TRUE(res) << "no answer to body '" << body << "'";
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_TRUE(IsErrorBody(res->body)) << body;
  }
  auto created = api_->Post("/v1/sandboxes", CreateBody().dump(), "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 202) << created->body;
}

TEST_F(Errors, CreateWithoutImageOrSnapshotIs400) {
  auto res = api_->Post("/v1/sandboxes", json({{"entrypoint", {"sleep", "infinity"}}}).dump(),
                        "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_TRUE(IsErrorBody(res->body));
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_THAT(ParseJson(list->body)["items"], IsEmpty());
}

TEST_F(Errors, MetadataBreakingTheLabelRulesIs400AndCreatesNothing) {
  for (const json& metadata : {json{{"opensandbox.io/owner", "me"}}, json{{"team", "two words"}},
                               json{{"-team", "a"}}, json{{"team", std::string(64, 'v')}}}) {
    json body = CreateBody();
    body["metadata"] = metadata;
    auto res = api_->Post("/v1/sandboxes", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << metadata << " -> " << res->body;
    EXPECT_EQ(ErrorCode(res->body), "SANDBOX::INVALID_METADATA_LABEL") << res->body;
  }
  auto listed = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(listed);
  EXPECT_EQ(ParseJson(listed->body)["items"].size(), 0u) << listed->body;
}

// What osb-runtime cannot give it refuses, as the Docker server does, rather than create a
// sandbox without it.
TEST_F(Errors, TheCredentialProxyAndSecureAccessAre400NotSupportedAndCreateNothing) {
  for (const auto& [key, value] : {std::pair{"credentialProxy", json{{"enabled", true}}},
                                   std::pair{"secureAccess", json(true)}}) {
    json body = CreateBody();
    body["networkPolicy"] = {{"defaultAction", "deny"}};
    body[key] = value;
    auto res = api_->Post("/v1/sandboxes", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << key << " -> " << res->body;
    EXPECT_EQ(ErrorCode(res->body), "SANDBOX::API_NOT_SUPPORTED") << res->body;
    EXPECT_THAT(ParseJson(res->body).value("message", ""), HasSubstr(key));
  }
  auto listed = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(listed);
  EXPECT_EQ(ParseJson(listed->body)["items"].size(), 0u) << listed->body;
}

TEST_F(Errors, TimeoutBelowMinimumIs400) {
  json body = CreateBody();
  body["timeout"] = 30;
  auto res = api_->Post("/v1/sandboxes", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_TRUE(IsErrorBody(res->body));
  EXPECT_THAT(ParseJson(res->body).value("message", ""), HasSubstr("timeout"));
}

TEST_F(Errors, AbsurdTimeoutsPagesAndPoliciesAre400OrEmptyAndNothingBreaks) {
  // Found by schemathesis: a timeout whose expiry leaves RFC 3339, a page whose offset overflowed
  // (the runtime crashed), and network policies of the wrong shape (500).
  for (int64_t timeout : {int64_t{253402300800}, int64_t{9223372036854775807}}) {
    json body = CreateBody();
    body["timeout"] = timeout;
    auto res = api_->Post("/v1/sandboxes", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << timeout << " " << res->body;
  }
  for (const char* page : {"461168601842738792", "46116860184273881&pageSize=200"}) {
    auto res = api_->Get(absl::StrCat("/v1/sandboxes?page=", page));
    ASSERT_TRUE(res) << page;
    EXPECT_EQ(res->status, 200) << page;
    EXPECT_THAT(ParseJson(res->body)["items"], IsEmpty()) << page;
  }
  for (const char* policy : {R"({"egress":[{"action":{}}]})", R"({"egress":[1]})",
                             R"({"egress":["allow"]})", R"({"defaultAction":5})",
                             R"({"egress":{"action":"allow"}})"}) {
    json body = CreateBody();
    body["networkPolicy"] = json::parse(policy);
    auto res = api_->Post("/v1/sandboxes", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << policy << " " << res->body;
    EXPECT_EQ(ErrorCode(res->body), "SANDBOX::INVALID_PARAMETER") << policy;
  }
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << "the runtime still serves";
  EXPECT_THAT(ParseJson(list->body)["items"], IsEmpty()) << "nothing was created";
}

// A request refused for its key before its body arrived must not leave that body to be read as
// the next request on the same connection (the body comes in a later packet, as many HTTP
// clients send it).
TEST_F(Errors, ARefusedRequestsBodyIsNotTakenForTheNextRequest) {
  auto [host, port] = SplitHostPort(runtime_->address());
  const std::string body = CreateBody().dump();
  RawConnection c(host, port);
  ASSERT_TRUE(c.ok());
  c.Send(absl::StrCat("POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: ", body.size(), "\r\n\r\n"));
  absl::SleepFor(absl::Milliseconds(50));
  c.Send(body);
  EXPECT_THAT(c.ReadResponseHead(), StartsWith("HTTP/1.1 401"));
  c.Send(absl::StrCat("GET /v1/sandboxes HTTP/1.1\r\nHost: x\r\nOPEN-SANDBOX-API-KEY: ",
                      runtime_->api_key(), "\r\n\r\n"));
  EXPECT_THAT(c.ReadResponseHead(), StartsWith("HTTP/1.1 200"));
}

// What the runtime answers to a request on a raw connection, and whether it closed the
// connection after the answer.
struct RawAnswer {
  std::string head;
  json body;
  bool closed = false;
};

RawAnswer Exchange(const RuntimeProcess& runtime, const std::vector<std::string>& pieces) {
  auto [host, port] = SplitHostPort(runtime.address());
  RawConnection c(host, port);
  EXPECT_TRUE(c.ok());
  for (const std::string& piece : pieces) c.Send(piece);
  RawAnswer answer;
  std::string body;
  answer.head = c.ReadResponseHead(&body);
  answer.body = json::parse(body, nullptr, /*allow_exceptions=*/false);
  answer.closed = c.ReadSome().empty();
  return answer;
}

std::string KeyHeader(const RuntimeProcess& runtime) {
  return absl::StrCat("OPEN-SANDBOX-API-KEY: ", runtime.api_key(), "\r\n");
}

// Oversized heads are refused before anything reads them whole, with a JSON error, a request id
// and a closed connection (cpp-httplib alone took the rest of a long header for a second request
// on the same connection); the runtime keeps serving.
TEST_F(Errors, OversizedRequestLinesAndHeadersAre414And431) {
  const std::string key = KeyHeader(*runtime_);
  std::string many_headers;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&many_headers, "X-Pad-", i, ": ", std::string(1000, 'p'), "\r\n");
  struct Case {
    std::string name, request, status, message;
  };
  const std::vector<Case> cases = {
      {"long header line",
       absl::StrCat("GET /v1/sandboxes HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(9000, 'a'),
                    "\r\n", key, "GET /v1/sandboxes HTTP/1.1\r\n\r\n"),
       "431", "header line is longer than 8192 bytes"},
      {"long request line",
       absl::StrCat("GET /v1/sandboxes?x=", std::string(9000, 'a'), " HTTP/1.1\r\nHost: x\r\n",
                    key, "\r\n"),
       "414", "request line is longer than 8192 bytes"},
      {"too many headers",
       absl::StrCat("GET /v1/sandboxes HTTP/1.1\r\nHost: x\r\n", key, many_headers, "\r\n"),
       "431", "longer than 65536 bytes"},
      {"garbage request line", "HELLO THERE\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n", "400",
       "cannot"},
      // httplib skips a bare-LF line and reads on: it must not end the head for the limits either.
      {"headers after a bare LF line",
       absl::StrCat("GET /v1/sandboxes HTTP/1.1\r\n\n", key, many_headers, "\r\n"), "431",
       "longer than 65536 bytes"},
  };
  for (const Case& c : cases) {
    RawAnswer answer = Exchange(*runtime_, {c.request});
    EXPECT_THAT(answer.head, StartsWith("HTTP/1.1 " + c.status)) << c.name;
    EXPECT_THAT(answer.head, HasSubstr("X-Request-ID: ")) << c.name;
    EXPECT_THAT(answer.head, HasSubstr("Connection: close")) << c.name;
    EXPECT_EQ(answer.body.value("code", ""), "SANDBOX::INVALID_PARAMETER") << c.name;
    EXPECT_THAT(answer.body.value("message", ""), HasSubstr(c.message)) << c.name;
    EXPECT_TRUE(answer.closed) << c.name << ": the connection must end with the refusal";
  }
  auto health = api_->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// The API's bodies are small JSON documents: one over 1 MiB is refused after at most that much
// is read, whether its length is declared or it comes chunked, and creates nothing.
TEST_F(Errors, OversizedBodiesAre413AndCreateNothing) {
  json body = CreateBody();
  body["extensions"] = {{"note", std::string(2 << 20, 'x')}};
  const std::string text = body.dump();
  auto declared = api_->Post("/v1/sandboxes", text, "application/json");
  ASSERT_TRUE(declared) << "the client lost the answer";
  EXPECT_EQ(declared->status, 413) << declared->body;
  EXPECT_THAT(ParseJson(declared->body).value("message", ""),
              HasSubstr("more than 1048576 bytes"));

  std::string chunked = absl::StrCat("POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\n",
                                     KeyHeader(*runtime_),
                                     "Content-Type: application/json\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n");
  for (std::size_t at = 0; at < text.size(); at += 65536) {
    const std::string piece = text.substr(at, 65536);
    absl::StrAppend(&chunked, absl::Hex(piece.size()), "\r\n", piece, "\r\n");
  }
  absl::StrAppend(&chunked, "0\r\n\r\n");
  RawAnswer answer = Exchange(*runtime_, {chunked});
  EXPECT_THAT(answer.head, StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(answer.body.value("code", ""), "SANDBOX::INVALID_PARAMETER");
  EXPECT_TRUE(answer.closed);

  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_THAT(ParseJson(list->body)["items"], IsEmpty()) << "nothing was created";
  // A body just under the limit is still read and served, even sent in one piece with its head.
  body["extensions"] = {{"note", std::string(1000 * 1000, 'x')}};
  const std::string under = body.dump();
  auto [host, port] = SplitHostPort(runtime_->address());
  RawConnection c(host, port);
  c.Send(absl::StrCat("POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\n", KeyHeader(*runtime_),
                      "Content-Type: application/json\r\nContent-Length: ", under.size(),
                      "\r\n\r\n", under));
  std::string created;
  EXPECT_THAT(c.ReadResponseHead(&created), StartsWith("HTTP/1.1 202")) << created;
}

// Answers httplib gives before reading a body the request declares end the connection: the body
// (here itself a request) is never taken for the next request.
TEST_F(Errors, AnUnreadBodyIsNeverTakenForTheNextRequest) {
  const std::string smuggled =
      absl::StrCat("GET /v1/sandboxes HTTP/1.1\r\nHost: x\r\n", KeyHeader(*runtime_), "\r\n");
  for (const std::string& head :
       {absl::StrCat("GET /v1/no-such-route HTTP/1.1\r\nHost: x\r\n"),
        absl::StrCat("POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nRange: bytes=zz\r\n")}) {
    RawAnswer answer = Exchange(
        *runtime_, {absl::StrCat(head, KeyHeader(*runtime_), "Content-Length: ", smuggled.size(),
                                 "\r\n\r\n", smuggled)});
    EXPECT_THAT(answer.head, StartsWith("HTTP/1.1 4")) << head;
    EXPECT_TRUE(answer.closed) << head << ": its body was answered as a request";
  }
}

// A compressed body is refused on the API's JSON routes: inflated, it would pass any cap on the
// bytes sent.
TEST_F(Errors, ACompressedBodyIs415) {
  httplib::Headers headers = {{"Content-Encoding", "gzip"}};
  auto res = api_->Post("/v1/sandboxes", headers, "\x1f\x8b not really gzip", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415) << res->body;
  EXPECT_THAT(ParseJson(res->body).value("message", ""), HasSubstr("Content-Encoding: gzip"));
}

// A head that trickles in for longer than the read timeout (5 s) is answered 408, not dropped.
TEST_F(Errors, AHeadThatNeverEndsIs408) {
  RawAnswer answer = Exchange(*runtime_, {"GET /health HTTP/1.1\r\nHost: x\r\n"});
  EXPECT_THAT(answer.head, StartsWith("HTTP/1.1 408")) << answer.head;
  EXPECT_THAT(answer.body.value("message", ""), HasSubstr("did not arrive within"));
  EXPECT_TRUE(answer.closed);
}

TEST_F(Errors, UnknownRouteIs404Json) {
  for (const char* path : {"/v1/no-such-route", "/nothing/here", "/v1/sandboxes/a/b/c/d"}) {
    auto res = api_->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_TRUE(IsErrorBody(res->body)) << path;
    EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("application/json")) << path;
  }
}

// --- Create, get, list, delete -------------------------------------------------------------------

class Connections : public RuntimeTest {};

// Pooled clients (osbd, the SDKs) keep their connections open between requests. However many
// are open, the runtime still answers a newcomer: a fixed pool of workers would not.
TEST_F(Connections, ManyKeptAliveConnectionsDoNotStarveANewClient) {
  std::vector<std::unique_ptr<httplib::Client>> held;
  for (int i = 0; i < 150; ++i) {
    auto c = std::make_unique<httplib::Client>("http://" + runtime_->address());
    c->set_keep_alive(true);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(5, 0);
    auto r = c->Get("/health");
    ASSERT_TRUE(r) << "connection " << i << ": " << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200);
    held.push_back(std::move(c));
  }
  httplib::Client newcomer("http://" + runtime_->address());
  newcomer.set_read_timeout(5, 0);
  auto r = newcomer.Get("/health");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  // The held connections still serve their owners.
  auto again = held.front()->Get("/health");
  ASSERT_TRUE(again) << httplib::to_string(again.error());
  EXPECT_EQ(again->status, 200);
}

class Lifecycle : public RuntimeTest {};

TEST_F(Lifecycle, CreateAnswers202RunningWithUuidAndEntrypoint) {
  auto res = api_->Post("/v1/sandboxes", CreateBody({"sleep", "1000"}).dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  json j = ParseJson(res->body);
  EXPECT_TRUE(std::regex_match(j.value("id", ""), std::regex(kUuidPattern))) << res->body;
  EXPECT_EQ(j["status"].value("state", ""), "Running");
  EXPECT_EQ(j["entrypoint"], json({"sleep", "1000"}));
  EXPECT_TRUE(rest::ParseRfc3339(j.value("createdAt", "")).ok()) << res->body;
}

TEST_F(Lifecycle, ExpiresAtPresentOnlyWithTimeout) {
  auto without = api_->Post("/v1/sandboxes", CreateBody().dump(), "application/json");
  json body = CreateBody();
  body["timeout"] = 600;
  auto with = api_->Post("/v1/sandboxes", body.dump(), "application/json");
  ASSERT_TRUE(without && with);
  ASSERT_EQ(without->status, 202) << without->body;
  ASSERT_EQ(with->status, 202) << with->body;
  EXPECT_FALSE(ParseJson(without->body).contains("expiresAt")) << without->body;
  json j = ParseJson(with->body);
  auto created = rest::ParseRfc3339(j.value("createdAt", ""));
  auto expires = rest::ParseRfc3339(j.value("expiresAt", ""));
  ASSERT_TRUE(created.ok() && expires.ok()) << with->body;
  EXPECT_GE(*expires - *created, absl::Seconds(599));
  EXPECT_LE(*expires - *created, absl::Seconds(601));
}

TEST_F(Lifecycle, RenewMovesTheExpiryAndTheReaperHonoursIt) {
  json body = CreateBody();
  body["timeout"] = 600;
  auto sandbox = CreateSandbox(body);
  ASSERT_TRUE(sandbox.has_value());
  auto renew = [&](const std::string& id, const std::string& request) {
    return api_->Post("/v1/sandboxes/" + id + "/renew-expiration", request, "application/json");
  };
  const absl::Time later = absl::Now() + absl::Hours(2);
  auto res = renew(sandbox->id, json({{"expiresAt", rest::FormatRfc3339(later)}}).dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto answered = rest::ParseRfc3339(ParseJson(res->body).value("expiresAt", ""));
  ASSERT_TRUE(answered.ok()) << res->body;
  EXPECT_LT(absl::AbsDuration(*answered - later), absl::Seconds(1));
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body).value("expiresAt", ""),
            ParseJson(res->body).value("expiresAt", ""));

  // Bad renewals change nothing.
  auto past =
      renew(sandbox->id,
            json({{"expiresAt", rest::FormatRfc3339(absl::Now() - absl::Minutes(1))}}).dump());
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 400) << past->body;
  EXPECT_EQ(ErrorCode(past->body), "DOCKER::INVALID_EXPIRATION");
  for (const std::string bad : {"{}", "{\"expiresAt\":\"tomorrow\"}", "[", "{\"expiresAt\":5}"}) {
    auto r = renew(sandbox->id, bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
    EXPECT_TRUE(IsErrorBody(r->body));
  }
  auto unknown = renew("no-such-sandbox", json({{"expiresAt", rest::FormatRfc3339(later)}}).dump());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto manual = CreateSandbox(CreateBody());
  ASSERT_TRUE(manual.has_value());
  auto refused = renew(manual->id, json({{"expiresAt", rest::FormatRfc3339(later)}}).dump());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_EQ(ErrorCode(refused->body), "DOCKER::INVALID_EXPIRATION");

  // Renewing to a near time ends the sandbox then.
  auto soon =
      renew(sandbox->id,
            json({{"expiresAt", rest::FormatRfc3339(absl::Now() + absl::Seconds(2))}}).dump());
  ASSERT_TRUE(soon);
  ASSERT_EQ(soon->status, 200) << soon->body;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  int status = 200;
  while (absl::Now() < deadline && status == 200) {
    absl::SleepFor(absl::Milliseconds(250));
    auto r = api_->Get("/v1/sandboxes/" + sandbox->id);
    status = r ? r->status : 0;
  }
  EXPECT_EQ(status, 404) << "the sandbox outlived its renewed expiry";
}

TEST_F(Lifecycle, MetadataMergePatch) {
  json body = CreateBody();
  body["metadata"] = {{"team", "a"}, {"stage", "dev"}};
  auto sandbox = CreateSandbox(body);
  ASSERT_TRUE(sandbox.has_value());
  auto patch = [&](const std::string& id, const std::string& request) {
    return api_->Patch("/v1/sandboxes/" + id + "/metadata", request, "application/json");
  };
  auto res = patch(sandbox->id, R"({"team":null,"stage":"prod","owner":"ci"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json want = {{"stage", "prod"}, {"owner", "ci"}};
  EXPECT_EQ(ParseJson(res->body)["metadata"], want) << res->body;
  EXPECT_EQ(ParseJson(res->body).value("id", ""), sandbox->id);
  auto listed = api_->Get("/v1/sandboxes?metadata=owner%3Dci");
  ASSERT_TRUE(listed);
  EXPECT_EQ(ParseJson(listed->body)["items"].size(), 1u) << listed->body;

  auto noop = patch(sandbox->id, "{}");
  ASSERT_TRUE(noop);
  EXPECT_EQ(noop->status, 200);
  EXPECT_EQ(ParseJson(noop->body)["metadata"], want);
  for (const std::string bad : {R"({"stage":1})", R"(["x"])", R"({"":"x"})", "{"}) {
    auto r = patch(sandbox->id, bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
    EXPECT_TRUE(IsErrorBody(r->body));
  }
  for (const std::string bad :
       {R"({"opensandbox.io/id":"x"})", R"({"ok":"has space"})", R"({"bad key":"v"})"}) {
    auto r = patch(sandbox->id, bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
    EXPECT_EQ(ErrorCode(r->body), "SANDBOX::INVALID_METADATA_LABEL") << bad;
  }
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["metadata"], want) << "a refused patch changes nothing";
  auto unknown = patch("no-such-sandbox", "{}");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(Lifecycle, GetReturnsSandboxWithImage) {
  auto sandbox = CreateSandbox(CreateBody({"sleep", "1000"}));
  ASSERT_TRUE(sandbox.has_value());
  auto res = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseJson(res->body);
  EXPECT_EQ(j.value("id", ""), sandbox->id);
  EXPECT_EQ(j["image"].value("uri", ""), "host");
  EXPECT_EQ(j["status"].value("state", ""), "Running");
  EXPECT_EQ(j["entrypoint"], json({"sleep", "1000"}));
}

TEST_F(Lifecycle, ListContainsSandboxWithPagination) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto res = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseJson(res->body);
  ASSERT_TRUE(j["items"].is_array()) << res->body;
  ASSERT_EQ(j["items"].size(), 1u) << res->body;
  EXPECT_EQ(j["items"][0].value("id", ""), sandbox->id);
  EXPECT_EQ(j["items"][0]["image"].value("uri", ""), "host");
  EXPECT_EQ(j["pagination"], json({{"page", 1},
                                   {"pageSize", 20},
                                   {"totalItems", 1},
                                   {"totalPages", 1},
                                   {"hasNextPage", false}}));
}

TEST_F(Lifecycle, DeleteIs204ThenGetIs404) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto del = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  EXPECT_THAT(del->body, IsEmpty());
  auto get = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);
  EXPECT_TRUE(IsErrorBody(get->body));
  auto again = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
}

// --- Endpoint and proxy --------------------------------------------------------------------------

class Endpoint : public RuntimeTest {
 protected:
  // An HTTP client for a port of the sandbox through the runtime's proxy: the endpoint's
  // host, its path (requests go to path + "/..."), and the headers it says to send.
  struct ProxiedPort {
    std::unique_ptr<httplib::Client> client;
    std::string path;
    httplib::Headers headers;
  };
  ProxiedPort Proxied(const std::string& sandbox_id, int port) {
    ProxiedPort out;
    auto endpoint = api_->Get(absl::StrCat("/v1/sandboxes/", sandbox_id, "/endpoints/", port));
    EXPECT_TRUE(endpoint && endpoint->status == 200);
    if (!endpoint || endpoint->status != 200) return out;
    json e = ParseJson(endpoint->body);
    const std::string url = e.value("endpoint", "");
    out.path = url.substr(url.find('/'));
    out.client = std::make_unique<httplib::Client>("http://" + url.substr(0, url.find('/')));
    for (const auto& [k, v] : e["headers"].items()) out.headers.emplace(k, v.get<std::string>());
    return out;
  }
};

TEST_F(Endpoint, IsSchemelessProxyPathWithToken) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto res = api_->Get(absl::StrCat("/v1/sandboxes/", sandbox->id, "/endpoints/", kAgentPort));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseJson(res->body);
  std::string endpoint = j.value("endpoint", "");
  EXPECT_THAT(endpoint, Not(HasSubstr("://")));
  EXPECT_THAT(endpoint, StartsWith(runtime_->address() + "/"));
  EXPECT_THAT(endpoint, EndsWith(absl::StrCat("/sandboxes/", sandbox->id, "/proxy/44772")));
  EXPECT_THAT(j["headers"].value("X-EXECD-ACCESS-TOKEN", ""), SizeIs(Gt(15)));
}

TEST_F(Endpoint, ProxyRefusesMissingTokenAndRunsNothing) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto refused = PostCommand(*sandbox, json({{"command", "touch /tmp/ran"}}).dump(), std::nullopt);
  EXPECT_EQ(refused.http_status, 401) << Describe(refused);
  EXPECT_TRUE(IsErrorBody(refused.body)) << refused.body;
  auto check = Run(*sandbox, "test -e /tmp/ran");
  EXPECT_EQ(ExitCode(check), 1) << Describe(check);
}

TEST_F(Endpoint, ProxyRefusesWrongTokenAndRunsNothing) {
  auto sandbox = CreateSandbox();
  auto other = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value() && other.has_value());
  for (const std::string& token : {std::string("wrong"), other->token, std::string()}) {
    auto refused = PostCommand(*sandbox, json({{"command", "touch /tmp/ran"}}).dump(), token);
    EXPECT_EQ(refused.http_status, 401) << Describe(refused);
    EXPECT_TRUE(IsErrorBody(refused.body)) << refused.body;
  }
  auto check = Run(*sandbox, "test -e /tmp/ran");
  EXPECT_EQ(ExitCode(check), 1) << Describe(check);
}

// A web server inside the sandbox (on its own loopback) is reached through the proxy with the
// endpoint's headers, as a user previews an app; a port where nothing listens is a clear 502.
TEST_F(Endpoint, ProxyReachesAnyPortInsideTheSandbox) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto started = Run(*sandbox,
                     "mkdir -p /tmp/site && echo 'hello from inside' > /tmp/site/index.html && "
                     "cd /tmp/site && exec python3 -m http.server 8080 --bind 127.0.0.1",
                     {{"background", true}});
  ASSERT_EQ(ExitCode(started), 0) << Describe(started);

  ProxiedPort proxied = Proxied(sandbox->id, 8080);
  ASSERT_NE(proxied.client, nullptr);
  httplib::Client& client = *proxied.client;
  const std::string& path = proxied.path;
  const httplib::Headers& headers = proxied.headers;

  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  auto page = client.Get(path + "/index.html?x=1", headers);
  while ((!page || page->status != 200) && absl::Now() < deadline) {  // until it listens
    absl::SleepFor(absl::Milliseconds(100));
    page = client.Get(path + "/index.html?x=1", headers);
  }
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << page->body;
  EXPECT_EQ(page->body, "hello from inside\n");
  auto missing = client.Get(path + "/nope.html", headers);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << "the app's own answers pass through";
  auto refused = client.Get(path + "/index.html");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << "the token guards every port";

  auto closed = client.Get("/sandboxes/" + sandbox->id + "/proxy/8081/", headers);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 502) << closed->body;
  EXPECT_TRUE(IsErrorBody(closed->body)) << closed->body;
  EXPECT_THAT(closed->body, HasSubstr("nothing listens on port 8081"));
}

// A server on the sandbox's loopback that answers a POST with what it received: its headers
// (one "name: value" line each, in order) and, after a blank line, its body.
// A server on port 8092 that answers every GET 503 with an empty body.
constexpr char kBusyServer[] = R"(import http.server
class Busy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8092), Busy).serve_forever()
)";

constexpr char kRequestEcho[] = R"(import http.server
class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        head = ''.join(f'{k}: {v}\n' for k, v in self.headers.items()).encode()
        reply = head + b'\n' + body
        self.send_response(200)
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
http.server.HTTPServer(('127.0.0.1', 8091), Echo).serve_forever()
)";

// An app's error answer with an empty body reaches the client as the app gave it, on a
// connection that stays usable; a body sent to a port where nothing listens is not taken for the
// next request.
TEST_F(Endpoint, ProxyPassesEmptyErrorAnswersThroughAsTheyAre) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto started = Run(*sandbox, "cat > /tmp/busy.py <<'EOF'\n" + std::string(kBusyServer) +
                                   "EOF\nexec python3 /tmp/busy.py",
                     {{"background", true}});
  ASSERT_EQ(ExitCode(started), 0) << Describe(started);
  ProxiedPort proxied = Proxied(sandbox->id, 8092);
  ASSERT_NE(proxied.client, nullptr);
  proxied.client->set_keep_alive(true);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  auto busy = proxied.client->Get(proxied.path + "/", proxied.headers);
  while ((!busy || busy->status != 503) && absl::Now() < deadline) {  // until it listens
    absl::SleepFor(absl::Milliseconds(100));
    busy = proxied.client->Get(proxied.path + "/", proxied.headers);
  }
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->body, "") << "the runtime wrote an error body of its own";
  EXPECT_NE(busy->get_header_value("Connection"), "close");

  auto [host, port] = SplitHostPort(runtime_->address());
  RawConnection c(host, port);
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string request = absl::StrCat("POST /sandboxes/", sandbox->id, "/proxy/8093/ HTTP/1.1\r\n",
                                     "Host: x\r\nContent-Length: ", smuggled.size(), "\r\n");
  for (const auto& [k, v] : proxied.headers) absl::StrAppend(&request, k, ": ", v, "\r\n");
  c.Send(absl::StrCat(request, "\r\n", smuggled));
  EXPECT_THAT(c.ReadResponseHead(), StartsWith("HTTP/1.1 502"));
  EXPECT_THAT(c.ReadSome(), IsEmpty()) << "the body was answered as a request";
}

// A multipart body reaches the sandbox's server byte for byte (preamble, every part header),
// with its Content-Type and its length; the header the runtime uses to carry the Content-Type
// past its HTTP library is never taken from the client nor passed on.
TEST_F(Endpoint, ProxyPassesMultipartBodiesThroughUnchanged) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto started = Run(*sandbox, "cat > /tmp/echo.py <<'EOF'\n" + std::string(kRequestEcho) +
                                   "EOF\nexec python3 /tmp/echo.py",
                     {{"background", true}});
  ASSERT_EQ(ExitCode(started), 0) << Describe(started);
  ProxiedPort proxied = Proxied(sandbox->id, 8091);
  ASSERT_NE(proxied.client, nullptr);
  httplib::Client& client = *proxied.client;
  const std::string& path = proxied.path;
  httplib::Headers headers = proxied.headers;
  headers.emplace("X-Osb-Multipart-Content-Type", "text/plain");

  const std::string type = "multipart/form-data; boundary=b0undary";
  const std::string body =
      "a preamble the parser would drop\r\n"
      "--b0undary\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
      "Content-Transfer-Encoding: binary\r\n"
      "\r\n"
      "bytes\x00\xff\r\n"
      "--b0undary--\r\n";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  auto echoed = client.Post(path + "/", headers, body, type);
  while ((!echoed || echoed->status != 200) && absl::Now() < deadline) {  // until it listens
    absl::SleepFor(absl::Milliseconds(100));
    echoed = client.Post(path + "/", headers, body, type);
  }
  ASSERT_TRUE(echoed);
  ASSERT_EQ(echoed->status, 200) << echoed->body;
  const std::size_t split = echoed->body.find("\n\n");
  ASSERT_NE(split, std::string::npos) << echoed->body;
  const std::string seen_headers = echoed->body.substr(0, split + 1);
  EXPECT_EQ(echoed->body.substr(split + 2), body);
  EXPECT_THAT(seen_headers, HasSubstr("Content-Type: " + type + "\n"));
  EXPECT_THAT(seen_headers, HasSubstr("Content-Length: " + std::to_string(body.size()) + "\n"));
  EXPECT_THAT(absl::AsciiStrToLower(seen_headers), Not(HasSubstr("x-osb-multipart")));
  int types = 0;
  for (std::size_t at = 0; (at = seen_headers.find("Content-Type:", at)) != std::string::npos;
       ++at) {
    ++types;
  }
  EXPECT_EQ(types, 1) << "the client's X-Osb-Multipart-Content-Type became a second one";
}

// A WebSocket echo server on the sandbox's loopback (the Python standard library only).
constexpr char kWebSocketEcho[] = R"(import base64, hashlib, socketserver
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        fields = {}
        while True:
            line = self.rfile.readline().strip()
            if not line: break
            name, _, value = line.decode().partition(':')
            fields[name.lower()] = value.strip()
        connection = fields.get('connection', '').lower()
        if fields.get('upgrade') != 'websocket' or 'upgrade' not in connection:
            self.wfile.write(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
            return
        key = fields.get('sec-websocket-key', '')
        magic = (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()
        accept = base64.b64encode(hashlib.sha1(magic).digest()).decode()
        self.wfile.write(('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                          'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept +
                          '\r\n\r\n').encode())
        while True:
            head = self.rfile.read(2)
            if len(head) < 2: return
            mask = self.rfile.read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(head[1] & 127)))
            if head[0] & 15 == 8:
                self.wfile.write(b'\x88\x00')
                return
            reply = b'echo: ' + data
            self.wfile.write(bytes([0x81, len(reply)]) + reply)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(('127.0.0.1', 8090), Echo).serve_forever()
)";

// A client's frame: final, the given opcode, masked as RFC 6455 requires of clients.
std::string ClientFrame(int opcode, const std::string& payload) {
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string frame = {static_cast<char>(0x80 | opcode), static_cast<char>(0x80 | payload.size())};
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  }
  return frame;
}

// A WebSocket server inside the sandbox is reached through the proxy: the upgrade is answered by
// the sandbox's server, frames pass both ways unchanged, and the close ends the connection.
TEST_F(Endpoint, ProxyPassesWebSocketUpgradesThrough) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto wrote = Run(*sandbox, absl::StrCat("cat > /tmp/ws.py <<'EOF'\n", kWebSocketEcho, "EOF"));
  ASSERT_EQ(ExitCode(wrote), 0) << Describe(wrote);
  auto started = Run(*sandbox, "exec python3 /tmp/ws.py", {{"background", true}});
  ASSERT_EQ(ExitCode(started), 0) << Describe(started);
  auto endpoint = api_->Get("/v1/sandboxes/" + sandbox->id + "/endpoints/8090");
  ASSERT_TRUE(endpoint);
  json e = ParseJson(endpoint->body);
  const std::string url = e.value("endpoint", "");
  const auto [host, port] = SplitHostPort(url.substr(0, url.find('/')));
  std::string request =
      absl::StrCat("GET ", url.substr(url.find('/')), "/chat?room=1 HTTP/1.1\r\n", "Host: ",
                   url.substr(0, url.find('/')), "\r\n",
                   "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n",
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
  for (const auto& [k, v] : e["headers"].items()) {
    absl::StrAppend(&request, k, ": ", v.get<std::string>(), "\r\n");
  }
  request += "\r\n";

  std::unique_ptr<RawConnection> ws;
  std::string head;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {  // until the server listens (a 502 before)
    if (!head.empty()) absl::SleepFor(absl::Milliseconds(100));
    ws = std::make_unique<RawConnection>(host, port);
    ASSERT_TRUE(ws->ok());
    ws->Send(request);
    head = ws->ReadResponseHead();
  } while (!absl::StartsWith(head, "HTTP/1.1 101") && absl::Now() < deadline);
  ASSERT_TRUE(absl::StartsWith(head, "HTTP/1.1 101")) << head;
  EXPECT_THAT(head, HasSubstr("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_THAT(head, HasSubstr("Upgrade: websocket\r\n"));

  for (const std::string text : {"hello", "second message"}) {
    ws->Send(ClientFrame(1, text));
    const std::string reply = "echo: " + text;
    EXPECT_EQ(ws->Read(2 + reply.size()),
              std::string({static_cast<char>(0x81), static_cast<char>(reply.size())}) + reply);
  }
  ws->Send(ClientFrame(8, ""));
  EXPECT_EQ(ws->Read(2), std::string("\x88\x00", 2));
  EXPECT_EQ(ws->Read(1), "") << "the server's close ends the tunnel";

  auto health = api_->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace osb::test
