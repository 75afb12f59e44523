#pragma once
// Response head serialisation for the server's write path: status line and fields into one
// reused string, written together with the body in a single gather write. Replaces Beast's
// generic serializer (buffer-sequence iterators), which cost ~8% of a status poll's CPU.
#include <string>

#include "http/context.hpp"

namespace tk::http {

// Appends "HTTP/1.x NNN Reason\r\n", every field as "Name: value\r\n", then "\r\n".
// The response must be prepared (Content-Length set) by the caller.
void write_head(const Response& res, std::string& out);

}  // namespace tk::http
