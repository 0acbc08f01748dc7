// Quick start: create a sandbox, run a command in it, read the output, kill it.
//
//   OSBD_SOCKET=/path/to/osbd.sock ./hello
#include <iostream>

#include "opensandbox/opensandbox.h"

int main() {
  auto sandbox = opensandbox::Sandbox::Create("debian");
  if (!sandbox.ok()) {
    std::cerr << "create: " << sandbox.status() << "\n";
    return 1;
  }
  std::cout << "sandbox " << sandbox->id() << " is running\n";

  auto execution = sandbox->commands().Run("echo Hello from $(uname -s)");
  if (execution.ok() && !execution->logs.stdout_lines.empty()) {
    std::cout << execution->logs.stdout_lines[0].text << "\n";
  } else if (!execution.ok()) {
    std::cerr << "run: " << execution.status() << "\n";
  }

  if (auto killed = sandbox->Kill(); !killed.ok()) std::cerr << "kill: " << killed << "\n";
  return execution.ok() && execution->exit_code == 0 ? 0 : 1;
}
