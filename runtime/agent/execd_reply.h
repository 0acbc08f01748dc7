// How osb-agent answers a failed execd request: the `{"code","message"}` body with execd's code
// and status (COMPAT.md §2.1). A status that carries an OpenSandbox code keeps it; otherwise
// NotFound is FILE_NOT_FOUND (404), InvalidArgument INVALID_REQUEST_BODY (400), and anything
// else RUNTIME_ERROR (500), as execd answers OS failures.
#pragma once

#include <httplib.h>

#include "absl/status/status.h"

namespace osb::agent {

void ReplyExecdError(httplib::Response& res, const absl::Status& status);

}  // namespace osb::agent
