// Files in and out: write a script, make it executable, run it, look around, read a result
// back, and stream a larger file both ways.
#include <iostream>
#include <sstream>

#include "opensandbox/opensandbox.h"

int main() {
  auto sandbox = opensandbox::Sandbox::Create("debian");
  if (!sandbox.ok()) {
    std::cerr << "create: " << sandbox.status() << "\n";
    return 1;
  }
  auto& files = sandbox->files();
  int code = 1;
  [&] {
    if (auto s = files.CreateDirectories({"/work/out"}, {.mode = 0755}); !s.ok()) {
      std::cerr << "mkdir: " << s << "\n";
      return;
    }
    if (auto s = files.WriteFile("/work/run.sh", "#!/bin/sh\nls /work > /work/out/listing\n",
                                 {.mode = 0755});
        !s.ok()) {
      std::cerr << "write: " << s << "\n";
      return;
    }
    auto ran = sandbox->commands().Run("/work/run.sh");
    if (!ran.ok() || ran->exit_code != 0) {
      std::cerr << "run.sh failed\n";
      return;
    }
    auto listing = files.ReadFile("/work/out/listing");
    if (!listing.ok()) {
      std::cerr << "read: " << listing.status() << "\n";
      return;
    }
    std::cout << "listing:\n" << *listing;

    std::istringstream big(std::string(8 << 20, 'z'));  // 8 MiB, streamed in chunks
    auto written = files.WriteFileFrom("/work/big.bin", big);
    auto info = files.GetInfo({"/work/big.bin", "/work/run.sh"});
    if (!written.ok() || !info.ok()) {
      std::cerr << "big file: " << (written.ok() ? info.status() : written.status()) << "\n";
      return;
    }
    std::cout << "big.bin: " << info->at("/work/big.bin").size << " bytes; run.sh mode "
              << std::oct << info->at("/work/run.sh").mode << std::dec << "\n";
    auto found = files.Search("/work", "*.sh");
    if (found.ok()) std::cout << "found " << found->size() << " script(s)\n";
    code = 0;
  }();
  (void)sandbox->Kill();
  return code;
}
