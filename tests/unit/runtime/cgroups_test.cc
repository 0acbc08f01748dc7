// CgroupHost and SandboxCgroup against a fake kernel: a temporary directory laid out like
// /sys/fs/cgroup (v1 hierarchies, v1 with cpu,cpuacct mounted together, or v2), whose CgroupEnv
// does what cgroupfs does that a plain directory does not: fill a new cgroup with its control
// files, refuse to remove one that still holds processes, enable controllers through
// cgroup.subtree_control, and move the freezer from FREEZING to FROZEN as time passes.
#include "runtime/server/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kId[] = "0b7c2a1e-5d4f-4e0a-9c3b-1f2e3d4c5b6a";

enum class Layout { kV1, kV1CpuCpuacctTogether, kV2, kNone };

struct FakeOptions {
  Layout layout = Layout::kV1;
  std::set<std::string> missing;  // v1 controllers not mounted
  bool swap_accounting = true;
  bool deny_mkdir = false;  // as for a process that is not root
};

class FakeKernel : public CgroupEnv {
 public:
  explicit FakeKernel(FakeOptions options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/osb-cgroups-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    switch (options_.layout) {
      case Layout::kV1:
        for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
          if (options_.missing.count(c) == 0) MakeHierarchy(c, {c});
        }
        break;
      case Layout::kV1CpuCpuacctTogether:
        MakeHierarchy("cpu,cpuacct", {"cpu", "cpuacct"});
        ::symlink("cpu,cpuacct", (root_ + "/cpu").c_str());
        ::symlink("cpu,cpuacct", (root_ + "/cpuacct").c_str());
        for (const char* c : {"memory", "pids", "freezer"}) MakeHierarchy(c, {c});
        break;
      case Layout::kV2:
        Put(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        Put(root_ + "/cgroup.subtree_control", "");
        Put(root_ + "/cgroup.procs", "1\n");
        break;
      case Layout::kNone:
        break;
    }
  }
  ~FakeKernel() override { (void)RemoveTree(root_); }

  const std::string& root() const { return root_; }
  CgroupOptions Options() const {
    CgroupOptions o;
    o.root = root_;
    return o;
  }
  std::string Get(const std::string& path) {
    auto text = ReadFile(path);
    return text.ok() ? std::string(absl::StripTrailingAsciiWhitespace(*text)) : "<missing>";
  }

  // Knobs for the freezer and rmdir.
  int freeze_after_sleeps = 0;  // -1: never freezes
  int busy_removals = 0;        // rmdir answers EBUSY this many more times
  std::string fail_mkdir_of;    // a MakeDir of a path containing this fails
  int frozen_writes = 0;        // FROZEN / "1" written to a freezer
  int sleeps = 0;

  absl::Status MakeDir(const std::string& path) override {
    if (options_.deny_mkdir) return ErrnoStatus("mkdir " + path, EACCES);
    if (!fail_mkdir_of.empty() && absl::StrContains(path, fail_mkdir_of)) {
      return ErrnoStatus("mkdir " + path, ENOSPC);
    }
    if (::mkdir(path.c_str(), 0755) != 0) {
      return errno == EEXIST ? absl::OkStatus() : ErrnoStatus("mkdir " + path, errno);
    }
    Populate(path);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("rmdir " + path, ENOENT);
    if (busy_removals > 0) {
      --busy_removals;
      return absl::UnavailableError("busy");
    }
    if (!Get(path + "/cgroup.procs").empty()) return absl::UnavailableError("busy");
    DIR* dir = ::opendir(path.c_str());
    while (dirent* e = ::readdir(dir)) {
      if (e->d_type == DT_REG) ::unlink((path + "/" + e->d_name).c_str());
    }
    ::closedir(dir);
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir " + path, errno);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read(const std::string& path) override { return ReadFile(path); }

  absl::Status Write(const std::string& path, std::string_view value) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("open " + path, ENOENT);
    const std::string v(value);
    const std::string dir = path.substr(0, path.rfind('/'));
    const std::string name = path.substr(path.rfind('/') + 1);
    if (name == "cgroup.procs") {
      Put(path, Get(path).empty() ? v + "\n" : Get(path) + "\n" + v + "\n");
    } else if (name == "cgroup.subtree_control") {
      // What a cgroup may enable is what its parent enabled for it (the root: what it offers).
      const std::string offered_by =
          dir == root_ ? dir + "/cgroup.controllers"
                       : dir.substr(0, dir.rfind('/')) + "/cgroup.subtree_control";
      std::set<std::string> offered = absl::StrSplit(Get(offered_by), ' ', absl::SkipEmpty());
      std::set<std::string> enabled = absl::StrSplit(Get(path), ' ', absl::SkipEmpty());
      for (absl::string_view token : absl::StrSplit(v, ' ', absl::SkipEmpty())) {
        std::string c(token.substr(1));
        if (offered.count(c) == 0) return ErrnoStatus("write " + path, ENOENT);
        if (token[0] == '+') {
          enabled.insert(c);
        } else {
          enabled.erase(c);
        }
      }
      Put(path, absl::StrJoin(enabled, " "));
      DIR* children = ::opendir(dir.c_str());
      while (dirent* e = ::readdir(children)) {
        if (e->d_type == DT_DIR && e->d_name[0] != '.')
          AddV2ControllerFiles(dir + "/" + e->d_name, enabled);
      }
      ::closedir(children);
    } else if (name == "freezer.state") {
      if (v == "FROZEN") {
        ++frozen_writes;
        if (freeze_after_sleeps == 0) {
          Put(path, "FROZEN");
        } else if (Get(path) == "THAWED") {
          Put(path, "FREEZING");
          pending_[path] = freeze_after_sleeps;
        }
      } else if (v == "THAWED") {
        pending_.erase(path);
        Put(path, "THAWED");
      } else {
        return ErrnoStatus("write " + path, EINVAL);
      }
    } else if (name == "cgroup.freeze") {
      const std::string events = dir + "/cgroup.events";
      Put(path, v);
      if (v == "1") {
        ++frozen_writes;
        if (freeze_after_sleeps == 0) {
          Put(events, "populated 1\nfrozen 1\n");
        } else {
          pending_[events] = freeze_after_sleeps;
        }
      } else {
        pending_.erase(events);
        Put(events, "populated 1\nfrozen 0\n");
      }
    } else {
      Put(path, v);
    }
    writes_.push_back(path + "=" + v);
    return absl::OkStatus();
  }

  bool Exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  absl::StatusOr<std::string> RealPath(const std::string& path) override {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return ErrnoStatus("realpath", errno);
    return std::string(resolved);
  }

  absl::Time Now() override { return now_; }

  void SleepFor(absl::Duration d) override {
    ++sleeps;
    now_ += d;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (freeze_after_sleeps < 0 || --it->second > 0) {
        ++it;
        continue;
      }
      Put(it->first,
          absl::EndsWith(it->first, "cgroup.events") ? "populated 1\nfrozen 1\n" : "FROZEN");
      it = pending_.erase(it);
    }
  }

  absl::Time now() const { return now_; }
  const std::vector<std::string>& writes() const { return writes_; }

 private:
  void Put(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }

  void MakeHierarchy(const std::string& dir, std::set<std::string> controllers) {
    ::mkdir((root_ + "/" + dir).c_str(), 0755);
    hierarchies_[root_ + "/" + dir] = controllers;
    Populate(root_ + "/" + dir);
  }

  // The files of the controllers its parent enabled, which v2 adds to a cgroup as they are
  // enabled.
  void AddV2ControllerFiles(const std::string& path, const std::set<std::string>& on) {
    auto add = [&](const std::string& name, const std::string& text) {
      if (!Exists(path + "/" + name)) Put(path + "/" + name, text);
    };
    if (on.count("cpu")) {
      add("cpu.max", "max 100000");
      add("cpu.weight", "100");
    }
    if (on.count("memory")) {
      add("memory.max", "max");
      add("memory.current", "0");
      if (options_.swap_accounting) add("memory.swap.max", "max");
    }
    if (on.count("pids")) {
      add("pids.max", "max");
      add("pids.current", "0");
    }
  }

  // The control files the kernel creates with a cgroup.
  void Populate(const std::string& path) {
    Put(path + "/cgroup.procs", "");
    if (options_.layout == Layout::kV2) {
      const std::string parent = path.substr(0, path.rfind('/'));
      Put(path + "/cgroup.subtree_control", "");
      Put(path + "/cgroup.freeze", "0");
      Put(path + "/cgroup.events", "populated 0\nfrozen 0\n");
      Put(path + "/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
      AddV2ControllerFiles(
          path, absl::StrSplit(Get(parent + "/cgroup.subtree_control"), ' ', absl::SkipEmpty()));
      return;
    }
    std::set<std::string> controllers;
    for (const auto& [top, cs] : hierarchies_) {
      if (absl::StartsWith(path, top)) controllers = cs;
    }
    if (controllers.count("cpu")) {
      Put(path + "/cpu.cfs_period_us", "100000");
      Put(path + "/cpu.cfs_quota_us", "-1");
      Put(path + "/cpu.shares", "1024");
    }
    if (controllers.count("cpuacct")) Put(path + "/cpuacct.usage", "0");
    if (controllers.count("memory")) {
      Put(path + "/memory.limit_in_bytes", "9223372036854771712");
      Put(path + "/memory.usage_in_bytes", "0");
      if (options_.swap_accounting)
        Put(path + "/memory.memsw.limit_in_bytes", "9223372036854771712");
    }
    if (controllers.count("pids")) {
      Put(path + "/pids.max", "max");
      Put(path + "/pids.current", "0");
    }
    if (controllers.count("freezer")) Put(path + "/freezer.state", "THAWED");
  }

  FakeOptions options_;
  std::string root_;
  std::map<std::string, std::set<std::string>> hierarchies_;
  std::map<std::string, int> pending_;  // file → sleeps until it reads frozen
  std::vector<std::string> writes_;
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
};

ResourceLimits Limits(const rest::StringMap& m) {
  auto limits = ParseResourceLimits(m);
  EXPECT_TRUE(limits.ok()) << limits.status();
  return *limits;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::unique_ptr<SandboxCgroup> MustCreate(const CgroupHost& host) {
  auto cgroup = host.Create(kId);
  EXPECT_TRUE(cgroup.ok()) << cgroup.status();
  return cgroup.ok() ? std::move(*cgroup) : nullptr;
}

// --- Detection
// ------------------------------------------------------------------------------------

TEST(CgroupHostV1, FindsEveryControllerAndCreatesTheSharedParents) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_EQ(host->version(), 1);
  EXPECT_TRUE(host->usable());
  for (Controller c : {Controller::kCpu, Controller::kCpuacct, Controller::kMemory,
                       Controller::kPids, Controller::kFreezer}) {
    EXPECT_TRUE(host->Has(c)) << ControllerName(c);
    EXPECT_EQ(host->WhyNot(c), "");
    EXPECT_TRUE(IsDir(absl::StrCat(kernel.root(), "/", ControllerName(c), "/opensandbox")));
  }
  EXPECT_THAT(host->Summary(),
              AllOf(HasSubstr("cgroup v1"), HasSubstr("cpu, cpuacct, memory, pids, freezer"),
                    Not(HasSubstr("not usable")), Not(HasSubstr("swap"))));
}

TEST(CgroupHostV1, AMissingControllerIsReportedNotFatal) {
  FakeKernel kernel({.layout = Layout::kV1, .missing = {"pids", "freezer"}});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_TRUE(host->usable());
  EXPECT_TRUE(host->Has(Controller::kMemory));
  EXPECT_FALSE(host->Has(Controller::kPids));
  EXPECT_THAT(host->WhyNot(Controller::kPids),
              HasSubstr("no pids controller under " + kernel.root()));
  EXPECT_THAT(host->Summary(), AllOf(HasSubstr("not usable: pids (no pids controller"),
                                     HasSubstr("freezer (no freezer controller")));
  EXPECT_EQ(host->Enforcement(Limits({{"memory", "128Mi"}})),
            "resource limits enforced (cgroup v1): memory 128Mi; NOT enforced: pids 4096 (default) "
            "(no pids controller under " +
                kernel.root() + ")");
}

TEST(CgroupHostV1, NotAllowedToCreateCgroupsMeansNothingIsEnforced) {
  FakeKernel kernel({.layout = Layout::kV1, .deny_mkdir = true});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_EQ(host->version(), 1);
  EXPECT_FALSE(host->usable());
  EXPECT_THAT(host->WhyNot(Controller::kCpu), HasSubstr("Permission denied"));
  EXPECT_THAT(host->Summary(), AllOf(HasSubstr("no usable cgroups"), HasSubstr("NOT enforced"),
                                     HasSubstr("pause/resume is unavailable")));
  EXPECT_THAT(host->Enforcement(Limits({{"cpu", "500m"}, {"memory", "1Gi"}})),
              AllOf(HasSubstr("resource limits NOT enforced (no usable cgroups: mkdir "),
                    HasSubstr("Permission denied): cpu 500m, memory 1Gi, pids 4096 (default)")));
  auto cgroup = host->Create(kId);
  EXPECT_EQ(cgroup.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CgroupHost, NoCgroupFilesystemAtAll) {
  FakeKernel kernel({.layout = Layout::kNone});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_EQ(host->version(), 0);
  EXPECT_FALSE(host->usable());
  EXPECT_THAT(host->Summary(), HasSubstr("no cpu controller under " + kernel.root()));
}

TEST(CgroupHostV1, WithoutSwapAccountingSaysSwapIsNotLimited) {
  FakeKernel kernel({.layout = Layout::kV1, .swap_accounting = false});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_THAT(host->Summary(), HasSubstr("swap not limited"));
  EXPECT_THAT(host->Enforcement(Limits({{"memory", "64Mi"}})),
              HasSubstr("memory 64Mi (RAM only: swap is not limited)"));
}

TEST(CgroupHostV2, EnablesControllersForChildrenThroughSubtreeControl) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_EQ(host->version(), 2);
  for (Controller c : {Controller::kCpu, Controller::kCpuacct, Controller::kMemory,
                       Controller::kPids, Controller::kFreezer}) {
    EXPECT_TRUE(host->Has(c)) << ControllerName(c);
  }
  EXPECT_EQ(kernel.Get(kernel.root() + "/cgroup.subtree_control"), "cpu memory pids");
  EXPECT_EQ(kernel.Get(kernel.root() + "/opensandbox/cgroup.subtree_control"), "cpu memory pids");
  EXPECT_THAT(host->Summary(), HasSubstr("cgroup v2"));
}

TEST(CgroupHost, EnforcementListsEveryLimitAndWhatCannotBeEnforced) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  EXPECT_EQ(host->Enforcement(Limits({{"cpu", "500m"}, {"memory", "128Mi"}, {"pids", "64"}})),
            "resource limits enforced (cgroup v1): cpu 500m, memory 128Mi, pids 64");
  EXPECT_EQ(
      host->Enforcement(Limits({{"gpu", "1"}, {"disk", "1Gi"}})),
      "resource limits enforced (cgroup v1): pids 4096 (default); NOT enforced: disk 1Gi (not "
      "a resource osb-runtime knows), gpu 1 (osb-runtime has no GPU support)");
}

TEST(CgroupHostV1, SandboxesTogetherWeighAsManyProcessesAsThereAreSandboxes) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  const std::string shares = kernel.root() + "/cpu/opensandbox/cpu.shares";
  ASSERT_TRUE(host->WeighSandboxes(3).ok());
  EXPECT_EQ(kernel.Get(shares), "3072");
  ASSERT_TRUE(host->WeighSandboxes(0).ok());
  EXPECT_EQ(kernel.Get(shares), "1024");  // never below one process
  ASSERT_TRUE(host->WeighSandboxes(1000).ok());
  EXPECT_EQ(kernel.Get(shares), "262144");  // the kernel's maximum
}

TEST(CgroupHostV2, SandboxesTogetherWeighAsManyProcessesAsThereAreSandboxes) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  const std::string weight = kernel.root() + "/opensandbox/cpu.weight";
  ASSERT_TRUE(host->WeighSandboxes(5).ok());
  EXPECT_EQ(kernel.Get(weight), "500");
  ASSERT_TRUE(host->WeighSandboxes(0).ok());
  EXPECT_EQ(kernel.Get(weight), "100");
  ASSERT_TRUE(host->WeighSandboxes(1000).ok());
  EXPECT_EQ(kernel.Get(weight), "10000");
}

TEST(CgroupHostV1, WithoutACpuControllerWeighingWritesNothing) {
  FakeKernel kernel({.layout = Layout::kV1, .missing = {"cpu"}});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  const std::size_t writes = kernel.writes().size();
  EXPECT_TRUE(host->WeighSandboxes(4).ok());
  EXPECT_EQ(kernel.writes().size(), writes);
}

// --- Create, Apply, Attach --------------------------------------------------------------------

TEST(SandboxCgroupV1, CreateMakesOneDirectoryPerHierarchy) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  EXPECT_THAT(cgroup->dirs(), SizeIs(5));
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    EXPECT_TRUE(IsDir(absl::StrCat(kernel.root(), "/", c, "/opensandbox/", kId))) << c;
  }
}

TEST(SandboxCgroupV1, CpuAndCpuacctMountedTogetherShareOneDirectory) {
  FakeKernel kernel({.layout = Layout::kV1CpuCpuacctTogether});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  ASSERT_TRUE(host->Has(Controller::kCpu) && host->Has(Controller::kCpuacct));
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  EXPECT_THAT(cgroup->dirs(), SizeIs(4));
  ASSERT_TRUE(cgroup->Attach(4242).ok());
  const std::string shared = absl::StrCat(kernel.root(), "/cpu,cpuacct/opensandbox/", kId);
  EXPECT_EQ(kernel.Get(shared + "/cgroup.procs"), "4242");  // written once, not twice
  ASSERT_TRUE(cgroup->Apply(Limits({{"cpu", "1"}})).ok());
  EXPECT_EQ(kernel.Get(shared + "/cpu.cfs_quota_us"), "100000");
}

TEST(SandboxCgroupV1, ApplyWritesCpuQuotaMemoryWithSwapAndPids) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Apply(Limits({{"cpu", "500m"}, {"memory", "128Mi"}, {"pids", "64"}})).ok());
  const std::string dir = absl::StrCat("/opensandbox/", kId, "/");
  EXPECT_EQ(kernel.Get(kernel.root() + "/cpu" + dir + "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(kernel.Get(kernel.root() + "/cpu" + dir + "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(kernel.Get(kernel.root() + "/memory" + dir + "memory.limit_in_bytes"), "134217728");
  EXPECT_EQ(kernel.Get(kernel.root() + "/memory" + dir + "memory.memsw.limit_in_bytes"),
            "134217728");
  EXPECT_EQ(kernel.Get(kernel.root() + "/pids" + dir + "pids.max"), "64");
}

TEST(SandboxCgroupV1, ApplyWithoutLimitsSetsOnlyTheDefaultPids) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Apply(Limits({})).ok());
  EXPECT_THAT(kernel.writes(), ElementsAre(absl::StrCat(kernel.root(), "/pids/opensandbox/", kId,
                                                        "/pids.max=4096")));
}

TEST(SandboxCgroupV1, TinyCpuIsClampedToTheKernelsMinimumQuota) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Apply(Limits({{"cpu", "1m"}})).ok());
  EXPECT_EQ(kernel.Get(absl::StrCat(kernel.root(), "/cpu/opensandbox/", kId, "/cpu.cfs_quota_us")),
            "1000");
}

TEST(SandboxCgroupV1, WithoutSwapAccountingNoMemswIsWritten) {
  FakeKernel kernel({.layout = Layout::kV1, .swap_accounting = false});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Apply(Limits({{"memory", "1Gi"}})).ok());
  const std::string dir = absl::StrCat(kernel.root(), "/memory/opensandbox/", kId);
  EXPECT_EQ(kernel.Get(dir + "/memory.limit_in_bytes"), "1073741824");
  EXPECT_EQ(kernel.Get(dir + "/memory.memsw.limit_in_bytes"), "<missing>");
}

TEST(SandboxCgroupV1, MissingControllerIsSkippedByApply) {
  FakeKernel kernel({.layout = Layout::kV1, .missing = {"memory"}});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  EXPECT_THAT(cgroup->dirs(), SizeIs(4));
  ASSERT_TRUE(cgroup->Apply(Limits({{"memory", "1Gi"}, {"pids", "10"}})).ok());
  EXPECT_EQ(kernel.Get(absl::StrCat(kernel.root(), "/pids/opensandbox/", kId, "/pids.max")), "10");
}

TEST(SandboxCgroupV1, AttachPutsThePidInEveryHierarchy) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Attach(31337).ok());
  for (const std::string& dir : cgroup->dirs())
    EXPECT_EQ(kernel.Get(dir + "/cgroup.procs"), "31337");
}

TEST(SandboxCgroupV1, OpenTakesBackWhatAnEarlierRunCreated) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto created = MustCreate(*host);
  ASSERT_NE(created, nullptr);
  ASSERT_TRUE(created->Attach(31337).ok());
  // A restarted runtime: a new host over the same kernel.
  auto again = CgroupHost::Detect(kernel, kernel.Options());
  auto opened = again->Open(kId);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ((*opened)->dirs(), created->dirs());
  auto pids = (*opened)->Processes();
  ASSERT_TRUE(pids.ok()) << pids.status();
  EXPECT_THAT(*pids, ElementsAre(31337));
  EXPECT_TRUE((*opened)->Freeze().ok());
  for (const std::string& dir : created->dirs()) {  // the process exits
    ASSERT_TRUE(WriteFileAtomic(dir + "/cgroup.procs", "", 0644).ok());
  }
  EXPECT_TRUE((*opened)->Remove().ok());
  EXPECT_EQ(again->Open(kId).status().code(), absl::StatusCode::kNotFound);
}

TEST(SandboxCgroupV1, OpenLeavesOutHierarchiesWhereItIsMissing) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  ASSERT_NE(MustCreate(*host), nullptr);
  ASSERT_TRUE(RemoveTree(absl::StrCat(kernel.root(), "/pids/opensandbox/", kId)).ok());
  auto opened = host->Open(kId);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_THAT((*opened)->dirs(), SizeIs(4));
  // Apply skips the missing controller instead of writing into a directory that is not there.
  EXPECT_TRUE((*opened)->Apply(Limits({{"pids", "10"}})).ok());
  EXPECT_EQ(host->Open("never-made").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(host->Open("../x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SandboxCgroupV2, ApplyWritesCpuMaxMemoryMaxNoSwapAndPids) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  EXPECT_THAT(cgroup->dirs(), ElementsAre(absl::StrCat(kernel.root(), "/opensandbox/", kId)));
  ASSERT_TRUE(cgroup->Apply(Limits({{"cpu", "2.5"}, {"memory", "512Mi"}, {"pids", "100"}})).ok());
  const std::string dir = cgroup->dirs()[0];
  EXPECT_EQ(kernel.Get(dir + "/cpu.max"), "250000 100000");
  EXPECT_EQ(kernel.Get(dir + "/memory.max"), "536870912");
  EXPECT_EQ(kernel.Get(dir + "/memory.swap.max"), "0");
  EXPECT_EQ(kernel.Get(dir + "/pids.max"), "100");
  ASSERT_TRUE(cgroup->Attach(77).ok());
  EXPECT_EQ(kernel.Get(dir + "/cgroup.procs"), "77");
}

TEST(SandboxCgroup, CreateFailureLeavesNoDirectoryBehind) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  kernel.fail_mkdir_of = absl::StrCat("pids/opensandbox/", kId);
  auto cgroup = host->Create(kId);
  EXPECT_EQ(cgroup.status().code(), absl::StatusCode::kResourceExhausted);
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    EXPECT_FALSE(IsDir(absl::StrCat(kernel.root(), "/", c, "/opensandbox/", kId))) << c;
  }
}

TEST(SandboxCgroup, CreateRefusesIdsThatAreNotOnePathComponent) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  for (const char* id : {"", ".", "..", "../escape", "a/b"}) {
    EXPECT_EQ(host->Create(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
  }
}

// --- Freeze and thaw --------------------------------------------------------------------------

TEST(SandboxCgroupV1, FreezeWaitsUntilTheKernelSaysFrozenAndThawUndoesIt) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  const std::string state =
      absl::StrCat(kernel.root(), "/freezer/opensandbox/", kId, "/freezer.state");
  kernel.freeze_after_sleeps = 3;
  ASSERT_TRUE(cgroup->Freeze().ok());
  EXPECT_EQ(kernel.Get(state), "FROZEN");
  EXPECT_EQ(kernel.sleeps, 3);
  EXPECT_GE(kernel.frozen_writes, 2);  // FROZEN is written again while tasks are still freezing
  ASSERT_TRUE(cgroup->Thaw().ok());
  EXPECT_EQ(kernel.Get(state), "THAWED");
}

TEST(SandboxCgroupV1, FreezeThatNeverCompletesTimesOutAndThawsAgain) {
  FakeKernel kernel({.layout = Layout::kV1});
  CgroupOptions options = kernel.Options();
  options.freeze_timeout = absl::Seconds(2);
  auto host = CgroupHost::Detect(kernel, options);
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  kernel.freeze_after_sleeps = -1;
  const absl::Time start = kernel.now();
  absl::Status frozen = cgroup->Freeze();
  EXPECT_EQ(frozen.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(frozen.message()), HasSubstr("FREEZING"));
  EXPECT_GE(kernel.now() - start, absl::Seconds(2));
  EXPECT_EQ(kernel.Get(absl::StrCat(kernel.root(), "/freezer/opensandbox/", kId, "/freezer.state")),
            "THAWED");
}

TEST(SandboxCgroupV2, FreezeWaitsForFrozenInCgroupEvents) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  const std::string dir = cgroup->dirs()[0];
  kernel.freeze_after_sleeps = 2;
  ASSERT_TRUE(cgroup->Freeze().ok());
  EXPECT_EQ(kernel.Get(dir + "/cgroup.freeze"), "1");
  EXPECT_THAT(kernel.Get(dir + "/cgroup.events"), HasSubstr("frozen 1"));
  EXPECT_EQ(kernel.sleeps, 2);
  ASSERT_TRUE(cgroup->Thaw().ok());
  EXPECT_EQ(kernel.Get(dir + "/cgroup.freeze"), "0");
  EXPECT_THAT(kernel.Get(dir + "/cgroup.events"), HasSubstr("frozen 0"));
}

TEST(SandboxCgroupV1, WithoutAFreezerPauseIsRefused) {
  FakeKernel kernel({.layout = Layout::kV1, .missing = {"freezer"}});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  EXPECT_EQ(cgroup->Freeze().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cgroup->Thaw().code(), absl::StatusCode::kFailedPrecondition);
}

// --- Remove and usage ---------------------------------------------------------------------------

TEST(SandboxCgroup, RemoveDeletesEveryDirectoryAndIsIdempotent) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Remove().ok());
  for (const std::string& dir : cgroup->dirs()) EXPECT_FALSE(IsDir(dir)) << dir;
  EXPECT_TRUE(IsDir(kernel.root() + "/memory/opensandbox"));  // shared with other sandboxes
  EXPECT_TRUE(cgroup->Remove().ok());
}

TEST(SandboxCgroup, RemoveRetriesWhileTheKernelSaysBusy) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  kernel.busy_removals = 3;
  ASSERT_TRUE(cgroup->Remove().ok());
  EXPECT_EQ(kernel.sleeps, 3);
  EXPECT_FALSE(IsDir(cgroup->dirs()[0]));
}

TEST(SandboxCgroup, RemoveGivesUpWhenProcessesStayInside) {
  FakeKernel kernel({.layout = Layout::kV1});
  CgroupOptions options = kernel.Options();
  options.remove_timeout = absl::Milliseconds(50);
  auto host = CgroupHost::Detect(kernel, options);
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(cgroup->Attach(99).ok());
  absl::Status removed = cgroup->Remove();
  EXPECT_EQ(removed.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsDir(cgroup->dirs()[0]));
}

TEST(SandboxCgroupV1, UsageReadsCpuacctAndMemory) {
  FakeKernel kernel({.layout = Layout::kV1});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  ASSERT_TRUE(
      kernel
          .Write(absl::StrCat(kernel.root(), "/cpuacct/opensandbox/", kId, "/cpuacct.usage"),
                 "1234567890\n")
          .ok());
  ASSERT_TRUE(
      kernel
          .Write(absl::StrCat(kernel.root(), "/memory/opensandbox/", kId, "/memory.usage_in_bytes"),
                 "4096\n")
          .ok());
  auto usage = cgroup->Usage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->cpu_ns, 1234567890);
  EXPECT_EQ(usage->memory_bytes, 4096);
}

TEST(SandboxCgroupV2, UsageReadsCpuStatAndMemoryCurrent) {
  FakeKernel kernel({.layout = Layout::kV2});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  const std::string dir = cgroup->dirs()[0];
  ASSERT_TRUE(
      kernel.Write(dir + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n").ok());
  ASSERT_TRUE(kernel.Write(dir + "/memory.current", "8192\n").ok());
  auto usage = cgroup->Usage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->cpu_ns, 1500000);
  EXPECT_EQ(usage->memory_bytes, 8192);
}

TEST(SandboxCgroupV1, UsageLeavesOutWhatHasNoController) {
  FakeKernel kernel({.layout = Layout::kV1, .missing = {"cpuacct"}});
  auto host = CgroupHost::Detect(kernel, kernel.Options());
  auto cgroup = MustCreate(*host);
  ASSERT_NE(cgroup, nullptr);
  auto usage = cgroup->Usage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_FALSE(usage->cpu_ns.has_value());
  EXPECT_EQ(usage->memory_bytes, 0);
}

}  // namespace
}  // namespace osb::runtime
