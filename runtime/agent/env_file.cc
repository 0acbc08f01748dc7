#include "runtime/agent/env_file.h"

#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"

namespace osb::agent {
namespace {

constexpr std::size_t kMaxEnvFile = 1 << 20;

bool ValidKey(absl::string_view key) {
  if (key.empty() || absl::ascii_isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The value of a double-quoted form without its quotes; false when it is not closed.
bool Unescape(absl::string_view quoted, std::string* out) {
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '"') return i + 1 == quoted.size();  // the closing quote ends the line
    if (c == '\\' && i + 1 < quoted.size()) {
      const char next = quoted[++i];
      switch (next) {
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        default:
          c = next;  // \\ and \" and anything else: the character itself
      }
    }
    out->push_back(c);
  }
  return false;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseEnvFile(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view line : absl::StrSplit(rest::AbslView(text), '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    line = absl::StripLeadingAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::ConsumePrefix(&line, "export ");
    const std::size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = line.substr(0, eq);
    absl::string_view raw = line.substr(eq + 1);
    if (!ValidKey(key)) continue;
    std::string value;
    if (!raw.empty() && raw[0] == '\'') {
      if (raw.size() < 2 || raw.back() != '\'' || raw.substr(1, raw.size() - 2).find('\'') !=
                                                      absl::string_view::npos) {
        continue;
      }
      value = std::string(raw.substr(1, raw.size() - 2));
    } else if (!raw.empty() && raw[0] == '"') {
      if (!Unescape(raw.substr(1), &value)) continue;
    } else {
      value = std::string(raw);
    }
    out.emplace_back(std::string(key), std::move(value));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> LoadEnvFile() {
  const char* path = std::getenv("EXECD_ENVS");
  if (path == nullptr || *path == '\0') return {};
  struct stat st {};
  if (::stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::size_t>(st.st_size) > kMaxEnvFile) {
    return {};
  }
  auto text = ReadFile(path);
  if (!text.ok() || text->size() > kMaxEnvFile) return {};
  return ParseEnvFile(*text);
}

}  // namespace osb::agent
