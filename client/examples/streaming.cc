// Output as it happens: handlers see each line the moment the command prints it, and a failing
// command is a result (exit code and error), not an exception.
#include <iostream>

#include "opensandbox/opensandbox.h"

int main() {
  opensandbox::SandboxSpec spec;
  spec.timeout = absl::Minutes(5);
  spec.env = {{"GREETING", "hi"}};
  auto sandbox = opensandbox::Sandbox::Create("debian", spec);
  if (!sandbox.ok()) {
    std::cerr << "create: " << sandbox.status() << "\n";
    return 1;
  }

  opensandbox::ExecutionHandlers handlers;
  handlers.on_init = [](const std::string& id) { std::cout << "[started " << id << "]\n"; };
  handlers.on_stdout = [](const opensandbox::OutputMessage& m) {
    std::cout << "out: " << m.text << "\n";
  };
  handlers.on_stderr = [](const opensandbox::OutputMessage& m) {
    std::cout << "err: " << m.text << "\n";
  };
  handlers.on_error = [](const opensandbox::ExecutionError& e) {
    std::cout << "[failed: " << e.name << " " << e.value << "]\n";
  };
  handlers.on_complete = [](const opensandbox::ExecutionComplete& c) {
    std::cout << "[completed in " << c.execution_time << "]\n";
  };

  auto execution = sandbox->commands().Run(
      "for i in 1 2 3; do echo \"$GREETING $i\"; sleep 0.1; done; echo oops >&2; exit 3", {},
      handlers);
  int code = 1;
  if (execution.ok()) {
    std::cout << "exit code " << execution->exit_code.value_or(-1) << ", "
              << execution->logs.stdout_lines.size() << " lines of stdout\n";
    code = execution->exit_code == 3 ? 0 : 1;
  } else {
    std::cerr << "run: " << execution.status() << "\n";
  }
  (void)sandbox->Kill();
  return code;
}
