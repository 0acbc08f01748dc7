// MetricsEndpoint: the optional Prometheus endpoint of osbd ([metrics] listen in the config
// file): GET /metrics answers PrometheusText of the daemon's statistics; anything else is 404.
// Plain HTTP on the configured address, on a thread of its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace osb::daemon {

class MetricsEndpoint {
 public:
  // Serves on `listen` (HOST:PORT; port 0 picks one) the text `render` returns at each scrape.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::function<std::string()> render);
  ~MetricsEndpoint();

  // HOST:PORT actually bound.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace osb::daemon
