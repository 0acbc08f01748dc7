// osb-runtime's resource limits and pause/resume seen from outside: sandboxes created over the
// lifecycle API with resourceLimits, commands run through the runtime's proxy, and the kernel's
// own counters read from the host's cgroup filesystem (the tests run as root on the host whose
// cgroups the runtime uses). A memory bomb, a fork bomb and CPU hogs stay inside their limits while
// the sandbox keeps serving; a paused sandbox makes no progress and takes no commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/execd.h"
#include "rest/ids.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::AllOf;
using ::testing::Each;
using ::testing::EndsWith;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Le;
using ::testing::Not;
using json = nlohmann::json;

const std::string kCgroupRoot = "/sys/fs/cgroup";

// Where the runtime puts a sandbox's cgroup files on this host: cgroup v2 when the root offers
// controllers, otherwise one v1 hierarchy per controller.
struct HostCgroups {
  bool v2 = false;

  static HostCgroups Detect() {
    HostCgroups h;
    auto controllers = ReadFile(kCgroupRoot + "/cgroup.controllers");
    h.v2 = controllers.ok() && absl::StrContains(*controllers, "memory");
    return h;
  }
  std::string Dir(const std::string& controller, const std::string& id) const {
    return v2 ? absl::StrCat(kCgroupRoot, "/opensandbox/", id)
              : absl::StrCat(kCgroupRoot, "/", controller, "/opensandbox/", id);
  }
  std::vector<std::string> Dirs(const std::string& id) const {
    if (v2) return {Dir("", id)};
    std::vector<std::string> out;
    for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) out.push_back(Dir(c, id));
    return out;
  }
  std::string Read(const std::string& controller, const std::string& id,
                   const std::string& file) const {
    auto text = ReadFile(Dir(controller, id) + "/" + file);
    return text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : "";
  }
  // The value after `key` in a flat keyed file (pids.events, cpu.stat).
  int64_t Keyed(const std::string& controller, const std::string& id, const std::string& file,
                const std::string& key) const {
    for (absl::string_view line : absl::StrSplit(Read(controller, id, file), '\n')) {
      std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      int64_t n = 0;
      if (words.size() == 2 && words[0] == key && absl::SimpleAtoi(words[1], &n)) return n;
    }
    return -1;
  }
  int64_t CpuUsageNs(const std::string& id) const {
    if (v2) return Keyed("", id, "cpu.stat", "usage_usec") * 1000;
    int64_t ns = -1;
    return absl::SimpleAtoi(Read("cpuacct", id, "cpuacct.usage"), &ns) ? ns : -1;
  }
  std::string MemoryLimit(const std::string& id) const {
    return Read("memory", id, v2 ? "memory.max" : "memory.limit_in_bytes");
  }
  std::string CpuQuota(const std::string& id) const {
    return v2 ? Read("cpu", id, "cpu.max") : Read("cpu", id, "cpu.cfs_quota_us");
  }
  // Times the memory limit made the kernel kill a process of the cgroup.
  int64_t OomKills(const std::string& id) const {
    return Keyed("memory", id, v2 ? "memory.events" : "memory.oom_control", "oom_kill");
  }
};

// The terminal event, or "" when the stream ended without one.
std::string Terminal(const CommandResult& r) {
  for (auto it = r.events.rbegin(); it != r.events.rend(); ++it) {
    if (it->type == rest::kEventExecutionComplete || it->type == rest::kEventError) return it->type;
  }
  return "";
}

// GET /metrics of a sandbox's agent, parsed; a failure is recorded when it does not answer 200
// with valid metrics.
rest::Metrics Metrics(const SandboxHandle& sandbox) {
  AgentClient agent(sandbox);
  auto r = agent.Get("/metrics");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 200) << r->body;
  auto m = rest::ParseMetrics(ParseJson(r->body));
  EXPECT_TRUE(m.ok()) << m.status() << ": " << r->body;
  return m.ok() ? *m : rest::Metrics{};
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the runtime enforces limits through cgroups";
    runtime_ = RuntimeProcess::Start();
    ASSERT_NE(runtime_, nullptr);
    api_ = runtime_->Client();
  }

  static json Body(json limits, std::vector<std::string> entrypoint = {"sleep", "infinity"}) {
    json body = {{"image", {{"uri", "host"}}}, {"entrypoint", entrypoint}};
    if (!limits.empty()) body["resourceLimits"] = limits;
    return body;
  }

  std::optional<SandboxHandle> Create(const json& body) { return CreateSandbox(*api_, body); }

  static CommandResult Run(const SandboxHandle& sandbox, const std::string& command,
                           json extra = json::object()) {
    return RunCommand(sandbox, command, std::move(extra));
  }

  // GET {proxy}/ping, as the SDKs' health check does.
  static httplib::Result Ping(const SandboxHandle& sandbox) {
    httplib::Client client("http://" + sandbox.proxy_host);
    client.set_read_timeout(10, 0);
    return client.Get(sandbox.proxy_path + "/ping", {{"X-EXECD-ACCESS-TOKEN", sandbox.token}});
  }

  // POST /v1/sandboxes/{id}/{action} with an empty body, as the SDKs send it.
  httplib::Result Lifecycle(const std::string& id, const std::string& action,
                            const std::string& prefix = "/v1") {
    return api_->Post(absl::StrCat(prefix, "/sandboxes/", id, "/", action), "", "application/json");
  }

  std::string State(const std::string& id) {
    auto res = api_->Get("/v1/sandboxes/" + id);
    return res && res->status == 200 ? ParseJson(res->body)["status"].value("state", "") : "";
  }

  // Runs `echo ok` until it succeeds: after a bomb is stopped, its last processes may still be
  // exiting.
  static bool AnswersWithin(const SandboxHandle& sandbox, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    do {
      CommandResult r = Run(sandbox, "echo ok");
      if (r.http_status == 200 && Stdout(r) == "ok" &&
          Terminal(r) == rest::kEventExecutionComplete) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(200));
    } while (absl::Now() < deadline);
    return false;
  }

  HostCgroups cgroups_ = HostCgroups::Detect();
  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<httplib::Client> api_;
};

// --- Limits -------------------------------------------------------------------------------------

class Limits : public LimitsTest {};

TEST_F(Limits, StatusSaysWhatIsEnforcedAndTheKernelHasIt) {
  auto sandbox = Create(Body({{"cpu", "500m"}, {"memory", "128Mi"}, {"pids", "64"}, {"gpu", "1"}}));
  ASSERT_TRUE(sandbox.has_value());
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_THAT(ParseJson(got->body)["status"].value("message", ""),
              AllOf(HasSubstr("resource limits enforced (cgroup v"),
                    HasSubstr("cpu 500m, memory 128Mi, pids 64"),
                    HasSubstr("NOT enforced: gpu 1 (osb-runtime has no GPU support)")));
  EXPECT_EQ(cgroups_.MemoryLimit(sandbox->id), "134217728");
  EXPECT_EQ(cgroups_.CpuQuota(sandbox->id), cgroups_.v2 ? "50000 100000" : "50000");
}

TEST_F(Limits, WithoutLimitsTheDefaultPidsLimitIsEnforced) {
  auto sandbox = Create(Body(json::object()));
  ASSERT_TRUE(sandbox.has_value());
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_THAT(
      ParseJson(got->body)["status"].value("message", ""),
      AllOf(HasSubstr("enforced"), HasSubstr("pids 4096 (default)"), Not(HasSubstr("NOT"))));
}

TEST_F(Limits, MalformedQuantityIs400NamingTheKeyAndCreatesNothing) {
  for (auto [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
           {"memory", "12XB"}, {"cpu", "fast"}, {"pids", "many"}, {"memory", "-1Gi"}}) {
    auto res = api_->Post("/v1/sandboxes", Body({{key, value}}).dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << key << "=" << value;
    EXPECT_EQ(ErrorCode(res->body), "SANDBOX::INVALID_PARAMETER");
    EXPECT_THAT(ParseJson(res->body).value("message", ""),
                AllOf(HasSubstr(absl::StrCat("resourceLimits.", key)), HasSubstr(value)));
  }
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_THAT(ParseJson(list->body)["items"], IsEmpty());
}

TEST_F(Limits, MemoryBombIsKilledAndTheSandboxKeepsServing) {
  auto sandbox = Create(Body({{"memory", "128Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  const int64_t oom_before = cgroups_.OomKills(sandbox->id);
  ASSERT_GE(oom_before, 0) << "no oom_kill counter";
  CommandResult bomb = Run(*sandbox,
                           "python3 -c 'b = []\n"
                           "while True: b.append(bytearray(16 << 20))'");
  EXPECT_EQ(Terminal(bomb), rest::kEventError) << Describe(bomb);
  EXPECT_GT(cgroups_.OomKills(sandbox->id), oom_before);
  CommandResult after = Run(*sandbox, "echo still here");
  EXPECT_EQ(Stdout(after), "still here") << Describe(after);
  EXPECT_EQ(Terminal(after), rest::kEventExecutionComplete);
}

// /tmp is a tmpfs, its pages the sandbox's memory, which no process owns: were it unbounded, a
// full /tmp would leave the OOM killer nothing to free and it would kill the agent, the sandbox's
// init. It holds half the memory limit, so filling it is a failed write.
TEST_F(Limits, FillingTmpIsAFailedWriteAndTheSandboxKeepsServing) {
  auto sandbox = Create(Body({{"memory", "128Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  const int64_t oom_before = cgroups_.OomKills(sandbox->id);
  CommandResult fill = Run(*sandbox, "head -c 200M /dev/zero 2>&1 > /tmp/fill");
  EXPECT_THAT(Stdout(fill), HasSubstr("No space left on device")) << Describe(fill);
  EXPECT_EQ(cgroups_.OomKills(sandbox->id), oom_before);
  CommandResult after =
      Run(*sandbox, "df -k --output=size /tmp | tail -1 | tr -d ' '; rm /tmp/fill");
  EXPECT_EQ(Stdout(after), "65536") << Describe(after);
  EXPECT_EQ(Terminal(after), rest::kEventExecutionComplete);
}

// The same through the files API: the upload fails with the disk's own error (not as a malformed
// body), and leaves no partial file.
TEST_F(Limits, AnUploadLargerThanTmpFailsWithNoSpaceAndLeavesNothing) {
  auto sandbox = Create(Body({{"memory", "128Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  AgentClient agent(*sandbox);
  auto r = agent.Upload({{"metadata", R"({"path":"/tmp/big"})", "", "application/json"},
                         {"file", std::string(96 << 20, 'z'), "big", "application/octet-stream"}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("No space left on device"));
  EXPECT_THAT(r->body, Not(HasSubstr("INVALID_FILE_CONTENT")));
  CommandResult after = Run(*sandbox, "ls -A /tmp | wc -l");
  EXPECT_EQ(Stdout(after), "0") << Describe(after);
}

TEST_F(Limits, ForksStopAtThePidsLimit) {
  auto sandbox = Create(Body({{"pids", "64"}}));
  ASSERT_TRUE(sandbox.has_value());
  // Forks sleeping children until the kernel refuses, prints how many it got, then ends them.
  CommandResult r = Run(*sandbox,
                        "python3 -c 'import os, signal, time\n"
                        "kids = []\n"
                        "try:\n"
                        "    while len(kids) < 1000:\n"
                        "        pid = os.fork()\n"
                        "        if pid == 0:\n"
                        "            time.sleep(60)\n"
                        "            os._exit(0)\n"
                        "        kids.append(pid)\n"
                        "except OSError:\n"
                        "    pass\n"
                        "print(len(kids))\n"
                        "for k in kids: os.kill(k, signal.SIGKILL)\n"
                        "for k in kids: os.waitpid(k, 0)'");
  ASSERT_EQ(Terminal(r), rest::kEventExecutionComplete) << Describe(r);
  int forked = 0;
  ASSERT_TRUE(absl::SimpleAtoi(Stdout(r), &forked)) << Describe(r);
  // 64 tasks for the sandbox's own: the entrypoint and python take two, osb-agent's are extra.
  EXPECT_GE(forked, 56);
  EXPECT_LE(forked, 64);
  EXPECT_TRUE(AnswersWithin(*sandbox, absl::Seconds(10)));
}

TEST_F(Limits, ForkBombIsContainedAndTheSandboxRecovers) {
  auto sandbox = Create(Body({{"pids", "64"}}));
  ASSERT_TRUE(sandbox.has_value());
  const int64_t refused_before = cgroups_.Keyed("pids", sandbox->id, "pids.events", "max");
  // The bomb runs in the command's process group; the command's timeout kills the whole group.
  CommandResult bomb =
      Run(*sandbox, "bomb() { bomb | bomb & }; bomb; sleep 60", {{"timeout", 4000}});
  EXPECT_EQ(Terminal(bomb), rest::kEventError) << Describe(bomb);
  EXPECT_GT(cgroups_.Keyed("pids", sandbox->id, "pids.events", "max"), refused_before)
      << "the bomb never reached the pids limit";
  EXPECT_TRUE(AnswersWithin(*sandbox, absl::Seconds(15)));
  // The host still forks freely.
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "exit 7"}).exit_code, 7);
}

TEST_F(Limits, CpuHogsGetNoMoreThanTheirQuota) {
  auto sandbox = Create(Body({{"cpu", "500m"}}));
  ASSERT_TRUE(sandbox.has_value());
  const int64_t before_ns = cgroups_.CpuUsageNs(sandbox->id);
  ASSERT_GE(before_ns, 0);
  const absl::Time start = absl::Now();
  CommandResult r = Run(*sandbox,
                        "timeout 3 sh -c 'while :; do :; done' & "
                        "timeout 3 sh -c 'while :; do :; done' & wait");
  const absl::Duration wall = absl::Now() - start;
  ASSERT_EQ(Terminal(r), rest::kEventExecutionComplete) << Describe(r);
  const double cpu_seconds =
      static_cast<double>(cgroups_.CpuUsageNs(sandbox->id) - before_ns) / 1e9;
  const double share = cpu_seconds / absl::ToDoubleSeconds(wall);
  std::printf("cpu 500m: %.2f CPU-seconds in %.2f s of wall time = %.3f cores\n", cpu_seconds,
              absl::ToDoubleSeconds(wall), share);
  RecordProperty("cpu_share", absl::StrCat(share));
  EXPECT_LE(share, 0.6);
  EXPECT_GT(share, 0.1) << "the hogs did not run at all";
}

TEST_F(Limits, MetricsReportTheLimitsAndTheUse) {
  auto sandbox = Create(Body({{"cpu", "500m"}, {"memory", "256Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  rest::Metrics idle = Metrics(*sandbox);
  EXPECT_DOUBLE_EQ(idle.cpu_count, 0.5);
  EXPECT_DOUBLE_EQ(idle.mem_total_mib, 256);
  EXPECT_GT(idle.mem_used_mib, 0);
  EXPECT_LT(idle.mem_used_mib, 64);
  EXPECT_LT(idle.cpu_used_pct, 40);
  EXPECT_NEAR(static_cast<double>(idle.timestamp_ms), absl::ToUnixMillis(absl::Now()), 5000);

  // A CPU hog, and a shell holding 60 MB in a variable (used after the sleep, so bash cannot
  // exec the sleep in its place).
  CommandResult hogs = Run(*sandbox,
                           "timeout 10 sh -c 'while :; do :; done' & "
                           "timeout 10 bash -c 'x=$(head -c 60000000 /dev/zero | tr \"\\0\" a); "
                           "sleep 10; echo ${#x}' &",
                           {{"background", true}});
  ASSERT_EQ(Terminal(hogs), rest::kEventExecutionComplete) << Describe(hogs);
  absl::SleepFor(absl::Seconds(2));
  rest::Metrics busy = Metrics(*sandbox);
  EXPECT_GT(busy.cpu_used_pct, 60) << "one hog fills the sandbox's half CPU";
  EXPECT_LE(busy.cpu_used_pct, 100);
  EXPECT_GT(busy.mem_used_mib, 55);
  EXPECT_LT(busy.mem_used_mib, 256);
}

TEST_F(Limits, MetricsWatchSendsALineEverySecond) {
  auto sandbox = Create(Body({{"memory", "128Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  AgentClient agent(*sandbox);
  std::string received;
  std::vector<rest::Metrics> samples;
  auto r = agent.http.Get(agent.AgentPath("/metrics/watch"), [&](const char* data, size_t n) {
    received.append(data, n);
    for (std::size_t nl; (nl = received.find('\n')) != std::string::npos;) {
      auto m = rest::ParseMetrics(ParseJson(received.substr(0, nl)));
      EXPECT_TRUE(m.ok()) << received.substr(0, nl);
      if (m.ok()) samples.push_back(*m);
      received.erase(0, nl + 1);
    }
    return samples.size() < 3;  // then hang up
  });
  ASSERT_EQ(samples.size(), 3u) << received;
  for (const auto& m : samples) EXPECT_DOUBLE_EQ(m.mem_total_mib, 128);
  EXPECT_GE(samples[2].timestamp_ms - samples[0].timestamp_ms, 1500);
  EXPECT_TRUE(AnswersWithin(*sandbox, absl::Seconds(5))) << "the agent serves on after a hang-up";
}

TEST_F(Limits, SandboxSeesItsOwnCgroupAsTheRoot) {
  auto sandbox = Create(Body(json::object()));
  ASSERT_TRUE(sandbox.has_value());
  CommandResult r = Run(*sandbox, "cat /proc/self/cgroup");
  ASSERT_EQ(Terminal(r), rest::kEventExecutionComplete) << Describe(r);
  std::vector<std::string> lines = absl::StrSplit(Stdout(r), '\n', absl::SkipEmpty());
  EXPECT_THAT(lines, AllOf(Not(IsEmpty()), Each(EndsWith(":/"))));
  EXPECT_THAT(Stdout(r), Not(HasSubstr(sandbox->id)));
}

TEST_F(Limits, KillRemovesTheCgroup) {
  auto sandbox = Create(Body({{"memory", "64Mi"}}));
  ASSERT_TRUE(sandbox.has_value());
  for (const std::string& dir : cgroups_.Dirs(sandbox->id)) EXPECT_TRUE(PathExists(dir)) << dir;
  auto del = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  for (const std::string& dir : cgroups_.Dirs(sandbox->id)) EXPECT_TRUE(GoneWithin(dir)) << dir;
}

// A runtime that finds no cgroups (here: pointed at an empty directory, as when it is not root)
// still runs sandboxes, but claims no limit and refuses to pause.
class WithoutCgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = RuntimeProcess::Start({"--cgroup-root", empty_.path()});
    ASSERT_NE(runtime_, nullptr);
    api_ = runtime_->Client();
  }
  TempDir empty_;
  std::unique_ptr<RuntimeProcess> runtime_;
  std::unique_ptr<httplib::Client> api_;
};

TEST_F(WithoutCgroups, MetricsDescribeTheMachine) {
  json body = {{"image", {{"uri", "host"}}},
               {"entrypoint", {"sleep", "infinity"}},
               {"resourceLimits", {{"cpu", "250m"}, {"memory", "64Mi"}}}};
  auto sandbox = CreateSandbox(*api_, body);
  ASSERT_TRUE(sandbox.has_value());
  rest::Metrics m = Metrics(*sandbox);
  // Limits that are not enforced are not reported as the sandbox's size.
  EXPECT_DOUBLE_EQ(m.cpu_count, static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const double machine_mib = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                             static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
  EXPECT_NEAR(m.mem_total_mib, machine_mib, 1);
}

TEST_F(WithoutCgroups, StatusAndBannerSayNothingIsEnforcedAndPauseIs501) {
  json body = {{"image", {{"uri", "host"}}},
               {"entrypoint", {"sleep", "infinity"}},
               {"resourceLimits", {{"cpu", "500m"}, {"memory", "128Mi"}}}};
  auto created = api_->Post("/v1/sandboxes", body.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 202) << created->body;
  const std::string id = ParseJson(created->body).value("id", "");
  EXPECT_EQ(
      ParseJson(created->body)["status"].value("message", ""),
      absl::StrCat("resource limits NOT enforced (no usable cgroups: no cpu controller under ",
                   empty_.path(),
                   "): cpu 500m, memory 128Mi, pids 4096 (default); network: loopback only; "
                   "image: host base"));
  auto banner = ReadFile(runtime_->log_path());
  ASSERT_TRUE(banner.ok());
  EXPECT_THAT(*banner, AllOf(HasSubstr("no usable cgroups under " + empty_.path()),
                             HasSubstr("Resource limits are NOT enforced")));

  auto paused = api_->Post(absl::StrCat("/v1/sandboxes/", id, "/pause"), "", "application/json");
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->status, 501);
  EXPECT_THAT(ParseJson(paused->body).value("message", ""), HasSubstr("cgroup freezer"));
  auto got = api_->Get("/v1/sandboxes/" + id);
  ASSERT_TRUE(got);
  EXPECT_EQ(ParseJson(got->body)["status"].value("state", ""), "Running");
}

// --- Pause and resume -------------------------------------------------------------------------

class PauseResume : public LimitsTest {
 protected:
  // An entrypoint that counts ten times a second into /count, which the host reads from the
  // sandbox's overlay upper directory.
  static json CountingBody() {
    return Body(json::object(),
                {"/bin/sh", "-c",
                 "i=0; while :; do i=$((i+1)); echo $i > /count.tmp; mv /count.tmp /count; "
                 "sleep 0.1; done"});
  }

  int Count(const std::string& id) {
    auto text = ReadFile(absl::StrCat(runtime_->state_dir(), "/sandboxes/", id, "/upper/count"));
    int n = -1;
    return text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &n) ? n : -1;
  }

  // Waits until the counter passes `after`; returns its value then, or -1.
  int CountPast(const std::string& id, int after, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (int n = Count(id); n > after) return n;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }
};

TEST_F(PauseResume, PausedSandboxMakesNoProgressAndTakesNoCommands) {
  auto sandbox = Create(CountingBody());
  ASSERT_TRUE(sandbox.has_value());
  ASSERT_GT(CountPast(sandbox->id, 2, absl::Seconds(10)), 2) << "the counter does not run";

  auto paused = Lifecycle(sandbox->id, "pause");
  ASSERT_TRUE(paused);
  ASSERT_EQ(paused->status, 202) << paused->body;
  EXPECT_EQ(paused->body, "");
  EXPECT_EQ(State(sandbox->id), "Paused");
  const int frozen_at = Count(sandbox->id);
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_EQ(Count(sandbox->id), frozen_at) << "the counter ran while paused";

  CommandResult refused = Run(*sandbox, "echo should not run");
  EXPECT_EQ(refused.http_status, 409) << Describe(refused);
  EXPECT_EQ(ErrorCode(refused.body), "SANDBOX::NOT_RUNNING");
  auto ping = Ping(*sandbox);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 409);

  auto resumed = Lifecycle(sandbox->id, "resume");
  ASSERT_TRUE(resumed);
  ASSERT_EQ(resumed->status, 202) << resumed->body;
  EXPECT_EQ(resumed->body, "");
  EXPECT_EQ(State(sandbox->id), "Running");
  EXPECT_GT(CountPast(sandbox->id, frozen_at, absl::Seconds(5)), frozen_at)
      << "the counter did not continue after resume";
  CommandResult r = Run(*sandbox, "echo back");
  EXPECT_EQ(Stdout(r), "back") << Describe(r);
  ping = Ping(*sandbox);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
}

TEST_F(PauseResume, PauseTwiceIs409NotRunning) {
  auto sandbox = Create(Body(json::object()));
  ASSERT_TRUE(sandbox.has_value());
  auto first = Lifecycle(sandbox->id, "pause");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202);
  auto second = Lifecycle(sandbox->id, "pause");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 409);
  EXPECT_EQ(ErrorCode(second->body), "SANDBOX::NOT_RUNNING");
  EXPECT_EQ(State(sandbox->id), "Paused");
}

TEST_F(PauseResume, ResumeOfRunningSandboxIs409NotPaused) {
  auto sandbox = Create(Body(json::object()));
  ASSERT_TRUE(sandbox.has_value());
  auto res = Lifecycle(sandbox->id, "resume");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(ErrorCode(res->body), "SANDBOX::NOT_PAUSED");
  EXPECT_EQ(State(sandbox->id), "Running");
}

TEST_F(PauseResume, UnknownSandboxIs404) {
  const std::string id = rest::NewUuid4();
  for (const char* action : {"pause", "resume"}) {
    auto res = Lifecycle(id, action);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << action;
    EXPECT_EQ(ErrorCode(res->body), "SANDBOX::NOT_FOUND") << action;
  }
}

TEST_F(PauseResume, ServedWithoutTheV1PrefixToo) {
  auto sandbox = Create(Body(json::object()));
  ASSERT_TRUE(sandbox.has_value());
  auto paused = Lifecycle(sandbox->id, "pause", "");
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->status, 202) << paused->body;
  auto resumed = Lifecycle(sandbox->id, "resume", "");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 202) << resumed->body;
}

TEST_F(PauseResume, KillOfPausedSandboxLeavesNoProcessAndNoCgroup) {
  const std::string marker = "osb-paused-" + rest::RandomHex(6);
  auto sandbox = Create(Body(json::object(), {"/bin/bash", "-c", "sleep 100000; : " + marker}));
  ASSERT_TRUE(sandbox.has_value());
  CommandResult bg = Run(*sandbox, absl::StrCat("nohup /bin/bash -c 'sleep 1000; : bg-", marker,
                                                "' >/dev/null 2>&1 & echo started"));
  ASSERT_EQ(Stdout(bg), "started") << Describe(bg);
  auto paused = Lifecycle(sandbox->id, "pause");
  ASSERT_TRUE(paused);
  ASSERT_EQ(paused->status, 202);
  EXPECT_THAT(ProcessesMatching(marker), Not(IsEmpty()));

  auto del = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204) << del->body;
  EXPECT_THAT(ProcessesMatching(marker), IsEmpty());
  EXPECT_THAT(ProcessesMatching(sandbox->id), IsEmpty());
  for (const std::string& dir : cgroups_.Dirs(sandbox->id)) EXPECT_TRUE(GoneWithin(dir)) << dir;
  auto got = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
}

}  // namespace
}  // namespace osb::test
