#include "runtime/common/websocket.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace osb::websocket {
namespace {

using ::testing::HasSubstr;

constexpr std::size_t kMax = 1 << 20;

// Every message `bytes` holds, fed `piece` bytes at a time; the error, if one comes, ends it.
struct Read {
  std::vector<Message> messages;
  absl::Status status;
};

Read ReadAll(std::string_view bytes, std::size_t piece, bool from_client = true,
             std::size_t max = kMax) {
  Read read;
  MessageReader reader(from_client, max);
  for (std::size_t at = 0; at < bytes.size() && read.status.ok(); at += piece) {
    reader.Append(bytes.substr(at, piece));
    for (;;) {
      auto next = reader.Next();
      if (!next.ok()) {
        read.status = next.status();
        break;
      }
      if (!next->has_value()) break;
      read.messages.push_back(**next);
    }
  }
  return read;
}

TEST(WebSocket, AcceptKeyIsTheOneOfTheRfcsExample) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, MaskedFramesOfEverySizeReadBackWholeInAnyPieces) {
  // The three length encodings: 7 bits, 16 bits and 64 bits.
  for (std::size_t size : {0, 5, 125, 126, 65535, 65536, 200000}) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
    const std::string bytes = Frame(Opcode::kBinary, payload, 0x37FA213D) +
                              Frame(Opcode::kText, "after", 0x01020304);
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, bytes.size()}) {
      if (size > 70000 && piece < 4096) continue;  // quadratic in the test's own loop
      Read read = ReadAll(bytes, piece);
      ASSERT_TRUE(read.status.ok()) << read.status;
      ASSERT_EQ(read.messages.size(), 2u) << "size " << size << " piece " << piece;
      EXPECT_EQ(read.messages[0].opcode, Opcode::kBinary);
      EXPECT_EQ(read.messages[0].payload, payload);
      EXPECT_EQ(read.messages[1].payload, "after");
    }
  }
}

// A fragmented message, as a client may send one, with a ping between its fragments.
std::string Fragmented() {
  auto frame = [](uint8_t first_byte, std::string_view payload) {
    std::string f = Frame(Opcode::kText, payload, 0xA1B2C3D4);
    f[0] = static_cast<char>(first_byte);
    return f;
  };
  return frame(0x01, "hel") + Frame(Opcode::kPing, "p", 7) + frame(0x00, "lo ") +
         frame(0x80, "world");
}

TEST(WebSocket, FragmentsJoinAndAControlFrameBetweenThemComesFirst) {
  Read read = ReadAll(Fragmented(), 2);
  ASSERT_TRUE(read.status.ok()) << read.status;
  ASSERT_EQ(read.messages.size(), 2u);
  EXPECT_EQ(read.messages[0].opcode, Opcode::kPing);
  EXPECT_EQ(read.messages[0].payload, "p");
  EXPECT_EQ(read.messages[1].opcode, Opcode::kText);
  EXPECT_EQ(read.messages[1].payload, "hello world");
}

TEST(WebSocket, AServersFramesAreUnmaskedAndAClosePayloadCarriesItsCode) {
  const std::string bytes = Frame(Opcode::kClose, ClosePayload(kCloseNormal, "process exited"));
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]) & 0x80, 0);
  Read read = ReadAll(bytes, 1, /*from_client=*/false);
  ASSERT_TRUE(read.status.ok()) << read.status;
  ASSERT_EQ(read.messages.size(), 1u);
  EXPECT_EQ(read.messages[0].opcode, Opcode::kClose);
  EXPECT_EQ(read.messages[0].payload, std::string("\x03\xE8", 2) + "process exited");
}

TEST(WebSocket, BrokenRulesAreErrors) {
  struct Case {
    std::string bytes;
    const char* says;
  };
  std::string reserved = Frame(Opcode::kText, "x", 1);
  reserved[0] = static_cast<char>(0xC1);  // RSV1
  std::string unknown = Frame(Opcode::kText, "x", 1);
  unknown[0] = static_cast<char>(0x83);
  std::string fragmented_ping = Frame(Opcode::kPing, "x", 1);
  fragmented_ping[0] = static_cast<char>(0x09);
  std::string begun = Frame(Opcode::kText, "x", 1);
  begun[0] = static_cast<char>(0x01);
  std::string huge_length("\x82\xFF\x80\x00\x00\x00\x00\x00\x00\x00", 10);
  const std::vector<Case> cases = {
      {Frame(Opcode::kText, "unmasked"), "must be masked"},
      {reserved, "reserved bits"},
      {unknown, "opcode 3"},
      {fragmented_ping, "fragmented"},
      {Frame(Opcode::kPing, std::string(126, 'p'), 1), "over 125"},
      {Frame(Opcode::kContinuation, "x", 1), "no message to continue"},
      {begun + Frame(Opcode::kText, "y", 1), "inside a fragmented one"},
      {huge_length, "top bit"},
  };
  for (const Case& c : cases) {
    Read read = ReadAll(c.bytes, c.bytes.size());
    EXPECT_EQ(read.status.code(), absl::StatusCode::kInvalidArgument) << c.says;
    EXPECT_THAT(std::string(read.status.message()), HasSubstr(c.says));
  }
  Read masked_from_server = ReadAll(Frame(Opcode::kText, "x", 1), 16, /*from_client=*/false);
  EXPECT_THAT(std::string(masked_from_server.status.message()), HasSubstr("must not be masked"));
}

TEST(WebSocket, AMessageOverTheLimitIsRefusedBeforeItsPayloadArrives) {
  // The header alone announces 2 MiB: refused without waiting for (or buffering) the payload.
  std::string header = Frame(Opcode::kBinary, std::string(2 << 20, 'x'), 5).substr(0, 14);
  Read read = ReadAll(header, header.size(), true, /*max=*/1 << 20);
  EXPECT_EQ(read.status.code(), absl::StatusCode::kResourceExhausted);
  // Fragments count together.
  std::string first = Frame(Opcode::kBinary, std::string(600 << 10, 'a'), 5);
  first[0] = static_cast<char>(0x02);
  std::string second = Frame(Opcode::kContinuation, std::string(600 << 10, 'b'), 5);
  read = ReadAll(first + second, 1 << 16, true, /*max=*/1 << 20);
  EXPECT_EQ(read.status.code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace osb::websocket
