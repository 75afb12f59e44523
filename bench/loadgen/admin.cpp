#include "admin.hpp"

#include <boost/json.hpp>

#include "api.hpp"

namespace loadgen {

namespace http = beast::http;
namespace json = boost::json;

Reply blocking_request(const Options& o, const std::string& raw) {
  Reply r;
  asio::io_context io;
  tcp::socket sock(io);
  tcp::resolver res(io);
  auto eps = res.resolve(o.host, o.port, r.ec);
  if (r.ec) return r;
  asio::connect(sock, eps, r.ec);
  if (r.ec) return r;
  asio::write(sock, asio::buffer(raw), r.ec);
  if (r.ec) return r;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(512u << 20);
  http::read(sock, buf, p, r.ec);
  if (r.ec) return r;
  r.status = static_cast<int>(p.get().result_int());
  r.body = std::move(p.get().body());
  beast::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  return r;
}

namespace {
std::optional<int> int_of(const json::object& o, const char* k) {
  if (auto* v = o.if_contains(k); v && v->is_int64()) return static_cast<int>(v->as_int64());
  return std::nullopt;
}
}  // namespace

PerfInfo fetch_perf(const Options& o) {
  PerfInfo p;
  std::string path = "/v1/performances/" + o.perf;
  auto r = blocking_request(o, build_request("GET", path, o.host, {}));
  if (r.status != 200) {
    throw std::runtime_error("GET " + path + ": " +
                             (r.status ? std::to_string(r.status) + " " + r.body : r.ec.message()));
  }
  auto j = json::parse(r.body).as_object();
  if (auto* s = j.if_contains("status"); s && s->is_string()) p.status = s->as_string().c_str();
  if (auto v = int_of(j, "max_seats_per_order")) p.max_seats_per_order = *v;
  if (auto v = int_of(j, "hold_ttl_seconds")) p.hold_ttl_seconds = *v;
  p.prequeue = j.contains("queue_opens_at");
  if (auto* q = j.if_contains("queue"); q && q->is_object()) {
    if (auto v = int_of(q->as_object(), "presence_timeout_seconds")) p.presence_timeout_s = *v;
  }
  if (o.admin_token.empty()) return p;
  std::string auth = "Bearer " + o.admin_token;
  auto a = blocking_request(o, build_request("GET", "/v1/admin/performances/" + o.perf, o.host,
                                             {{"Authorization", auth}}));
  if (a.status == 200) {
    auto aj = json::parse(a.body).as_object();
    if (auto* q = aj.if_contains("queue"); q && q->is_object()) {
      const auto& qo = q->as_object();
      p.admit_per_interval = int_of(qo, "admit_per_interval");
      p.interval_ms = int_of(qo, "interval_ms");
      p.max_active = int_of(qo, "max_active");
      p.access_ttl_seconds = int_of(qo, "access_ttl_seconds");
    }
  }
  auto s = blocking_request(o, build_request("GET", "/v1/admin/performances/" + o.perf + "/stats",
                                             o.host, {{"Authorization", auth}}));
  if (s.status == 200) {
    auto sj = json::parse(s.body).as_object();
    if (auto* seats = sj.if_contains("seats"); seats && seats->is_object()) {
      std::int64_t total = 0;
      for (const auto& [k, v] : seats->as_object()) {
        if (v.is_int64()) total += v.as_int64();
      }
      p.capacity = total;
      if (auto* sold = seats->as_object().if_contains("sold"); sold && sold->is_int64()) {
        p.sold = sold->as_int64();
      }
    }
  }
  return p;
}

bool patch_queue(const Options& o, int admit, int interval_ms, int max_active) {
  if (o.admin_token.empty()) return false;
  std::string auth = "Bearer " + o.admin_token;
  json::object q{
      {"admit_per_interval", admit}, {"interval_ms", interval_ms}, {"max_active", max_active}};
  std::string body = json::serialize(json::object{{"queue", std::move(q)}});
  auto r = blocking_request(o, build_request("PATCH", "/v1/admin/performances/" + o.perf, o.host,
                                             {{"Authorization", auth}}, body));
  return r.status == 200;
}

}  // namespace loadgen
