// execd's /files and /directories routes (COMPAT.md §2.2, §2.6) on osb-agent's HTTP server.
// Uploads are written to disk as they arrive and downloads read from disk as they are sent, so
// neither is ever held whole in memory.
#pragma once

#include "runtime/common/http_server.h"

namespace osb::agent {

void AddFileRoutes(runtime::HttpServer& server);

}  // namespace osb::agent
