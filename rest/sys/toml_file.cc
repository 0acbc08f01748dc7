#include "rest/sys/toml_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace osb {

absl::StatusOr<toml::table> ParseTomlFile(const std::string& path) {
  // This toml++ is built with exceptions: a parse error is thrown.
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read: ", std::string(e.description())));
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
}

absl::Status CheckTomlKeys(const toml::table& table, const std::set<std::string>& known,
                           const std::string& where) {
  for (const auto& [key, value] : table) {
    if (known.count(std::string(key.str())) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key '",
                                                     std::string(key.str()), "' (known: ",
                                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> TomlString(const toml::table& table,
                                                      const std::string& key,
                                                      const std::string& where) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::optional<std::string>();
  if (!node->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": '", key, "' must be a string"));
  }
  return std::optional<std::string>(node->as_string()->get());
}

}  // namespace osb
