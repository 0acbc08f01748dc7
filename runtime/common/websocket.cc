#include "runtime/common/websocket.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace osb::websocket {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxControlPayload = 125;

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool IsKnown(uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

std::string AcceptKey(std::string_view client_key) {
  std::string keyed(client_key);
  keyed += kAcceptGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(keyed.data()), keyed.size(), digest);
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string Frame(Opcode opcode, std::string_view payload, std::optional<uint32_t> mask_key) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask_key.has_value() ? 0x80 : 0;
  if (payload.size() <= 125) {
    frame.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(mask_bit | 126));
    AppendBigEndian(frame, payload.size(), 2);
  } else {
    frame.push_back(static_cast<char>(mask_bit | 127));
    AppendBigEndian(frame, payload.size(), 8);
  }
  if (!mask_key.has_value()) return frame.append(payload);
  std::string key;
  AppendBigEndian(key, *mask_key, 4);
  frame += key;
  const std::size_t start = frame.size();
  frame.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i) frame[start + i] ^= key[i % 4];
  return frame;
}

std::string ClosePayload(uint16_t code, std::string_view reason) {
  std::string payload;
  AppendBigEndian(payload, code, 2);
  return payload.append(reason.substr(0, kMaxControlPayload - 2));
}

MessageReader::MessageReader(bool from_client, std::size_t max_message)
    : from_client_(from_client), max_message_(max_message) {}

void MessageReader::Append(std::string_view bytes) {
  buffer_.erase(0, pos_);  // what is left is at most a partial frame
  pos_ = 0;
  buffer_.append(bytes);
}

absl::StatusOr<std::optional<Message>> MessageReader::Next() {
  for (;;) {
    const std::string_view in = std::string_view(buffer_).substr(pos_);
    if (in.size() < 2) return std::nullopt;
    const auto b0 = static_cast<uint8_t>(in[0]);
    const auto b1 = static_cast<uint8_t>(in[1]);
    const bool fin = (b0 & 0x80) != 0;
    const uint8_t opcode = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    if ((b0 & 0x70) != 0) return absl::InvalidArgumentError("reserved bits set: no extension");
    if (!IsKnown(opcode)) return absl::InvalidArgumentError(absl::StrCat("opcode ", opcode));
    if (masked != from_client_) {
      return absl::InvalidArgumentError(from_client_ ? "a client's frame must be masked"
                                                     : "a server's frame must not be masked");
    }
    std::size_t header = 2;
    uint64_t length = b1 & 0x7F;
    if (length >= 126) {
      const int bytes = length == 126 ? 2 : 8;
      if (in.size() < header + bytes) return std::nullopt;
      length = 0;
      for (int i = 0; i < bytes; ++i) length = (length << 8) | static_cast<uint8_t>(in[2 + i]);
      header += bytes;
      if (bytes == 8 && (length >> 63) != 0) {
        return absl::InvalidArgumentError("a frame length's top bit is set");
      }
    }
    if (IsControl(opcode)) {
      if (!fin) return absl::InvalidArgumentError("a control frame is fragmented");
      if (length > kMaxControlPayload) {
        return absl::InvalidArgumentError("a control frame carries over 125 bytes");
      }
    } else {
      if (opcode == 0 && !fragmented_.has_value()) {
        return absl::InvalidArgumentError("a continuation frame with no message to continue");
      }
      if (opcode != 0 && fragmented_.has_value()) {
        return absl::InvalidArgumentError("a new message began inside a fragmented one");
      }
      if (length > max_message_ - pieces_.size()) {
        return absl::ResourceExhaustedError(
            absl::StrCat("a message over ", max_message_, " bytes"));
      }
    }
    const std::size_t key_bytes = masked ? 4 : 0;
    if (in.size() < header + key_bytes || in.size() - header - key_bytes < length) {
      return std::nullopt;
    }
    std::string payload(in.substr(header + key_bytes, length));
    if (masked) {
      const std::string_view key = in.substr(header, 4);
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i % 4];
    }
    pos_ += header + key_bytes + length;

    if (IsControl(opcode)) return Message{static_cast<Opcode>(opcode), std::move(payload)};
    if (opcode != 0) fragmented_ = static_cast<Opcode>(opcode);
    pieces_ += payload;
    if (!fin) continue;
    Message message{*fragmented_, std::move(pieces_)};
    fragmented_.reset();
    pieces_.clear();
    return message;
  }
}

}  // namespace osb::websocket
