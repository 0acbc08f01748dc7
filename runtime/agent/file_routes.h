// execd's /files and /directories routes (COMPAT.md §2.2, §2.6) on osb-agent's HTTP server.
// Uploads are written to disk as they arrive and downloads read from disk as they are sent, so
// neither is ever held whole in memory.
#pragma once

#include <httplib.h>

namespace osb::agent {

void AddFileRoutes(httplib::Server& server);

}  // namespace osb::agent
