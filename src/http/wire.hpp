#pragma once
// The server's byte-level steps, apart from its sockets and coroutines (so they are fuzzed on
// their own, fuzz/): requests parsed from what the connection buffer holds, and the response head
// serialisation for the write path: status line and fields into one reused string, written
// together with the body in a single gather write. Replaces Beast's generic serializer
// (buffer-sequence iterators), which cost ~8% of a status poll's CPU.
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

#include "http/context.hpp"

namespace tk::http {

// Feeds what the buffer holds to the parser without I/O, consuming what it used. Returns true
// when the parser needs more bytes than the buffer has; `ec` is a parse error (limits, malformed)
// otherwise.
bool parse_buffered(beast::flat_buffer& buffer,
                    beast::http::request_parser<beast::http::string_body>& parser,
                    beast::error_code& ec);

// Appends "HTTP/1.x NNN Reason\r\n", every field as "Name: value\r\n", then "\r\n".
// The response must be prepared (Content-Length set) by the caller.
void write_head(const Response& res, std::string& out);

}  // namespace tk::http
