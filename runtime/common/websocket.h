// RFC 6455 WebSocket framing: the handshake's accept key, writing frames, and reading messages
// from a byte stream. osb-agent's PTY sessions serve WebSockets with it (COMPAT.md §2.9); the
// tests speak to them with it as a client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace osb::websocket {

inline constexpr std::string_view kVersion = "13";

// Close codes (RFC 6455 §7.4.1).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseTooBig = 1009;

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// The Sec-WebSocket-Accept answer to a client's Sec-WebSocket-Key.
std::string AcceptKey(std::string_view client_key);

// One whole (FIN) frame. A client's frames are masked with `mask_key`; a server's never are.
std::string Frame(Opcode opcode, std::string_view payload,
                  std::optional<uint32_t> mask_key = std::nullopt);

// The payload of a close frame: the code, big-endian, then the reason.
std::string ClosePayload(uint16_t code, std::string_view reason);

struct Message {
  Opcode opcode;
  std::string payload;  // unmasked; a fragmented message's pieces joined
};

// Reads messages from the bytes one side of a connection sends. A control frame (close, ping,
// pong) is a message of its own as soon as it is whole, also between the fragments of a data
// message.
class MessageReader {
 public:
  // `from_client`: the frames must be masked (a client's), else must not be (a server's).
  // A data message longer than `max_message` is an error.
  MessageReader(bool from_client, std::size_t max_message);

  void Append(std::string_view bytes);

  // The next whole message; nullopt until more bytes arrive. InvalidArgument for a broken rule
  // of the protocol (the connection is then closed with kCloseProtocolError), ResourceExhausted
  // for a message over the limit (kCloseTooBig). After an error the reader is of no further use.
  absl::StatusOr<std::optional<Message>> Next();

 private:
  const bool from_client_;
  const std::size_t max_message_;
  std::string buffer_;  // bytes not yet consumed, from pos_
  std::size_t pos_ = 0;
  std::optional<Opcode> fragmented_;  // the opcode of a data message whose end has not come
  std::string pieces_;
};

}  // namespace osb::websocket
