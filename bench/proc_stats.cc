#include "bench/proc_stats.h"

#include <dirent.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace osb::bench {
namespace {

// The value of a "Key:   value kB" line of a /proc status-like file, as a number; 0 if absent.
uint64_t ProcField(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    absl::string_view rest =
        absl::StripAsciiWhitespace(absl::string_view(line).substr(key.size() + 1));
    std::vector<absl::string_view> parts = absl::StrSplit(rest, ' ');
    uint64_t v = 0;
    return absl::SimpleAtoi(parts[0], &v) ? v : 0;
  }
  return 0;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return pids;
  while (dirent* e = ::readdir(proc.get())) {
    pid_t pid = std::atoi(e->d_name);
    if (pid > 0) pids.push_back(pid);
  }
  return pids;
}

// Parent pid from /proc/<pid>/stat; -1 when unreadable. The command name may hold spaces and
// parentheses, so fields are counted after the last ')'.
pid_t ParentOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  pid_t ppid = -1;
  fields >> state >> ppid;
  return ppid;
}

std::set<std::string> SocketInodes(pid_t pid) {
  std::set<std::string> inodes;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir(dir.c_str()), ::closedir);
  if (!fds) return inodes;
  while (dirent* e = ::readdir(fds.get())) {
    char target[128];
    ssize_t n = ::readlink(absl::StrCat(dir, "/", e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    absl::string_view link(target, static_cast<std::size_t>(n));
    if (absl::ConsumePrefix(&link, "socket:[") && absl::ConsumeSuffix(&link, "]")) {
      inodes.emplace(link);
    }
  }
  return inodes;
}

}  // namespace

uint64_t RssKiB(pid_t pid) { return ProcField(absl::StrCat("/proc/", pid, "/status"), "VmRSS"); }

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> children;
  for (pid_t p : AllPids()) {
    if (ParentOf(p) == pid) children.push_back(p);
  }
  return children;
}

pid_t FindProcess(const std::string& needle) {
  for (pid_t p : AllPids()) {
    std::ifstream in(absl::StrCat("/proc/", p, "/cmdline"));
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) return p;
  }
  return 0;
}

uint64_t PssKiB(pid_t pid) {
  return ProcField(absl::StrCat("/proc/", pid, "/smaps_rollup"), "Pss");
}

TreeMemory TreeMemoryOf(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> parents;  // (pid, ppid) of every process, read once
  for (pid_t p : AllPids()) parents.emplace_back(p, ParentOf(p));
  std::set<pid_t> tree = {root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, ppid] : parents) {
      if (tree.count(ppid) != 0 && tree.insert(pid).second) grew = true;
    }
  }
  TreeMemory total;
  for (pid_t p : tree) {
    total.rss_kib += RssKiB(p);
    total.pss_kib += PssKiB(p);
  }
  return total;
}

int EstablishedConnections(pid_t pid, int remote_port) {
  const std::set<std::string> inodes = SocketInodes(pid);
  int count = 0;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in(absl::StrCat("/proc/", pid, "/net/", table));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode;
      if (state != "01") continue;  // TCP_ESTABLISHED
      std::size_t colon = remote.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::strtol(remote.c_str() + colon + 1, nullptr, 16) != remote_port) continue;
      if (inodes.count(inode) != 0) ++count;
    }
  }
  return count;
}

uint64_t MemAvailableKiB() { return ProcField("/proc/meminfo", "MemAvailable"); }

nlohmann::json DescribeMachine() {
  nlohmann::json m;
  m["cores"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  utsname u{};
  if (::uname(&u) == 0) {
    m["kernel"] = absl::StrCat(u.sysname, " ", u.release);
    m["arch"] = u.machine;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      m["cpu_model"] = std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  m["memory_mib"] = ProcField("/proc/meminfo", "MemTotal") / 1024;
  std::ifstream os_release("/etc/os-release");
  while (std::getline(os_release, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      absl::string_view v = absl::string_view(line).substr(12);
      absl::ConsumePrefix(&v, "\"");
      absl::ConsumeSuffix(&v, "\"");
      m["os"] = std::string(v);
    }
  }
  return m;
}

PeakSampler::PeakSampler(std::function<uint64_t()> sample, std::chrono::milliseconds interval) {
  thread_ = std::thread([this, sample = std::move(sample), interval] {
    while (!stop_) {
      const uint64_t v = sample();
      if (v > peak_) peak_ = v;
      std::this_thread::sleep_for(interval);
    }
  });
}

PeakSampler::~PeakSampler() { Stop(); }

uint64_t PeakSampler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return peak_;
}

}  // namespace osb::bench
