// osbd's config file: what each section gives, what is refused and how it is named, and how a
// profile lays over the default connection.
#include "daemon/daemon_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>


#include "rest/sys/file_util.h"
#include "tests/temp_dir.h"

namespace osb::daemon {
namespace {

using ::testing::HasSubstr;

class DaemonConfigTest : public ::testing::Test {
 protected:
  test::TempDir temp_{"osbd-config"};
  const std::string& dir_ = temp_.path();

  absl::StatusOr<DaemonConfig> Load(const std::string& text) {
    const std::string path = dir_ + "/osbd.toml";
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return LoadDaemonConfig(path, /*named=*/true);
  }
};

TEST_F(DaemonConfigTest, EverySectionIsRead) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/token", "abcdefghijklmnopqrst\n", 0600).ok());
  auto config = Load(R"(
domain = "https://sandboxes.example.com/v1"
api_key = "k"
request_timeout = 2.5
use_server_proxy = true
headers = { X-Team = "infra" }
socket = "/run/x.sock"
log_format = "json"
[profiles.local]
domain = "127.0.0.1:8080"
ca_file = "/etc/local-ca.pem"
[access]
group = "0"
[tcp]
listen = "127.0.0.1:7443"
token_file = ")" + dir_ + R"(/token"
[metrics]
listen = "127.0.0.1:9464"
[templates.py]
image = "python:3.11"
timeout = "600s"
env = { A = "b" }
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->defaults.domain, "https://sandboxes.example.com/v1");
  EXPECT_EQ(config->defaults.request_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(config->defaults.use_server_proxy, true);
  ASSERT_EQ(config->defaults.headers.size(), 1u);
  EXPECT_EQ(config->socket, "/run/x.sock");
  EXPECT_EQ(config->state_dir, std::nullopt);
  EXPECT_EQ(config->log_format, LogFormat::kJson);
  ASSERT_EQ(config->profiles.count("local"), 1u);
  EXPECT_EQ(config->profiles.at("local").ca_file, "/etc/local-ca.pem");
  EXPECT_EQ(config->defaults.ca_file, std::nullopt);
  EXPECT_EQ(config->access_group, 0u);
  EXPECT_EQ(config->tcp_listen, "127.0.0.1:7443");
  EXPECT_EQ(config->tcp_token, "abcdefghijklmnopqrst") << "the line break is not the token's";
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9464");
  ASSERT_EQ(config->templates.size(), 1u);
  EXPECT_EQ(config->templates[0].name(), "py");
  EXPECT_EQ(config->templates[0].timeout().seconds(), 600);
  EXPECT_EQ(config->templates[0].env().at("A"), "b");
}

TEST_F(DaemonConfigTest, AMissingFileIsEmptyUnlessNamed) {
  auto unnamed = LoadDaemonConfig(dir_ + "/none.toml", /*named=*/false);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->path, "");
  EXPECT_FALSE(LoadDaemonConfig(dir_ + "/none.toml", /*named=*/true).ok());
}

TEST_F(DaemonConfigTest, MistakesAreNamed) {
  EXPECT_THAT(Load("[tcp]\nlisten = \"x:1\"\n").status().message(), HasSubstr("token_file"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/short", "abc", 0600).ok());
  EXPECT_THAT(Load("[tcp]\nlisten = \"x:1\"\ntoken_file = \"" + dir_ + "/short\"\n")
                  .status()
                  .message(),
              HasSubstr("shorter than 16"));
  EXPECT_THAT(Load("request_timeout = 0\n").status().message(), HasSubstr("positive"));
  EXPECT_THAT(Load("headers = { A = 1 }\n").status().message(), HasSubstr("table of strings"));
  EXPECT_THAT(Load("domain = \"host:1/path\"\n").status().message(), HasSubstr("malformed"));
  EXPECT_THAT(Load("profiles = 1\n").status().message(), HasSubstr("'profiles' must be"));
  EXPECT_THAT(Load("log_format = \"xml\"\n").status().message(),
              HasSubstr("'log_format' must be text or json"));
  EXPECT_THAT(Load("[metrics]\n").status().message(), HasSubstr("'listen' is required"));
  EXPECT_THAT(Load("[templates.t]\nname = \"u\"\n").status().message(), HasSubstr("differs"));
  EXPECT_THAT(Load("[templates.t]\nimagine = \"u\"\n").status().message(),
              HasSubstr("[templates.t]"));
}

TEST(ApplyProfileTest, SetFieldsWinAndAnotherDomainDropsTheKey) {
  Origin base;
  base.authority = "127.0.0.1:8080";
  base.api_key = "base-key";
  ConnectionProfile same;
  same.request_timeout = absl::Seconds(5);
  auto kept = ApplyProfile(same, base);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->api_key, "base-key");
  EXPECT_EQ(kept->request_timeout, absl::Seconds(5));
  EXPECT_EQ(kept->ca_file, "") << "the system's CAs";
  ConnectionProfile remote;
  remote.domain = "https://remote:443";
  remote.ca_file = "/etc/remote-ca.pem";
  auto moved = ApplyProfile(remote, base);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->ca_file, "/etc/remote-ca.pem");
  EXPECT_EQ(moved->LifecycleBase(), "https://remote:443/v1");
  EXPECT_EQ(moved->api_key, "");
}

}  // namespace
}  // namespace osb::daemon
