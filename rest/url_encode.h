// Percent-encoding of query parameter values (RFC 3986: everything but unreserved characters).
#pragma once

#include <string>
#include <string_view>

namespace rest {

std::string UrlEncode(std::string_view s);

}  // namespace rest
