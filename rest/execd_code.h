// The execd code interpreter's JSON types (specs/execd-api.yaml CodeInterpreting, COMPAT.md
// §2.2): POST /code/context, the CodeContext it answers, and POST /code. Shared by osbd (client
// side) and osb-agent (server side).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rest {

// POST /code/context.
struct CodeContextRequest {
  std::string language;            // required, non-empty
  std::optional<std::string> cwd;  // execd's implementation reads it; the spec does not name it
};
// InvalidArgument naming the field for a body that is not an object, a missing or empty
// language, or a wrong type.
absl::StatusOr<CodeContextRequest> ParseCodeContextRequest(const nlohmann::json& j);
nlohmann::json ToJson(const CodeContextRequest& r);

// The answer of POST /code/context and GET /code/contexts[/{id}].
struct CodeContext {
  std::string id;
  std::string language;
  std::optional<std::string> cwd;
};
// InvalidArgument when language is missing or a field has the wrong type (id may be absent).
absl::StatusOr<CodeContext> ParseCodeContext(const nlohmann::json& j);
nlohmann::json ToJson(const CodeContext& c);

// POST /code. With neither a context id nor a language the code runs as a shell command; with a
// language only it runs in that language's default context.
struct RunCodeRequest {
  std::string code;  // required, non-empty
  std::optional<std::string> context_id;
  std::optional<std::string> language;
};
// InvalidArgument naming the field for a missing or empty code, a context that is not an object,
// or a wrong type. Empty strings in the context count as absent.
absl::StatusOr<RunCodeRequest> ParseRunCodeRequest(const nlohmann::json& j);
nlohmann::json ToJson(const RunCodeRequest& r);

}  // namespace rest
