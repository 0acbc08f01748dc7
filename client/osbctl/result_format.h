// The shapes osbctl prints a result in (`-o`): indented JSON (the default), YAML, one line of
// JSON (raw), or a table: the rows of the result's first list of objects, or the fields of the
// result itself, one per line.
#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace osb::cli {

enum class ResultFormat { kJson, kYaml, kRaw, kTable };

// "json", "yaml", "raw", "table"; false for anything else.
bool ParseResultFormat(const std::string& name, ResultFormat* format);

// `result` (a message as JSON with the proto field names) in `format`, ending with a newline.
std::string FormatResult(const nlohmann::ordered_json& result, ResultFormat format);

}  // namespace osb::cli
