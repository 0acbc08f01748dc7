#include "runtime/common/raw_multipart.h"

#include <utility>
#include <vector>

namespace osb {

void KeepMultipartBodyRaw(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Headers&>(req.headers);
  headers.erase(kSetAsideContentType);  // never the client's
  if (!req.is_multipart_form_data()) return;
  // Every Content-Type (names compare without case), so that httplib sees none left to parse.
  auto [first, last] = headers.equal_range("Content-Type");
  std::vector<std::string> values;
  for (auto it = first; it != last; ++it) values.push_back(std::move(it->second));
  headers.erase(first, last);
  for (auto& value : values) headers.emplace(kSetAsideContentType, std::move(value));
}

std::string RequestContentType(const httplib::Request& req) {
  return req.has_header(kSetAsideContentType) ? req.get_header_value(kSetAsideContentType)
                                              : req.get_header_value("Content-Type");
}

}  // namespace osb
