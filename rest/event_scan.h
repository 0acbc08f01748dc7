// A fast reader for the events that make up nearly all of a command's stream (stdout, stderr,
// init, ping, execution_complete): flat JSON objects of strings and integers. Building a DOM for
// each was most of the cost of decoding a stream; this reads the text once, in place.
#pragma once

#include <optional>
#include <string_view>

#include "rest/execd.h"

namespace rest::internal {

// The event `json_text` holds, exactly as ParseServerStreamEvent's full parse reads it, when the
// text is one object whose members are strings (without \u escapes) and integers, with a
// non-empty `type` and no `results` or `error`; nullopt for anything else, which the full parser
// must read (and which it may refuse).
std::optional<ServerStreamEvent> ScanFlatEvent(std::string_view json_text);

}  // namespace rest::internal
