#include "rest/lifecycle.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rest {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string MessageOf(const absl::Status& s) { return std::string(s.message()); }

// A request using every field, in the shapes the official SDKs send.
constexpr const char* kFullCreateRequest = R"({
  "image": {"uri": "registry.example.com/python:3.11",
            "auth": {"username": "u", "password": "p"}},
  "platform": {"os": "linux", "arch": "amd64"},
  "timeout": 600,
  "resourceLimits": {"cpu": "500m", "memory": "512Mi"},
  "env": {"A": "1", "B": "two"},
  "metadata": {"project": "apollo"},
  "entrypoint": ["tail", "-f", "/dev/null"],
  "networkPolicy": {"defaultAction": "deny",
                    "egress": [{"action": "allow", "target": "*.example.com"}]},
  "volumes": [{"name": "data", "mountPath": "/data", "host": {"path": "/srv/data"}}],
  "extensions": {"access.renew.extend.seconds": "300"},
  "secureAccess": true,
  "credentialProxy": {"enabled": true}
})";

TEST(CreateSandboxRequestTest, ParsesEveryField) {
  absl::StatusOr<CreateSandboxRequest> r =
      ParseCreateSandboxRequest(json::parse(kFullCreateRequest));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->image.has_value());
  EXPECT_EQ(r->image->uri, "registry.example.com/python:3.11");
  ASSERT_TRUE(r->image->auth.has_value());
  EXPECT_EQ(r->image->auth->username, "u");
  EXPECT_EQ(r->image->auth->password, "p");
  EXPECT_FALSE(r->snapshot_id.has_value());
  ASSERT_TRUE(r->platform.has_value());
  EXPECT_EQ(r->platform->os, "linux");
  EXPECT_EQ(r->platform->arch, "amd64");
  EXPECT_EQ(r->timeout_seconds, 600);
  EXPECT_THAT(r->resource_limits,
              UnorderedElementsAre(Pair("cpu", "500m"), Pair("memory", "512Mi")));
  EXPECT_THAT(r->env, UnorderedElementsAre(Pair("A", "1"), Pair("B", "two")));
  EXPECT_THAT(r->metadata, ElementsAre(Pair("project", "apollo")));
  EXPECT_THAT(r->entrypoint, ElementsAre("tail", "-f", "/dev/null"));
  ASSERT_TRUE(r->network_policy.has_value());
  EXPECT_EQ((*r->network_policy)["defaultAction"], "deny");
  ASSERT_TRUE(r->volumes.has_value());
  EXPECT_EQ((*r->volumes)[0]["mountPath"], "/data");
  EXPECT_THAT(r->extensions, ElementsAre(Pair("access.renew.extend.seconds", "300")));
  EXPECT_TRUE(r->secure_access);
  EXPECT_TRUE(r->credential_proxy);
  EXPECT_TRUE(ValidateCreateSandboxRequest(*r).ok());
}

TEST(CreateSandboxRequestTest, RoundTripsEveryField) {
  const json original = json::parse(kFullCreateRequest);
  absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ToJson(*r), original);
}

TEST(CreateSandboxRequestTest, MinimalRequestWritesNoDefaultsAndNoNulls) {
  const json original = json::parse(R"({"image":{"uri":"ubuntu"},"entrypoint":["sleep","inf"]})");
  absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->timeout_seconds.has_value());
  EXPECT_FALSE(r->secure_access);
  EXPECT_THAT(r->env, IsEmpty());
  EXPECT_EQ(ToJson(*r), original);
}

TEST(CreateSandboxRequestTest, DefaultRequestSerialisesToAnEmptyObject) {
  EXPECT_EQ(ToJson(CreateSandboxRequest{}), json::object());
}

TEST(CreateSandboxRequestTest, TimeoutAbsentAndNullBothMeanManualCleanup) {
  for (const char* text : {R"({"snapshotId":"s"})", R"({"snapshotId":"s","timeout":null})"}) {
    absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(json::parse(text));
    ASSERT_TRUE(r.ok()) << text << ": " << r.status();
    EXPECT_FALSE(r->timeout_seconds.has_value()) << text;
    EXPECT_TRUE(ValidateCreateSandboxRequest(*r).ok()) << text;
    // Written back without the field at all, as the JS and Go SDKs do.
    EXPECT_FALSE(ToJson(*r).contains("timeout")) << text;
  }
}

TEST(CreateSandboxRequestTest, TimeoutBelowSixtyIsRejectedByValidation) {
  absl::StatusOr<CreateSandboxRequest> r =
      ParseCreateSandboxRequest(json::parse(R"({"snapshotId":"s","timeout":30})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->timeout_seconds, 30);
  absl::Status s = ValidateCreateSandboxRequest(*r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'timeout'"));
  EXPECT_THAT(MessageOf(s), HasSubstr("60"));

  r->timeout_seconds = 59;
  EXPECT_FALSE(ValidateCreateSandboxRequest(*r).ok());
  r->timeout_seconds = 0;
  EXPECT_FALSE(ValidateCreateSandboxRequest(*r).ok());
  r->timeout_seconds = -60;
  EXPECT_FALSE(ValidateCreateSandboxRequest(*r).ok());
  r->timeout_seconds = 60;
  EXPECT_TRUE(ValidateCreateSandboxRequest(*r).ok());
  EXPECT_EQ(ToJson(*r)["timeout"], 60);
}

TEST(CreateSandboxRequestTest, WrongTypesNameTheField) {
  const struct {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"image":"python"})", "'image'"},
      {R"({"image":{"uri":5}})", "'image.uri'"},
      {R"({"image":{}})", "'image.uri'"},
      {R"({"image":{"uri":"x","auth":"u:p"}})", "'image.auth'"},
      {R"({"image":{"uri":"x","auth":{"username":"u"}}})", "'image.auth.password'"},
      {R"({"snapshotId":7})", "'snapshotId'"},
      {R"({"platform":"linux/amd64"})", "'platform'"},
      {R"({"platform":{"os":"linux"}})", "'platform.arch'"},
      {R"({"timeout":"600"})", "'timeout'"},
      {R"({"timeout":600.5})", "'timeout'"},
      {R"({"timeout":60.0})", "'timeout'"},
      {R"({"timeout":true})", "'timeout'"},
      {R"({"timeout":18446744073709551615})", "'timeout'"},
      {R"({"resourceLimits":{"cpu":1}})", "'resourceLimits.cpu'"},
      {R"({"resourceLimits":["cpu"]})", "'resourceLimits'"},
      {R"({"env":{"A":1}})", "'env.A'"},
      {R"({"env":"A=1"})", "'env'"},
      {R"({"metadata":{"k":null}})", "'metadata.k'"},
      {R"({"metadata":[]})", "'metadata'"},
      {R"({"entrypoint":"tail -f /dev/null"})", "'entrypoint'"},
      {R"({"entrypoint":["tail",1]})", "'entrypoint[1]'"},
      {R"({"networkPolicy":[]})", "'networkPolicy'"},
      {R"({"volumes":{}})", "'volumes'"},
      {R"({"extensions":{"poolRef":false}})", "'extensions.poolRef'"},
      {R"({"secureAccess":"yes"})", "'secureAccess'"},
      {R"({"credentialProxy":true})", "'credentialProxy'"},
      {R"({"credentialProxy":{"enabled":"yes"}})", "'credentialProxy.enabled'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(MessageOf(r.status()), HasSubstr(c.field)) << c.body;
  }
}

TEST(CreateSandboxRequestTest, BodyMustBeAnObject) {
  for (const char* body : {"[]", "null", "\"x\"", "42"}) {
    absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(json::parse(body));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(CreateSandboxRequestTest, UnknownFieldsAreIgnored) {
  absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(json::parse(
      R"({"snapshotId":"s","futureField":{"x":1},"futureObject":{"enabled":true}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot_id, "s");
}

TEST(CreateSandboxRequestTest, NullOptionalMembersReadAsAbsent) {
  absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(json::parse(
      R"({"snapshotId":"s","image":null,"platform":null,"env":null,"metadata":null,
          "entrypoint":null,"networkPolicy":null,"volumes":null,"secureAccess":null})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->image.has_value());
  EXPECT_FALSE(r->network_policy.has_value());
  EXPECT_FALSE(r->volumes.has_value());
  EXPECT_FALSE(r->secure_access);
  EXPECT_EQ(ToJson(*r), json::parse(R"({"snapshotId":"s"})"));
}

TEST(CreateSandboxRequestTest, EnvNullValuesAreDropped) {
  absl::StatusOr<CreateSandboxRequest> r = ParseCreateSandboxRequest(
      json::parse(R"({"snapshotId":"s","env":{"KEEP":"1","DROP":null,"EMPTY":""}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->env, UnorderedElementsAre(Pair("KEEP", "1"), Pair("EMPTY", "")));
  EXPECT_EQ(ToJson(*r)["env"], json::parse(R"({"KEEP":"1","EMPTY":""})"));
}

CreateSandboxRequest WithImage() {
  CreateSandboxRequest r;
  r.image = ImageSpec{.uri = "python:3.11", .auth = std::nullopt};
  r.entrypoint = {"python", "-m", "http.server"};
  return r;
}

TEST(ValidateCreateSandboxRequestTest, ImageWithEntrypointIsValid) {
  EXPECT_TRUE(ValidateCreateSandboxRequest(WithImage()).ok());
}

TEST(ValidateCreateSandboxRequestTest, ExactlyOneOfImageAndSnapshot) {
  CreateSandboxRequest both = WithImage();
  both.snapshot_id = "snap-1";
  absl::Status s = ValidateCreateSandboxRequest(both);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'image'"));
  EXPECT_THAT(MessageOf(s), HasSubstr("'snapshotId'"));

  s = ValidateCreateSandboxRequest(CreateSandboxRequest{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'snapshotId'"));
}

TEST(ValidateCreateSandboxRequestTest, BlankSnapshotIdIsRejected) {
  CreateSandboxRequest r;
  r.snapshot_id = "  ";
  absl::Status s = ValidateCreateSandboxRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'snapshotId'"));
}

TEST(ValidateCreateSandboxRequestTest, SnapshotRestoreNeedsNoEntrypoint) {
  CreateSandboxRequest r;
  r.snapshot_id = "3f2a9c0d-1b7e-4c6a-8d5e-9f0a1b2c3d4e";
  EXPECT_TRUE(ValidateCreateSandboxRequest(r).ok());
  EXPECT_FALSE(ToJson(r).contains("entrypoint"));
}

TEST(ValidateCreateSandboxRequestTest, ImageNeedsAnEntrypoint) {
  CreateSandboxRequest r = WithImage();
  r.entrypoint.clear();
  absl::Status s = ValidateCreateSandboxRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'entrypoint'"));

  // The same through the parser: an explicit empty list is no entrypoint either.
  absl::StatusOr<CreateSandboxRequest> parsed =
      ParseCreateSandboxRequest(json::parse(R"({"image":{"uri":"x"},"entrypoint":[]})"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(ValidateCreateSandboxRequest(*parsed).ok());
}

TEST(ValidateCreateSandboxRequestTest, TheCredentialProxyNeedsANetworkPolicy) {
  CreateSandboxRequest r = WithImage();
  r.credential_proxy = true;
  absl::Status s = ValidateCreateSandboxRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(s), HasSubstr("'networkPolicy'"));
  r.network_policy = json{{"defaultAction", "deny"}};
  EXPECT_TRUE(ValidateCreateSandboxRequest(r).ok());
}

TEST(ValidateCreateSandboxRequestTest, ImageUriMustNotBeEmpty) {
  for (const char* uri : {"", "   "}) {
    CreateSandboxRequest r = WithImage();
    r.image->uri = uri;
    absl::Status s = ValidateCreateSandboxRequest(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "'" << uri << "'";
    EXPECT_THAT(MessageOf(s), HasSubstr("'image.uri'"));
  }
}

// A Sandbox as the official server returns it (GET /v1/sandboxes/{id}).
constexpr const char* kFullSandbox = R"({
  "id": "3f2a9c0d-1b7e-4c6a-8d5e-9f0a1b2c3d4e",
  "status": {"state": "Running", "reason": "CONTAINER_RUNNING", "message": "started",
             "lastTransitionAt": "2026-06-12T10:00:01.000000Z"},
  "createdAt": "2026-06-12T10:00:00.123456Z",
  "entrypoint": ["tail", "-f", "/dev/null"],
  "image": {"uri": "python:3.11"},
  "snapshotId": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a",
  "platform": {"os": "linux", "arch": "arm64"},
  "metadata": {"project": "apollo"},
  "expiresAt": "2026-06-12T10:10:00.123456Z"
})";

TEST(SandboxTest, ParsesEveryField) {
  absl::StatusOr<Sandbox> s = ParseSandbox(json::parse(kFullSandbox));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id, "3f2a9c0d-1b7e-4c6a-8d5e-9f0a1b2c3d4e");
  EXPECT_EQ(s->status.state, "Running");
  EXPECT_EQ(s->status.reason, "CONTAINER_RUNNING");
  EXPECT_EQ(s->status.message, "started");
  EXPECT_EQ(s->status.last_transition_at, "2026-06-12T10:00:01.000000Z");
  EXPECT_EQ(s->created_at, "2026-06-12T10:00:00.123456Z");
  EXPECT_THAT(s->entrypoint, ElementsAre("tail", "-f", "/dev/null"));
  ASSERT_TRUE(s->image.has_value());
  EXPECT_EQ(s->image->uri, "python:3.11");
  EXPECT_EQ(s->snapshot_id, "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a");
  ASSERT_TRUE(s->platform.has_value());
  EXPECT_EQ(s->platform->arch, "arm64");
  EXPECT_THAT(s->metadata, ElementsAre(Pair("project", "apollo")));
  EXPECT_EQ(s->expires_at, "2026-06-12T10:10:00.123456Z");
}

TEST(SandboxTest, RoundTrips) {
  const json original = json::parse(kFullSandbox);
  absl::StatusOr<Sandbox> s = ParseSandbox(original);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(ToJson(*s), original);
}

TEST(SandboxTest, AbsentOptionalFieldsAreOmittedNotNull) {
  Sandbox s;
  s.id = "id";
  s.status.state = "Pending";
  s.created_at = "2026-06-12T10:00:00.000000Z";
  // Manual cleanup: no expiresAt at all (the JS SDK maps a missing one to null itself).
  EXPECT_EQ(ToJson(s), json::parse(R"({"id":"id","status":{"state":"Pending"},
      "createdAt":"2026-06-12T10:00:00.000000Z","entrypoint":[]})"));
}

TEST(SandboxTest, NeverEchoesRegistryCredentials) {
  Sandbox s;
  s.id = "id";
  s.status.state = "Running";
  s.created_at = "t";
  s.image = ImageSpec{.uri = "private/repo:1", .auth = ImageAuth{"user", "secret"}};
  const json j = ToJson(s);
  EXPECT_EQ(j["image"], json::parse(R"({"uri":"private/repo:1"})"));
  EXPECT_THAT(j.dump(), ::testing::Not(HasSubstr("secret")));
}

TEST(SandboxTest, ToleratesNullOptionalFieldsAndUnknownStates) {
  absl::StatusOr<Sandbox> s = ParseSandbox(json::parse(R"({"id":"a","createdAt":"t",
      "status":{"state":"Allocated","reason":null},"entrypoint":["x"],"expiresAt":null,
      "image":null,"metadata":null,"somethingNew":1})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->status.state, "Allocated");
  EXPECT_FALSE(s->status.reason.has_value());
  EXPECT_FALSE(s->expires_at.has_value());
  EXPECT_FALSE(ToJson(*s).contains("expiresAt"));
}

TEST(SandboxTest, MissingOrWrongFieldsAreNamed) {
  const struct {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"status":{"state":"Running"},"createdAt":"t"})", "'id' is required"},
      {R"({"id":"a","createdAt":"t"})", "'status' is required"},
      {R"({"id":"a","status":"Running","createdAt":"t"})", "'status'"},
      {R"({"id":"a","status":{},"createdAt":"t"})", "'status.state' is required"},
      {R"({"id":"a","status":{"state":"Running","reason":1},"createdAt":"t"})", "'status.reason'"},
      {R"({"id":"a","status":{"state":"Running"}})", "'createdAt' is required"},
      {R"({"id":1,"status":{"state":"Running"},"createdAt":"t"})", "'id'"},
      {R"({"id":"a","status":{"state":"Running"},"createdAt":"t","metadata":{"k":1}})",
       "'metadata.k'"},
      {R"({"id":"a","status":{"state":"Running"},"createdAt":"t","expiresAt":0})", "'expiresAt'"},
      {R"({"id":"a","status":{"state":"Running"},"createdAt":"t","entrypoint":[null]})",
       "'entrypoint[0]'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Sandbox> s = ParseSandbox(json::parse(c.body));
    ASSERT_FALSE(s.ok()) << c.body;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(MessageOf(s.status()), HasSubstr(c.field)) << c.body;
  }
  EXPECT_FALSE(ParseSandbox(json::array()).ok());
}

TEST(SandboxTest, CreateResponseLacksImageAndSnapshotId) {
  absl::StatusOr<Sandbox> s = ParseSandbox(json::parse(kFullSandbox));
  ASSERT_TRUE(s.ok()) << s.status();
  json expected = json::parse(kFullSandbox);
  expected.erase("image");
  expected.erase("snapshotId");
  EXPECT_EQ(ToCreateResponseJson(*s), expected);
}

constexpr const char* kList = R"({
  "items": [
    {"id": "a", "status": {"state": "Running"}, "createdAt": "t1", "entrypoint": ["x"]},
    {"id": "b", "status": {"state": "Paused"}, "createdAt": "t2", "entrypoint": ["y"],
     "metadata": {"k": "v"}}
  ],
  "pagination": {"page": 2, "pageSize": 2, "totalItems": 5, "totalPages": 3, "hasNextPage": true}
})";

TEST(ListSandboxesResponseTest, ParsesAndRoundTrips) {
  const json original = json::parse(kList);
  absl::StatusOr<ListSandboxesResponse> r = ParseListSandboxesResponse(original);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[1].id, "b");
  EXPECT_EQ(r->items[1].status.state, "Paused");
  EXPECT_EQ(r->pagination.page, 2);
  EXPECT_EQ(r->pagination.page_size, 2);
  EXPECT_EQ(r->pagination.total_items, 5);
  EXPECT_EQ(r->pagination.total_pages, 3);
  EXPECT_TRUE(r->pagination.has_next_page);
  EXPECT_EQ(ToJson(*r), original);
}

TEST(ListSandboxesResponseTest, EmptyListIsAnArray) {
  EXPECT_EQ(ToJson(ListSandboxesResponse{}),
            json::parse(R"({"items":[],"pagination":{"page":1,"pageSize":20,"totalItems":0,
                "totalPages":0,"hasNextPage":false}})"));
}

TEST(ListSandboxesResponseTest, ErrorsNameTheItemAndField) {
  json bad_item = json::parse(kList);
  bad_item["items"][1]["status"].erase("state");
  absl::StatusOr<ListSandboxesResponse> r = ParseListSandboxesResponse(bad_item);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(MessageOf(r.status()), HasSubstr("'items[1].status.state'"));

  json not_object = json::parse(kList);
  not_object["items"][0] = "a";
  r = ParseListSandboxesResponse(not_object);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(MessageOf(r.status()), HasSubstr("'items[0]'"));

  json no_pagination = json::parse(kList);
  no_pagination.erase("pagination");
  r = ParseListSandboxesResponse(no_pagination);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(MessageOf(r.status()), HasSubstr("'pagination' is required"));

  json bad_flag = json::parse(kList);
  bad_flag["pagination"]["hasNextPage"] = "yes";
  r = ParseListSandboxesResponse(bad_flag);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(MessageOf(r.status()), HasSubstr("'pagination.hasNextPage'"));

  json no_items = json::parse(kList);
  no_items["items"] = json::object();
  r = ParseListSandboxesResponse(no_items);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(MessageOf(r.status()), HasSubstr("'items'"));
}

TEST(EndpointTest, ParsesAndRoundTrips) {
  const json original = json::parse(
      R"({"endpoint":"10.0.0.5:32768/proxy/18080","headers":{"OPENSANDBOX-EGRESS-AUTH":"tok"}})");
  absl::StatusOr<Endpoint> e = ParseEndpoint(original);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->endpoint, "10.0.0.5:32768/proxy/18080");
  EXPECT_THAT(e->headers, ElementsAre(Pair("OPENSANDBOX-EGRESS-AUTH", "tok")));
  EXPECT_EQ(ToJson(*e), original);
}

TEST(EndpointTest, HeadersAreOptional) {
  absl::StatusOr<Endpoint> e = ParseEndpoint(json::parse(R"({"endpoint":"127.0.0.1:44772"})"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->headers, IsEmpty());
  EXPECT_EQ(ToJson(*e), json::parse(R"({"endpoint":"127.0.0.1:44772"})"));
}

TEST(EndpointTest, ErrorsNameTheField) {
  absl::StatusOr<Endpoint> e = ParseEndpoint(json::parse(R"({"headers":{}})"));
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(MessageOf(e.status()), HasSubstr("'endpoint' is required"));
  e = ParseEndpoint(json::parse(R"({"endpoint":"h:1","headers":{"X":1}})"));
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(MessageOf(e.status()), HasSubstr("'headers.X'"));
  EXPECT_FALSE(ParseEndpoint(json("h:1")).ok());
}

TEST(Snapshot, RoundTripsAndRefusesWhatIsMissing) {
  const json wire = json::parse(R"({"id":"s1","sandboxId":"b1","name":"nightly",
      "status":{"state":"Ready","reason":"snapshot_ready",
                "lastTransitionAt":"2026-12-02T10:00:00Z"},
      "createdAt":"2026-12-02T09:59:00Z"})");
  auto s = ParseSnapshot(wire);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->sandbox_id, "b1");
  EXPECT_EQ(s->name, "nightly");
  EXPECT_EQ(s->status.state, "Ready");
  EXPECT_EQ(ToJson(*s), wire);
  json unnamed = wire;
  unnamed.erase("name");
  EXPECT_FALSE(ToJson(*ParseSnapshot(unnamed)).contains("name"));
  for (const char* field : {"id", "sandboxId", "status", "createdAt"}) {
    json broken = wire;
    broken.erase(field);
    EXPECT_THAT(ParseSnapshot(broken).status().message(), HasSubstr(field)) << field;
  }
  auto list = ParseListSnapshotsResponse(json{
      {"items", json::array({wire})},
      {"pagination",
       {{"page", 1}, {"pageSize", 20}, {"totalItems", 1}, {"totalPages", 1},
        {"hasNextPage", false}}}});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(ToJson(*list)["items"][0], wire);
  EXPECT_FALSE(ParseListSnapshotsResponse(json{{"items", json::array({1})}}).ok());
}

TEST(Paginate, WindowsAndRefusals) {
  auto w = Paginate(45, 3, 20);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->begin, 40);
  EXPECT_EQ(w->end, 45);
  EXPECT_EQ(w->info.total_pages, 3);
  EXPECT_FALSE(w->info.has_next_page);
  auto past = Paginate(45, 461168601842738792, 200);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->begin, past->end);
  EXPECT_FALSE(Paginate(1, 0, 20).ok());
  EXPECT_FALSE(Paginate(1, 1, 201).ok());
}

}  // namespace
}  // namespace rest
