#include "http/static_files.hpp"

#include <sys/stat.h>

#include <array>
#include <boost/beast/http/field.hpp>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <utility>

#include "http/responses.hpp"

namespace tk::http {
namespace {

namespace bhttp = beast::http;

constexpr std::size_t kMaxFile = 32 * 1024 * 1024;  // the front-end's files are far smaller

// Same-origin only: scripts and styles from files of this origin (no inline script), images also
// as data: URLs (QR codes), API calls to this origin.
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

std::optional<std::string> realpath_of(const std::string& p) {
  std::array<char, PATH_MAX> buf{};
  if (::realpath(p.c_str(), buf.data()) == nullptr) return std::nullopt;
  return std::string(buf.data());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view extension_of(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = last.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : last.substr(dot + 1);
}

}  // namespace

Result<std::shared_ptr<const StaticFiles>> StaticFiles::open(const std::string& root) {
  auto real = realpath_of(root);
  if (!real) return std::make_error_code(std::errc::no_such_file_or_directory);
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return std::make_error_code(std::errc::not_a_directory);
  }
  while (real->size() > 1 && real->back() == '/') real->pop_back();
  return std::shared_ptr<const StaticFiles>(new StaticFiles(std::move(*real)));
}

std::optional<std::string> StaticFiles::clean_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string decoded;
  decoded.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      int hi = hex_value(path[i + 1]), lo = hex_value(path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || c == '\\') return std::nullopt;
    decoded.push_back(c);
  }
  // "/a/b/" is "/a/b"; then every segment must be a plain, non-hidden name.
  std::string_view rest(decoded);
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return std::string();
  std::string_view scan = rest;
  while (true) {
    auto slash = scan.find('/');
    std::string_view seg = scan.substr(0, slash);
    if (seg.empty() || seg.front() == '.') return std::nullopt;  // "", ".", "..", dotfiles
    if (slash == std::string_view::npos) break;
    scan.remove_prefix(slash + 1);
  }
  return std::string(rest);
}

std::string_view StaticFiles::content_type(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
      {"wasm", "application/wasm"},
  };
  std::string_view ext = extension_of(path);
  for (const auto& [e, type] : kTypes) {
    if (ext.size() != e.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < e.size() && same; ++i) {
      char c = ext[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == e[i];
    }
    if (same) return type;
  }
  return "application/octet-stream";
}

std::optional<std::string> StaticFiles::read_inside(const std::string& rel) const {
  auto real = realpath_of(root_ + "/" + rel);
  if (!real) return std::nullopt;
  // Symlinks are resolved: the target itself must lie inside the root.
  if (real->size() <= root_.size() || real->compare(0, root_.size(), root_) != 0 ||
      (*real)[root_.size()] != '/') {
    return std::nullopt;
  }
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (static_cast<std::size_t>(st.st_size) > kMaxFile) return std::nullopt;
  std::ifstream in(*real, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return data;
}

Response StaticFiles::serve(bhttp::verb method, std::string_view target) const {
  if (method != bhttp::verb::get && method != bhttp::verb::head) {
    Response res = error_response(bhttp::status::method_not_allowed, "method_not_allowed",
                                  "method not allowed for this path");
    res.set(bhttp::field::allow, "GET, HEAD");
    return res;
  }
  auto rel = clean_path(target);
  if (!rel) return error_response(bhttp::status::not_found, "not_found", "no such path");
  std::string name = rel->empty() ? "index.html" : *rel;
  auto body = read_inside(name);
  if (!body && extension_of(name).empty()) {
    // A client-side route of the single-page app (e.g. /performances/prf_1/seats).
    name = "index.html";
    body = read_inside(name);
  }
  if (!body) return error_response(bhttp::status::not_found, "not_found", "no such path");

  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, content_type(name));
  res.set("X-Content-Type-Options", "nosniff");
  if (name.starts_with("assets/")) {
    res.set(bhttp::field::cache_control, "public, max-age=31536000, immutable");
  } else {
    res.set(bhttp::field::cache_control, "no-cache");
  }
  if (name.ends_with(".html")) {
    res.set("Content-Security-Policy", kCsp);
    res.set("Referrer-Policy", "no-referrer");
  }
  // HEAD too: the server sends the head only, with the GET's Content-Length.
  res.body() = std::move(*body);
  return res;
}

Handler StaticFiles::handler(std::shared_ptr<const StaticFiles> files) {
  return [files = std::move(files)](RequestContext& ctx) -> asio::awaitable<Response> {
    co_return files->serve(ctx.req.method(), ctx.req.target());
  };
}

}  // namespace tk::http
