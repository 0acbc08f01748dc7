// What every scenario needs to know about the system under test, and what scenarios observe for
// later ones (osbd's memory under load is reported by the footprint scenario).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace osb::bench {

struct BenchConfig {
  bool quick = false;
  std::string osbd_socket;
  pid_t osbd_pid = -1;
  std::string runtime_address;  // host:port of osb-runtime's lifecycle API
  pid_t runtime_pid = -1;
  std::string api_key;
  std::string bin_dir;     // osbctl
  std::string script_dir;  // bench/ in the source tree: curl_tti.sh, sdk/
  std::string python;      // a Python with `opensandbox` installed; empty: see python_skip
  std::string python_skip;
  std::string node;    // node; empty: see js_skip
  std::string js_dir;  // a directory whose node_modules has @alibaba-group/opensandbox
  std::string js_skip;

  // Iterations (or seconds) for a quick and for a default run.
  int Pick(int quick_value, int default_value) const { return quick ? quick_value : default_value; }
  int RuntimePort() const;
};

// Filled as scenarios run.
struct Observations {
  uint64_t osbd_idle_rss_kib = 0;
  uint64_t osbd_load_rss_kib = 0;    // peak while 64 clients ran commands
  uint64_t osbd_stream_rss_kib = 0;  // peak while a large output streamed through it
};

}  // namespace osb::bench
