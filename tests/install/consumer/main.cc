// Connects to the sandbox named on the command line through osbd and prints its state; exits 3
// with the error when that fails.
#include <iostream>

#include <opensandbox/opensandbox.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto sandbox = opensandbox::Sandbox::Connect(argv[1]);
  if (!sandbox.ok()) {
    std::cerr << sandbox.status() << "\n";
    return 3;
  }
  std::cout << sandbox->GetInfo()->status.state << "\n";
  return 0;
}
