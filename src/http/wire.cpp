#include "http/wire.hpp"

#include <charconv>

namespace tk::http {

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
