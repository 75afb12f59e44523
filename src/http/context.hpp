#pragma once
// Types every handler sees: the request, the response, and the per-request context.
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/trace.hpp"

namespace tk::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

using Request = beast::http::request<beast::http::string_body>;
using Response = beast::http::response<beast::http::string_body>;

// Path parameters captured by "{name}" segments. Fixed capacity (Router rejects patterns with
// more) so matching never allocates; views point into the router (names) and the request target
// (values), both of which outlive the handler call.
class PathParams {
 public:
  static constexpr std::size_t kMax = 8;
  using Param = std::pair<std::string_view, std::string_view>;

  void clear() { n_ = 0; }
  bool push(std::string_view name, std::string_view value) {
    if (n_ == kMax) return false;
    items_[n_++] = {name, value};
    return true;
  }
  // Empty view when absent.
  std::string_view get(std::string_view name) const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (items_[i].first == name) return items_[i].second;
    }
    return {};
  }
  std::size_t size() const { return n_; }
  const Param* begin() const { return items_.data(); }
  const Param* end() const { return items_.data() + n_; }

 private:
  std::array<Param, kMax> items_{};
  std::size_t n_ = 0;
};

struct RequestContext {
  const Request& req;
  // Route pattern (e.g. "/v1/performances/{pid}/queue"), not the raw path: used as the metrics
  // label and log field so cardinality stays bounded.
  std::string_view route;
  // From X-Request-Id when sane (1..64 chars of [A-Za-z0-9_-]), otherwise generated. The server
  // echoes it on the response.
  std::string request_id;
  asio::ip::address remote;
  std::chrono::steady_clock::time_point started;  // when the request was fully read
  // started + ServerOptions::request_timeout (max() without one). Handlers of Budget::request
  // routes already run under it; a Budget::none handler takes it onto a slow path with
  // under_deadline() (http/under_deadline.hpp).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  PathParams params;
  // Extra fields for the access log line (e.g. {"account_id", "a1"}); keys must not clash with
  // the standard ones.
  std::vector<std::pair<std::string, std::string>> log_fields;

  // This request's span (common/trace.hpp): set by the server as a child of a valid incoming
  // `traceparent`; otherwise started by the first handler that passes the trace on (span()), so
  // requests nobody traces (the poll, mostly) pay nothing for it. The access log line carries
  // its ids when there is one.
  std::optional<trace::Span> trace_span;

  std::string_view param(std::string_view name) const { return params.get(name); }
  void log(std::string key, std::string value) {
    log_fields.emplace_back(std::move(key), std::move(value));
  }
  const trace::Span& span() {
    if (!trace_span) trace_span = trace::Span::child_of(std::nullopt);
    return *trace_span;
  }
};

using Handler = std::function<asio::awaitable<Response>(RequestContext&)>;

}  // namespace tk::http
