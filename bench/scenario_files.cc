// Scenario 4b: file upload and download through osbd (the C++ SDK's streamed WriteFileFrom and
// ReadFileTo), with osbd's peak RSS, against the curl tool straight to the sandbox's execd
// endpoint (no osbd, no SDK) and a local copy of the same bytes (the floor).
#include <unistd.h>

#include <algorithm>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "bench/runtime_client.h"
#include "bench/scenarios.h"
#include "opensandbox/opensandbox.h"
#include "rest/sys/process.h"

namespace osb::bench {
namespace {

// An input of `size` bytes of a repeating pattern, made as it is read (nothing held whole).
class PatternSource : public std::streambuf {
 public:
  explicit PatternSource(uint64_t size) : left_(size), block_(1 << 20, 'x') {
    for (std::size_t i = 0; i < block_.size(); ++i) block_[i] = static_cast<char>('a' + i % 26);
  }

 protected:
  int_type underflow() override {
    if (left_ == 0) return traits_type::eof();
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(left_, block_.size()));
    left_ -= n;
    setg(block_.data(), block_.data(), block_.data() + n);
    return traits_type::to_int_type(block_[0]);
  }

 private:
  uint64_t left_;
  std::string block_;
};

// An output that counts what it is given and keeps none of it.
class CountingSink : public std::streambuf {
 public:
  uint64_t count() const { return count_; }

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count_ += static_cast<uint64_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) ++count_;
    return traits_type::not_eof(c);
  }

 private:
  uint64_t count_ = 0;
};

Metric Throughput(const std::string& id, const std::string& name, const std::vector<double>& mbps,
                  const std::string& error) {
  if (mbps.empty()) return ErrorMetric(id, name, error.empty() ? "no sample" : error);
  std::vector<double> sorted = mbps;
  std::sort(sorted.begin(), sorted.end());
  Metric m = ValueMetric(id, name, sorted[sorted.size() / 2], "MB/s");
  if (!error.empty()) m.note = "some runs failed: " + error;
  return m;
}

}  // namespace

Scenario FileTransfers(const BenchConfig& config) {
  Scenario scenario{.id = "files",
                    .title = "File upload and download MB/s (C++ SDK through osbd; curl to the "
                             "execd endpoint; local cp)"};
  const uint64_t size = static_cast<uint64_t>(config.Pick(64, 1024)) << 20;
  const int runs = config.Pick(1, 3);
  const std::string size_label = absl::StrCat(size >> 20, " MiB");
  // /tmp, where the file goes, is a tmpfs of half the sandbox's memory: 2 GiB here, room for
  // the largest file with some to spare.
  opensandbox::SandboxSpec spec;
  spec.resource = {{"cpu", "1"}, {"memory", "4Gi"}};
  auto sandbox = opensandbox::Sandbox::Create(
      "host", spec,
      opensandbox::Options{}.set<opensandbox::SocketPathOption>(config.osbd_socket));
  if (!sandbox.ok()) {
    const std::string why(sandbox.status().message());
    scenario.metrics = {ErrorMetric("files.osbd.upload", "upload", why),
                        ErrorMetric("files.osbd.download", "download", why),
                        ErrorMetric("files.curl.upload", "curl upload", why),
                        ErrorMetric("files.curl.download", "curl download", why),
                        ErrorMetric("files.local_cp", "local cp", why)};
    return scenario;
  }
  std::vector<double> up, down;
  std::string up_error, down_error;
  const uint64_t osbd_before_kib = RssKiB(config.osbd_pid);
  PeakRssSampler rss(config.osbd_pid);
  // The sandbox's osb-agent, which writes the uploads to disk and reads the downloads from it
  // (osb-runtime starts it with the sandbox's directory, named by its id, among its arguments).
  const pid_t agent = FindProcess("/sandboxes/" + sandbox->id());
  const uint64_t agent_before_kib = agent > 0 ? RssKiB(agent) : 0;
  PeakRssSampler agent_rss(agent);
  for (int i = 0; i < runs; ++i) {
    PatternSource source(size);
    std::istream in(&source);
    const absl::Time start = absl::Now();
    auto written = sandbox->files().WriteFileFrom("/tmp/bench.bin", in);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!written.ok() || static_cast<uint64_t>(*written) != size) {
      up_error = written.ok() ? absl::StrCat("wrote ", *written, " bytes")
                              : std::string(written.status().message());
      continue;
    }
    up.push_back(static_cast<double>(size) / 1e6 / seconds);

    CountingSink sink;
    std::ostream out(&sink);
    const absl::Time read_start = absl::Now();
    auto read = sandbox->files().ReadFileTo("/tmp/bench.bin", out);
    const double read_seconds = absl::ToDoubleSeconds(absl::Now() - read_start);
    if (!read.ok() || sink.count() != size) {
      down_error = read.ok() ? absl::StrCat("read ", sink.count(), " bytes")
                             : std::string(read.message());
      continue;
    }
    down.push_back(static_cast<double>(size) / 1e6 / read_seconds);
    // /tmp is memory inside the sandbox, counted against its memory limit: the next upload must
    // not find this copy still there.
    (void)sandbox->files().DeleteFiles({"/tmp/bench.bin"});
  }
  const uint64_t peak_kib = rss.Stop();
  const uint64_t agent_peak_kib = agent_rss.Stop();

  // The same size of file on the host, for curl to upload and cp to copy.
  const std::string dir = absl::StrCat("/tmp/osb-bench-files-", ::getpid());
  osb::ChildResult made = osb::RunToCompletion(
      {"/bin/bash", "-c",
       absl::StrCat("mkdir -p ", dir, " && head -c ", size, " /dev/zero > ", dir,
                    "/a && echo '{\"path\":\"/tmp/bench-curl.bin\"}' > ", dir, "/metadata")});

  // curl straight to the sandbox's execd endpoint, as the lifecycle API gives it (through the
  // runtime's proxy): what the agent and the proxy carry without osbd and the SDK.
  std::vector<double> curl_up, curl_down;
  std::string curl_up_error, curl_down_error;
  RuntimeClient direct(config.runtime_address, config.api_key);
  auto target = made.exit_code == 0 ? direct.Endpoint(sandbox->id())
                                    : absl::StatusOr<DirectSandbox>(absl::InternalError(
                                          "cannot make the local file: " + made.err));
  if (!target.ok()) {
    curl_up_error = curl_down_error = std::string(target.status().message());
  }
  for (int i = 0; i < runs && target.ok(); ++i) {
    const std::string curl = absl::StrCat("curl -sS --fail -o /dev/null -w '%{size_download}' ",
                                          "-H 'X-EXECD-ACCESS-TOKEN: ", target->token, "' ");
    osb::ChildResult up_run = osb::RunToCompletion(
        {"/bin/bash", "-c",
         absl::StrCat(curl, "-F 'metadata=@", dir,
                      "/metadata;type=application/json;filename=metadata' -F 'file=@", dir,
                      "/a;type=application/octet-stream;filename=bench-curl.bin' '",
                      target->execd_url, "/files/upload'")});
    if (up_run.exit_code != 0) {
      curl_up_error = absl::StrCat("curl exit ", up_run.exit_code, ": ", up_run.err);
      continue;
    }
    curl_up.push_back(static_cast<double>(size) / 1e6 / absl::ToDoubleSeconds(up_run.wall));
    osb::ChildResult down_run = osb::RunToCompletion(
        {"/bin/bash", "-c",
         absl::StrCat(curl, "'", target->execd_url, "/files/download?path=/tmp/bench-curl.bin'")});
    if (down_run.exit_code != 0 || down_run.out != absl::StrCat(size)) {
      curl_down_error = absl::StrCat("curl exit ", down_run.exit_code, ", ", down_run.out,
                                     " bytes: ", down_run.err);
    } else {
      curl_down.push_back(static_cast<double>(size) / 1e6 /
                          absl::ToDoubleSeconds(down_run.wall));
    }
    (void)sandbox->files().DeleteFiles({"/tmp/bench-curl.bin"});
  }
  (void)sandbox->Kill();

  // The floor: the same bytes copied to another local file by cp.
  std::vector<double> local;
  std::string local_error = made.exit_code == 0 ? "" : made.err;
  for (int i = 0; i < runs && made.exit_code == 0; ++i) {
    const absl::Time start = absl::Now();
    osb::ChildResult copied = osb::RunToCompletion({"/bin/cp", dir + "/a", dir + "/b"});
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    (void)osb::RunToCompletion({"/bin/rm", "-f", dir + "/b"});
    if (copied.exit_code != 0) {
      local_error = copied.err;
      continue;
    }
    local.push_back(static_cast<double>(size) / 1e6 / seconds);
  }
  (void)osb::RunToCompletion({"/bin/rm", "-rf", dir});

  Metric u = Throughput("files.osbd.upload", "upload " + size_label + " (WriteFileFrom)", up,
                        up_error);
  if (u.error.empty()) u.extra.emplace_back("osbd_peak_rss_mib", peak_kib / 1024.0);
  scenario.metrics.push_back(u);
  scenario.metrics.push_back(Throughput("files.osbd.download",
                                        "download " + size_label + " (ReadFileTo)", down,
                                        down_error));
  // Over both directions: the peak RSS over the RSS before the first transfer.
  auto growth_mib = [](uint64_t peak, uint64_t before) {
    return (static_cast<double>(peak) - static_cast<double>(before)) / 1024.0;
  };
  scenario.metrics.push_back(ValueMetric("files.osbd_rss_growth",
                                         "osbd's RSS growth over the transfers",
                                         growth_mib(peak_kib, osbd_before_kib), "MiB"));
  scenario.metrics.push_back(
      agent > 0 ? ValueMetric("files.agent_rss_growth",
                              "the sandbox's osb-agent's RSS growth over the transfers",
                              growth_mib(agent_peak_kib, agent_before_kib), "MiB")
                : ErrorMetric("files.agent_rss_growth", "osb-agent's RSS growth",
                              "the sandbox's osb-agent was not found in /proc"));
  scenario.metrics.push_back(Throughput(
      "files.curl.upload", "curl upload " + size_label + " to the execd endpoint (multipart)",
      curl_up, curl_up_error));
  scenario.metrics.push_back(Throughput("files.curl.download",
                                        "curl download " + size_label + " from the execd endpoint",
                                        curl_down, curl_down_error));
  scenario.metrics.push_back(
      Throughput("files.local_cp", "local `cp` of " + size_label + " in /tmp (the floor)", local,
                 local_error));
  return scenario;
}

}  // namespace osb::bench
