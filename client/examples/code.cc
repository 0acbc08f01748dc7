// Quick start: the code interpreter. A context keeps its state between cells; a cell's last
// expression is its result; an exception is the cell's error, not a failed call.
//
//   OSBD_SOCKET=/path/to/osbd.sock ./code
#include <iostream>

#include "opensandbox/opensandbox.h"

int main() {
  auto sandbox = opensandbox::Sandbox::Create("debian");
  if (!sandbox.ok()) {
    std::cerr << "create: " << sandbox.status() << "\n";
    return 1;
  }
  auto& codes = sandbox->codes();
  int status = 1;
  if (auto context = codes.CreateContext("python"); !context.ok()) {
    std::cerr << "context: " << context.status() << "\n";
  } else {
    opensandbox::ExecutionHandlers handlers;
    handlers.on_stdout = [](const opensandbox::OutputMessage& m) { std::cout << m.text; };
    auto set = codes.Run("import math\nradius = 2\nprint('radius', radius)",
                         {.context_id = context->id}, handlers);
    auto area = codes.Run("round(math.pi * radius ** 2, 2)", {.context_id = context->id});
    auto failed = codes.Run("radius / 0", {.context_id = context->id});
    if (set.ok() && area.ok() && !area->results.empty() && failed.ok() &&
        failed->error.has_value()) {
      std::cout << "area " << area->results[0].text << " (cell " << area->execution_count
                << ")\n";
      std::cout << "then " << failed->error->name << ": " << failed->error->value << "\n";
      status = 0;
    } else {
      std::cerr << "run: " << set.status() << " " << area.status() << " " << failed.status()
                << "\n";
    }
  }
  if (auto killed = sandbox->Kill(); !killed.ok()) std::cerr << "kill: " << killed << "\n";
  return status;
}
