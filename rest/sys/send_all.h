// Sending a whole buffer on a socket, as one short write never does.
#pragma once

#include <string_view>

namespace osb {

// Sends all of `data` on the socket `fd` (blocking), retrying after signals and short writes,
// with MSG_NOSIGNAL: a closed peer is a false return (errno set), never a SIGPIPE.
bool SendAll(int fd, std::string_view data);

}  // namespace osb
