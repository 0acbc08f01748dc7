// Administration by id: label sandboxes, list them with filters, renew one, pause and resume
// it, and clean up everything with the label.
#include <iostream>

#include "opensandbox/opensandbox.h"

int main() {
  opensandbox::SandboxSpec spec;
  spec.metadata = {{"example", "manager"}};
  for (int i = 0; i < 2; ++i) {
    auto sandbox = opensandbox::Sandbox::Create("debian", spec);
    if (!sandbox.ok()) {
      std::cerr << "create: " << sandbox.status() << "\n";
      return 1;
    }
  }

  opensandbox::SandboxManager manager;
  auto page = manager.List({.states = {"running"}, .metadata = {{"example", "manager"}}});
  if (!page.ok()) {
    std::cerr << "list: " << page.status() << "\n";
    return 1;
  }
  std::cout << page->total_items << " sandboxes labelled example=manager\n";
  int code = page->total_items == 2 ? 0 : 1;

  const std::string first = page->sandboxes.front().id;
  if (auto expiry = manager.Renew(first, absl::Minutes(30)); expiry.ok()) {
    std::cout << "renewed until " << absl::FormatTime(*expiry) << "\n";
  } else {
    code = 1;
  }
  if (manager.Pause(first).ok() && manager.Resume(first).ok()) {
    std::cout << "paused and resumed " << first << "\n";
  } else {
    code = 1;
  }
  for (const auto& info : page->sandboxes) {
    if (auto killed = manager.Kill(info.id); !killed.ok()) {
      std::cerr << "kill " << info.id << ": " << killed << "\n";
      code = 1;
    }
  }
  return code;
}
