// Answers for cpp-httplib handlers in osb-runtime and osb-agent: the `{"code","message"}` error
// body (COMPAT.md §1.1) and JSON bodies, written the one way every route uses.
#pragma once

#include <httplib.h>

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace osb {

// Status and body from `status` (rest::ErrorResponseFromStatus, rest::HttpStatusFromCode).
void ReplyError(httplib::Response& res, const absl::Status& status);

// An error with an explicit HTTP status and OpenSandbox code.
void ReplyError(httplib::Response& res, int http_status, std::string_view code,
                absl::string_view message);

void ReplyJson(httplib::Response& res, int http_status, const nlohmann::json& body);

// cpp-httplib applies a request's Range header to whatever response it sends, error bodies
// included. osb-agent serves ranges itself (only downloads take them) and osb-runtime passes them
// on to the agent untouched, so both call this from their pre-routing handler. (The Request is
// httplib's own non-const object, handed to handlers as const.)
inline void IgnoreRangesInResponse(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

// Parses a request body as JSON; InvalidArgument with the parser's message when it is not.
absl::StatusOr<nlohmann::json> ParseJsonBody(const httplib::Request& req);

}  // namespace osb
