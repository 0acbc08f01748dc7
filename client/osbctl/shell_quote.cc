#include "client/osbctl/shell_quote.h"

#include "rest/shell_quote.h"

namespace osb::cli {

std::string CommandLine(const std::vector<std::string>& args) {
  if (args.size() == 1) return args[0];
  return rest::ShellJoin(args);
}

}  // namespace osb::cli
