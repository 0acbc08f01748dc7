#include "rest/shell_quote.h"

#include "absl/strings/ascii.h"

namespace rest {

std::string ShellQuote(std::string_view arg) {
  bool safe = !arg.empty();
  for (char c : arg) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("@%+=:,./-_").find(c) == std::string_view::npos) {
      safe = false;
      break;
    }
  }
  if (safe) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ShellJoin(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(a);
  }
  return out;
}

}  // namespace rest
