// Who may use osbd (PeerAllowed, for connections and lease holders alike), how osbd's statistics
// read in Prometheus's text format, and the TCP listener's token check.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/bearer_token_check.h"
#include "daemon/lease_keeper.h"
#include "daemon/peer_listener.h"
#include "daemon/prometheus_text.h"
#include "rest/error.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "tests/temp_dir.h"

namespace osb::daemon {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PeerAllowedTest, RootSelfAndTheGroupOnly) {
  EXPECT_TRUE(PeerAllowed(0, 0, {}, 1000, std::nullopt));
  EXPECT_TRUE(PeerAllowed(1000, 1000, {}, 1000, std::nullopt));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {}, 1000, std::nullopt));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {50}, 1000, std::nullopt)) << "no group configured";
  EXPECT_TRUE(PeerAllowed(1001, 50, {}, 1000, 50));
  EXPECT_TRUE(PeerAllowed(1001, 1001, {7, 50}, 1000, 50));
  EXPECT_FALSE(PeerAllowed(1001, 1001, {7}, 1000, 50));
}

TEST(PeerAllowedTest, SupplementaryGroupsOfThisProcess) {
  std::vector<gid_t> mine(static_cast<std::size_t>(::getgroups(0, nullptr)));
  ::getgroups(static_cast<int>(mine.size()), mine.data());
  EXPECT_EQ(SupplementaryGroups(::getpid()), mine);
  EXPECT_TRUE(SupplementaryGroups(-1).empty());
}

// A process of another user (uid and gid `uid`, supplementary group `group`) that waits until
// it is killed. Needs root.
class ProcessOfAnotherUser {
 public:
  ProcessOfAnotherUser(uid_t uid, gid_t group) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      const gid_t groups[] = {group};
      if (::setgroups(1, groups) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) _exit(1);
      (void)!::write(ready[1], "x", 1);
      ::pause();
      _exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    started_ = pid_ > 0 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
  }
  ~ProcessOfAnotherUser() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -pid_;  // remembered, for a test of a process gone
  }
  pid_t pid() const { return pid_ > 0 ? pid_ : -pid_; }
  bool started() const { return started_; }

 private:
  pid_t pid_ = 0;
  bool started_ = false;
};

constexpr uid_t kUser = 5002;
constexpr gid_t kGroup = 4242;

// A lease holder is judged as its connection would be: by the ids SO_PEERCRED would report.
TEST(PeerAllowedTest, ALiveProcessIsJudgedByItsEffectiveIdsAndGroups) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start a process as another user";
  ProcessOfAnotherUser other(kUser, kGroup);
  ASSERT_TRUE(other.started()) << "the child could not take the ids";
  EXPECT_FALSE(ProcessAllowed(other.pid(), 1000, std::nullopt));
  EXPECT_FALSE(ProcessAllowed(other.pid(), 1000, 77));
  EXPECT_TRUE(ProcessAllowed(other.pid(), 1000, kGroup)) << "in the access group";
  EXPECT_TRUE(ProcessAllowed(other.pid(), kUser, std::nullopt)) << "osbd's user";
  EXPECT_TRUE(ProcessAllowed(::getpid(), 1000, std::nullopt)) << "root";
  other.Kill();
  EXPECT_FALSE(ProcessAllowed(other.pid(), kUser, std::nullopt)) << "gone";
}

// osbd (root here) takes a new holder of another user only when it is in the access group; a
// refusal says so for programs (OSBD::LEASE_HOLDER_REFUSED). A lease adopted from an earlier osbd
// only needs its holder alive.
TEST(LeaseKeeperTest, AHolderMustBeOfAUserOsbdServes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start a process as another user";
  ProcessOfAnotherUser other(kUser, kGroup);
  ASSERT_TRUE(other.started());
  CurlLoop loop;
  LifecycleClient lifecycle(loop);
  auto refused = LeaseKeeper(lifecycle, std::nullopt).OpenHolder(other.pid());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_EQ(rest::ErrorCodeOf(refused.status()), "OSBD::LEASE_HOLDER_REFUSED");
  EXPECT_TRUE(LeaseKeeper(lifecycle, kGroup).OpenHolder(other.pid()).ok());
  EXPECT_TRUE(LeaseKeeper::OpenProcess(other.pid()).ok()) << "a lease granted before is kept";
  EXPECT_EQ(LeaseKeeper(lifecycle, kGroup).OpenHolder(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketDirectoryTest, OnlyADirectoryNoOtherUserCanWriteIsSafe) {
  test::TempDir dir("osb-peer");
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EXPECT_TRUE(SocketDirectoryIsSafe(dir.path()).ok());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  EXPECT_TRUE(SocketDirectoryIsSafe(dir.path()).ok()) << "readable is fine: the socket is 0600";
  ASSERT_EQ(::chmod(dir.path().c_str(), 01777), 0);
  EXPECT_TRUE(SocketDirectoryIsSafe(dir.path()).ok()) << "sticky, like /tmp";
  for (mode_t loose : {0777, 0770, 0702}) {
    ASSERT_EQ(::chmod(dir.path().c_str(), loose), 0);
    absl::Status s = SocketDirectoryIsSafe(dir.path());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << std::oct << loose;
    EXPECT_THAT(std::string(s.message()),
                AllOf(HasSubstr(dir.path()), HasSubstr("writable by others")));
  }
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.path().c_str(), 5004, 5004), 0);
    absl::Status s = SocketDirectoryIsSafe(dir.path());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(s.message()), HasSubstr("belongs to uid 5004"));
  }
  EXPECT_EQ(SocketDirectoryIsSafe(dir.path() + "/none").code(), absl::StatusCode::kNotFound);
}

TEST(PeerListenerTest, TheSocketAppearsListeningAndReplacesAStaleOne) {
  test::TempDir dir("osb-peer");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/osbd.sock";
  ASSERT_TRUE(WriteFileAtomic(path, "stale", 0644).ok());
  auto listener = PeerListener::Bind(path, std::nullopt);
  ASSERT_TRUE(listener.ok()) << listener.status();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u) << std::oct << (st.st_mode & 07777);
  // Only the socket is left in the directory: no staging name.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"osbd.sock"});
  // It listens already (connections wait in the backlog until Start).
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
      << std::strerror(errno);
  listener->reset();
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "the socket file goes with the listener";

  EXPECT_EQ(PeerListener::Bind(dir.path() + "/no/such/dir/osbd.sock", std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(PeerListener::Bind(dir.path() + "/" + std::string(120, 'x'), std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PrometheusTextTest, CountsHistogramsAndEscapedLabels) {
  opensandbox::v1::DaemonStats stats;
  stats.mutable_uptime()->set_seconds(3);
  stats.set_leases(2);
  auto* op = stats.add_operations();
  op->set_operation("/opensandbox.v1.Sandboxes/Create");
  (*op->mutable_outcomes())["OK"] = 4;
  (*op->mutable_outcomes())["NOT_FOUND"] = 1;
  auto* h = op->mutable_latency();
  h->add_bounds()->set_nanos(1000000);  // 1 ms
  h->add_bounds()->set_nanos(10000000);
  h->add_counts(2);
  h->add_counts(2);
  h->add_counts(1);
  h->set_count(5);
  h->mutable_sum()->set_nanos(40000000);
  auto* upstream = stats.add_operations();
  upstream->set_operation("GET /v1/sandboxes/{id}");
  upstream->set_origin("http://127.0.0.1:8080");
  (*upstream->mutable_outcomes())["200"] = 9;
  upstream->set_retries(2);
  upstream->mutable_latency()->set_count(9);
  auto* pool = stats.add_pools();
  pool->set_name("we\"ird");
  pool->set_idle(3);
  const std::string text = PrometheusText(stats, 7);
  EXPECT_THAT(text, HasSubstr("osbd_uptime_seconds 3.000\n"));
  EXPECT_THAT(text, HasSubstr("osbd_leases 2\n"));
  EXPECT_THAT(text, HasSubstr("osbd_refused_connections_total 7\n"));
  EXPECT_THAT(text, HasSubstr(
      "osbd_calls_total{method=\"/opensandbox.v1.Sandboxes/Create\",code=\"NOT_FOUND\"} 1\n"));
  // Buckets are cumulative, ending with +Inf = count.
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"0.001\"} 2"));
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"0.01\"} 4"));
  EXPECT_THAT(text, HasSubstr("_bucket{method=\"/opensandbox.v1.Sandboxes/Create\",le=\"+Inf\"} 5"));
  EXPECT_THAT(text, HasSubstr("osbd_call_duration_seconds_sum{method=\"/opensandbox.v1.Sandboxes/"
                              "Create\"} 0.040000\n"));
  EXPECT_THAT(text, HasSubstr("osbd_pool_idle{pool=\"we\\\"ird\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE osbd_call_duration_seconds histogram\n"));
  // Upstream operations have their own families, labelled with the origin.
  EXPECT_THAT(text, HasSubstr("osbd_upstream_calls_total{operation=\"GET /v1/sandboxes/{id}\","
                              "origin=\"http://127.0.0.1:8080\",status=\"200\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("osbd_upstream_duration_seconds_count{operation=\"GET /v1/"
                              "sandboxes/{id}\",origin=\"http://127.0.0.1:8080\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("osbd_upstream_retries_total{operation=\"GET /v1/sandboxes/{id}\","
                              "origin=\"http://127.0.0.1:8080\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("osbd_calls_total{method=\"GET")));
}

TEST(BearerTokenCheckTest, OnlyTheExactTokenPasses) {
  BearerTokenCheck check("0123456789abcdef");
  auto run = [&](const std::string& value) {
    grpc::AuthMetadataProcessor::InputMetadata in;
    if (!value.empty()) in.emplace("authorization", value);
    grpc::AuthMetadataProcessor::OutputMetadata consumed, response;
    return check.Process(in, nullptr, &consumed, &response).error_code();
  };
  EXPECT_EQ(run(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdeX"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdef0"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Basic 0123456789abcdef"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(run("Bearer 0123456789abcdef"), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace osb::daemon
