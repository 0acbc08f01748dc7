// GET /pty/{id}/ws: a PTY session's WebSocket, as execd serves it (COMPAT.md §2.9).
//
// Before the upgrade: 404 CONTEXT_NOT_FOUND for an unknown session, 409 ALREADY_CONNECTED while
// another client holds it (unless `?takeover=1`: the holder is closed with code 4001), 400 for a
// request that is not a WebSocket handshake. After it, the shell is started unless it runs
// (`?pty=0`: on pipes), the output since `?since=<offset>` is replayed (a binary frame 0x03 with
// the 8-byte big-endian offset of its first byte), `{"type":"connected",...}` follows, then live
// output as binary frames 0x01 (stdout) and 0x02 (stderr, pipe mode). The client sends stdin as
// binary 0x00+bytes or `{"type":"stdin","data"}`, and `resize`, `signal`, `ping` as JSON. When the
// shell exits: `{"type":"exit","exit_code":N}` and a close frame. The server pings every 30 s and
// ends a connection that has said nothing for 60 s.
#pragma once

#include <httplib.h>

#include "runtime/agent/pty_sessions.h"

namespace osb::agent {

void ServePtySocket(PtySessions& sessions, const httplib::Request& req, httplib::Response& res);

}  // namespace osb::agent
