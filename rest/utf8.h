// UTF-8 well-formedness, as JSON (RFC 8259) and nlohmann::json require it.
#pragma once

#include <cstddef>
#include <string_view>

namespace rest {

// The length of the well-formed UTF-8 sequence that starts at s[i] (a byte >= 0x80), or 0 when
// none does there (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or
// a sequence cut short).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

}  // namespace rest
