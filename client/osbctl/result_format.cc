#include "client/osbctl/result_format.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace osb::cli {
namespace {

bool IsScalar(const nlohmann::ordered_json& j) { return !j.is_object() && !j.is_array(); }

// A scalar as a table cell or YAML value: strings bare in cells, JSON-quoted in YAML (a JSON
// string is a valid YAML scalar, whatever it holds).
std::string Cell(const nlohmann::ordered_json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

void Yaml(const nlohmann::ordered_json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (j.is_object()) {
    if (j.empty()) return absl::StrAppend(&out, pad, "{}\n");
    for (const auto& [key, value] : j.items()) {
      absl::StrAppend(&out, pad, nlohmann::ordered_json(key).dump(), ":");
      if (IsScalar(value)) {
        absl::StrAppend(&out, " ", value.dump(), "\n");
      } else if (value.empty()) {
        absl::StrAppend(&out, value.is_array() ? " []\n" : " {}\n");
      } else {
        absl::StrAppend(&out, "\n");
        Yaml(value, indent + 2, out);
      }
    }
  } else if (j.is_array()) {
    if (j.empty()) return absl::StrAppend(&out, pad, "[]\n");
    for (const auto& item : j) {
      if (IsScalar(item)) {
        absl::StrAppend(&out, pad, "- ", item.dump(), "\n");
      } else {
        absl::StrAppend(&out, pad, "-\n");
        Yaml(item, indent + 2, out);
      }
    }
  } else {
    absl::StrAppend(&out, pad, j.dump(), "\n");
  }
}

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    absl::StrAppend(&out, text, "\n");
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

// The first list of objects among `j`'s fields, or null.
const nlohmann::ordered_json* FirstList(const nlohmann::ordered_json& j) {
  if (!j.is_object()) return nullptr;
  for (const auto& [key, value] : j.items()) {
    if (value.is_array() && !value.empty() && value.front().is_object()) return &value;
  }
  return nullptr;
}

// A whole-number field of `j`, 0 when absent; proto JSON writes 64-bit ones as strings.
int64_t Count(const nlohmann::ordered_json& j, const char* key) {
  if (!j.contains(key)) return 0;
  const nlohmann::ordered_json& value = j[key];
  if (value.is_number_integer()) return value.get<int64_t>();
  int64_t n = 0;
  if (value.is_string()) (void)absl::SimpleAtoi(value.get<std::string>(), &n);
  return n;
}

}  // namespace

bool ParseResultFormat(const std::string& name, ResultFormat* format) {
  if (name == "json") *format = ResultFormat::kJson;
  else if (name == "yaml") *format = ResultFormat::kYaml;
  else if (name == "raw") *format = ResultFormat::kRaw;
  else if (name == "table") *format = ResultFormat::kTable;
  else return false;
  return true;
}

std::string FormatResult(const nlohmann::ordered_json& result, ResultFormat format) {
  switch (format) {
    case ResultFormat::kYaml: {
      std::string out;
      Yaml(result, 0, out);
      return out;
    }
    case ResultFormat::kRaw:
      return result.dump() + "\n";
    case ResultFormat::kTable: {
      if (const nlohmann::ordered_json* list = FirstList(result)) {
        // Columns: the scalar fields of the rows, in the order they first appear.
        std::vector<std::string> header;
        for (const auto& row : *list) {
          for (const auto& [key, value] : row.items()) {
            if (IsScalar(value) && std::find(header.begin(), header.end(), key) == header.end()) {
              header.push_back(key);
            }
          }
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& row : *list) {
          std::vector<std::string> cells;
          for (const auto& key : header) {
            cells.push_back(row.contains(key) ? Cell(row[key]) : "");
          }
          rows.push_back(std::move(cells));
        }
        std::string out = Table(header, rows);
        // A page of a list says where it sits, or a reader takes the page for the whole.
        if (result.contains("pagination") && result["pagination"].is_object()) {
          const nlohmann::ordered_json& page = result["pagination"];
          absl::StrAppend(&out, "page ", Count(page, "page"), " of ", Count(page, "total_pages"),
                          " (", Count(page, "total_items"), " items)\n");
        }
        return out;
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& [key, value] : result.items()) {
        rows.push_back({key, IsScalar(value) ? Cell(value) : value.dump()});
      }
      return Table({"FIELD", "VALUE"}, rows);
    }
    case ResultFormat::kJson:
    default:
      return result.dump(2) + "\n";
  }
}

}  // namespace osb::cli
