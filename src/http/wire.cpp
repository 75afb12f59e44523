#include "http/wire.hpp"

#include <boost/beast/http/error.hpp>
#include <charconv>

namespace tk::http {

bool parse_buffered(beast::flat_buffer& buffer,
                    beast::http::request_parser<beast::http::string_body>& parser,
                    beast::error_code& ec) {
  while (!parser.is_done()) {
    if (buffer.size() == 0) {
      return true;
    }
    std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == beast::http::error::need_more) {
      ec = {};
      return true;
    }
    if (ec) {
      return false;
    }
    if (used == 0) {
      return true;  // defensive: no progress without an error means wait for bytes
    }
  }
  return false;
}

void write_head(const Response& res, std::string& out) {
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char code[8];
  auto [end, ec] = std::to_chars(code, code + sizeof code, res.result_int());
  (void)ec;  // a status is at most three digits
  out.append(code, end);
  out += ' ';
  out += res.reason();
  out += "\r\n";
  for (const auto& f : res) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace tk::http
