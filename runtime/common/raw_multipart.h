// cpp-httplib parses a multipart/form-data body itself and hands a handler only its parts, but
// only when the request says it is multipart. osb-runtime's proxy relays such bodies byte for
// byte, and osb-agent reads its uploads with its own MultipartReader, so both keep the request's
// Content-Type aside, under another name, while httplib reads the body.
#pragma once

#include <httplib.h>

#include <string>

namespace osb {

// Where a multipart request's Content-Type is kept meanwhile.
inline constexpr char kSetAsideContentType[] = "X-Osb-Multipart-Content-Type";

// From a pre-routing handler (the Request is httplib's own non-const object, handed to handlers
// as const): moves a multipart request's Content-Type aside, so that the route's ContentReader
// hands over the raw body. A client's own header of that name is dropped first.
void KeepMultipartBodyRaw(const httplib::Request& req);

// The request's Content-Type, one kept aside included.
std::string RequestContentType(const httplib::Request& req);

}  // namespace osb
