#pragma once
// Static files of the web front-end (web/dist), served from the same origin as the API for GET and
// HEAD of paths outside /v1 (see Router::set_fallback). Safe path handling: the decoded path may
// not contain "..", "." or empty segments, NUL or backslashes, and the resolved file (realpath, so
// symlinks too) must lie inside the root. A path that names no file and has no extension in its
// last segment is a client-side route of the single-page app: it gets index.html.
// Cache headers: files under /assets/ carry a content hash in their names (Vite) and are immutable
// for a year; everything else (index.html first) is "no-cache", so a new build shows at once.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/context.hpp"

namespace tk::http {

class StaticFiles {
 public:
  // `root` must be an existing directory; it is resolved with realpath once.
  static Result<std::shared_ptr<const StaticFiles>> open(const std::string& root);

  // GET or HEAD of `target` (query string ignored). 200 with the file, 404 not_found, 405 for
  // other methods. HEAD gets the headers of GET and an empty body.
  Response serve(beast::http::verb method, std::string_view target) const;

  // The handler to install with Router::set_fallback.
  static Handler handler(std::shared_ptr<const StaticFiles> files);

  const std::string& root() const { return root_; }

  // Exposed for tests: the decoded, checked relative path ("" for "/"), or nullopt when unsafe.
  static std::optional<std::string> clean_path(std::string_view target);
  static std::string_view content_type(std::string_view path);

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  // Reads root_/rel when it resolves to a regular file inside root_.
  std::optional<std::string> read_inside(const std::string& rel) const;

  std::string root_;  // realpath, no trailing slash
};

}  // namespace tk::http
