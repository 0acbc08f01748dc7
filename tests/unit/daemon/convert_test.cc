#include "daemon/convert.h"

#include <gtest/gtest.h>

#include "google/protobuf/util/time_util.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

TEST(ConvertCreate, AppliesTheOfficialSdkDefaults) {
  v1::CreateSandboxRequest in;
  in.set_image("python:3.11");
  auto out = ToRest(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->image->uri, "python:3.11");
  EXPECT_EQ(out->entrypoint, (std::vector<std::string>{"tail", "-f", "/dev/null"}));
  EXPECT_EQ(out->timeout_seconds, 600);
  EXPECT_EQ(out->resource_limits.at("cpu"), "1");
  EXPECT_EQ(out->resource_limits.at("memory"), "2Gi");
}

TEST(ConvertCreate, ManualCleanupSendsNoTimeout) {
  v1::CreateSandboxRequest in;
  in.set_image("x");
  in.set_manual_cleanup(true);
  auto out = ToRest(in);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->timeout_seconds.has_value());
}

TEST(ConvertCreate, RejectsContradictionsAndShortTimeouts) {
  v1::CreateSandboxRequest both;
  both.set_image("x");
  both.set_snapshot_id("s");
  EXPECT_EQ(ToRest(both).status().code(), absl::StatusCode::kInvalidArgument);

  v1::CreateSandboxRequest neither;
  EXPECT_EQ(ToRest(neither).status().code(), absl::StatusCode::kInvalidArgument);

  v1::CreateSandboxRequest short_timeout;
  short_timeout.set_image("x");
  *short_timeout.mutable_timeout() = TimeUtil::SecondsToDuration(30);
  EXPECT_EQ(ToRest(short_timeout).status().code(), absl::StatusCode::kInvalidArgument);

  v1::CreateSandboxRequest manual_and_timeout;
  manual_and_timeout.set_image("x");
  manual_and_timeout.set_manual_cleanup(true);
  *manual_and_timeout.mutable_timeout() = TimeUtil::SecondsToDuration(120);
  EXPECT_EQ(ToRest(manual_and_timeout).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConvertCreate, TheCredentialProxyGoesWithItsNetworkPolicy) {
  v1::CreateSandboxRequest in;
  in.set_image("x");
  in.set_credential_proxy(true);
  absl::Status alone = ToRest(in).status();
  EXPECT_EQ(alone.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(alone.message(), "credential_proxy needs a network_policy");
  in.mutable_network_policy()->set_default_action(v1::NETWORK_ACTION_DENY);
  auto out = ToRest(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(rest::ToJson(*out)["credentialProxy"], nlohmann::json({{"enabled", true}}));
}

TEST(ConvertCreate, ATemplateMustBeAppliedBeforeConversionNotDropped) {
  v1::CreateSandboxRequest in;
  in.set_image("x");
  in.set_template_("t");
  EXPECT_EQ(ToRest(in).status().code(), absl::StatusCode::kInternal);
}

TEST(ConvertCreate, NetworkPolicyAndVolumesKeepTheWireNames) {
  v1::CreateSandboxRequest in;
  in.set_image("x");
  in.mutable_network_policy()->set_default_action(v1::NETWORK_ACTION_DENY);
  auto* rule = in.mutable_network_policy()->add_egress();
  rule->set_action(v1::NETWORK_ACTION_ALLOW);
  rule->set_target("example.com");
  auto* vol = in.add_volumes();
  vol->set_name("data");
  vol->set_mount_path("/data");
  vol->mutable_host()->set_path("/srv/data");
  auto out = ToRest(in);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out->network_policy)["defaultAction"], "deny");
  EXPECT_EQ((*out->network_policy)["egress"][0]["target"], "example.com");
  EXPECT_EQ((*out->volumes)[0]["mountPath"], "/data");
  EXPECT_EQ((*out->volumes)[0]["host"]["path"], "/srv/data");
}

TEST(ConvertSandbox, TimesAndOptionalFields) {
  rest::Sandbox in;
  in.id = "abc";
  in.status.state = "Running";
  in.created_at = "2026-06-12T10:00:00.123456Z";
  in.entrypoint = {"tail"};
  v1::Sandbox out = ToProto(in);
  EXPECT_EQ(out.id(), "abc");
  EXPECT_EQ(out.status().state(), "Running");
  EXPECT_EQ(TimeUtil::ToString(out.created_at()), "2026-06-12T10:00:00.123456Z");
  EXPECT_FALSE(out.has_expires_at());
}

TEST(ConvertRunCommand, ValidatesAndMaps) {
  v1::RunCommandRequest empty;
  EXPECT_EQ(ToRest(empty).status().code(), absl::StatusCode::kInvalidArgument);

  v1::RunCommandRequest gid_only;
  gid_only.set_command("id");
  gid_only.set_gid(5);
  EXPECT_EQ(ToRest(gid_only).status().code(), absl::StatusCode::kInvalidArgument);

  v1::RunCommandRequest in;
  in.set_command("ls");
  in.set_cwd("/tmp");
  *in.mutable_timeout() = TimeUtil::MillisecondsToDuration(1500);
  (*in.mutable_envs())["A"] = "1";
  auto out = ToRest(in);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->cwd, "/tmp");
  EXPECT_EQ(out->timeout_ms, 1500);
  EXPECT_EQ(out->envs.at("A"), "1");
}

TEST(ConvertEvent, EachExecdEventType) {
  rest::ServerStreamEvent init{.type = "init", .text = "id1", .timestamp_ms = 1000};
  auto e = ToProto(init, 1);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->seq(), 1u);
  EXPECT_EQ(e->started().command_id(), "id1");

  auto out = ToProto(rest::ServerStreamEvent{.type = "stdout", .text = "line"}, 2);
  EXPECT_EQ(out->stdout().data(), "line");

  rest::ServerStreamEvent error{.type = "error"};
  error.error = rest::EventError{"CommandExecError", "3", {"exit status 3"}};
  auto failed = ToProto(error, 3);
  EXPECT_EQ(failed->failed().exit_code(), 3);
  EXPECT_EQ(failed->failed().traceback(0), "exit status 3");

  EXPECT_FALSE(ToProto(rest::ServerStreamEvent{.type = "ping", .text = "pong"}, 4).has_value());
}

}  // namespace
}  // namespace osb::daemon
