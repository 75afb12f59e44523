#include "support/mail_sink.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_env.hpp"

namespace tk::test {

namespace fs = std::filesystem;

std::string mail_header(const std::string& raw, const std::string& name) {
  auto head = "\r\n" + raw.substr(0, raw.find("\r\n\r\n"));
  auto p = head.find("\r\n" + name + ": ");
  if (p == std::string::npos) return "";
  p += name.size() + 4;
  return head.substr(p, head.find("\r\n", p) - p);
}

std::vector<std::string> sink_mails(const std::string& name, const std::string& value) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(env("TK_MAIL_DIR"))) {
    if (f.path().extension() != ".eml") continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (mail_header(ss.str(), name) == value) out.push_back(ss.str());
  }
  return out;
}

std::string mail_text(const std::string& raw) {
  static const std::string k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto t = raw.find("Content-Type: text/plain; charset=UTF-8");
  if (t == std::string::npos) return "";
  auto at = raw.find("\r\n\r\n", t);
  if (at == std::string::npos) return "";
  at += 4;
  auto end = raw.find("\r\n--", at);
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : raw.substr(at, end == std::string::npos ? std::string::npos : end - at)) {
    auto p = k.find(c);
    if (p == std::string::npos) continue;  // CRLF, padding
    v = (v << 6) | static_cast<unsigned>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace tk::test
