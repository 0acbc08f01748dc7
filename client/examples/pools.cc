// Warm pools: define a template and a pool of ready sandboxes made from it, then take sandboxes
// out in a few milliseconds each instead of creating them.
#include <iostream>

#include "opensandbox/opensandbox.h"

int main() {
  opensandbox::TemplateManager templates;
  opensandbox::SandboxTemplate worker{.name = "example-worker", .image = "debian"};
  worker.spec.timeout = absl::Minutes(10);
  worker.spec.env = {{"ROLE", "worker"}};
  if (auto t = templates.Define(worker); !t.ok()) {
    std::cerr << "template: " << t.status() << "\n";
    return 1;
  }
  opensandbox::PoolManager pools;
  if (auto s = pools.Define({.name = "example-pool", .template_name = "example-worker",
                             .min_idle = 2});
      !s.ok()) {
    std::cerr << "pool: " << s << "\n";
    return 1;
  }
  // The pool fills in the background; wait for it here so the acquires below are warm.
  for (int i = 0; i < 300; ++i) {
    auto stats = pools.GetStats("example-pool");
    if (stats.ok() && stats->idle == 2) break;
    absl::SleepFor(absl::Milliseconds(100));
  }

  int code = 0;
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    auto sandbox = pools.Acquire("example-pool");
    if (!sandbox.ok()) {
      std::cerr << "acquire: " << sandbox.status() << "\n";
      code = 1;
      break;
    }
    auto run = sandbox->commands().Run("echo $ROLE $((6 * 7))");
    std::cout << "job " << i << ": "
              << (run.ok() && !run->logs.stdout_lines.empty() ? run->logs.stdout_lines[0].text
                                                              : "failed")
              << " (acquired and ran in " << absl::FormatDuration(absl::Now() - start) << ")\n";
    (void)pools.Release("example-pool", *sandbox);
  }
  if (auto stats = pools.GetStats("example-pool"); stats.ok()) {
    std::cout << "warm acquires: " << stats->warm_acquires
              << ", direct creates: " << stats->direct_creates << "\n";
  }
  (void)pools.Delete("example-pool");
  (void)templates.Delete("example-worker");
  return code;
}
