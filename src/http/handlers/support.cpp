#include "http/handlers/support.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdio>
#include <ctime>

#include "http/json_body.hpp"

namespace tk::http {

namespace json = boost::json;
using app::Errc;
using st = beast::http::status;

beast::http::status status_of(Errc e) {
  switch (e) {
    case Errc::malformed_json:
    case Errc::invalid_field:
      return st::bad_request;
    case Errc::unauthenticated:
    case Errc::invalid_ticket:
      return st::unauthorized;
    case Errc::payment_declined:
      return st::payment_required;
    case Errc::not_admitted:
    case Errc::forbidden:
      return st::forbidden;
    case Errc::not_found:
      return st::not_found;
    case Errc::seats_unavailable:
    case Errc::hold_expired:
    case Errc::order_already_paid:
    case Errc::idempotency_key_reused:
    case Errc::idempotency_in_progress:
    case Errc::email_taken:
    case Errc::already_checked_in:
    case Errc::not_refundable:
    case Errc::already_refunded:
    case Errc::not_sold_out:
      return st::conflict;
    case Errc::too_many_seats:
    case Errc::seat_limit_reached:
    case Errc::invalid_seats:
    case Errc::sale_not_open:
    case Errc::sale_closed:
    case Errc::sold_out:
    case Errc::out_of_range:
    case Errc::challenge_required:
    case Errc::challenge_invalid:
    case Errc::not_on_waitlist:
      return st::unprocessable_entity;
    case Errc::rate_limited:
      return st::too_many_requests;
    case Errc::unavailable:
      return st::service_unavailable;
    case Errc::internal:
      return st::internal_server_error;
  }
  return st::internal_server_error;
}

namespace {
std::string_view message_of(Errc e) {
  switch (e) {
    case Errc::malformed_json:
      return "the body is not valid JSON";
    case Errc::invalid_field:
      return "a field is missing, empty or of the wrong type";
    case Errc::unauthenticated:
      return "missing or invalid credentials";
    case Errc::invalid_ticket:
      return "missing, forged or altered queue ticket";
    case Errc::payment_declined:
      return "the payment was declined";
    case Errc::not_admitted:
      return "no valid access token for this performance";
    case Errc::not_found:
      return "not found";
    case Errc::seats_unavailable:
      return "some seats are not available";
    case Errc::hold_expired:
      return "the hold expired";
    case Errc::order_already_paid:
      return "the order is already paid";
    case Errc::idempotency_key_reused:
      return "this Idempotency-Key was used for another request";
    case Errc::idempotency_in_progress:
      return "a request with this Idempotency-Key is in progress";
    case Errc::email_taken:
      return "an account with this e-mail exists";
    case Errc::too_many_seats:
      return "more seats than allowed per order";
    case Errc::seat_limit_reached:
      return "seat limit for this account reached";
    case Errc::invalid_seats:
      return "unknown seats or seats of another venue";
    case Errc::sale_not_open:
      return "the sale has not opened yet";
    case Errc::sale_closed:
      return "the sale is closed";
    case Errc::sold_out:
      return "sold out";
    case Errc::out_of_range:
      return "a value is out of range";
    case Errc::rate_limited:
      return "too many requests";
    case Errc::unavailable:
      return "temporarily unavailable, retry later";
    case Errc::internal:
      return "internal error";
    case Errc::already_checked_in:
      return "this ticket was already checked in";
    case Errc::forbidden:
      return "this credential does not allow that";
    case Errc::not_refundable:
      return "this order cannot be refunded";
    case Errc::already_refunded:
      return "a refund of this order was already requested";
    case Errc::challenge_required:
      return "this sale asks for a proof of work: solve a challenge and join with it";
    case Errc::challenge_invalid:
      return "the proof of work is wrong, expired, used already or another account's";
    case Errc::not_on_waitlist:
      return "this account is not on the waiting list of this performance";
    case Errc::not_sold_out:
      return "seats are still available: hold them instead of joining the waiting list";
  }
  return "internal error";
}
}  // namespace

Response error_to_response(Errc e, json::object details) {
  auto res = error_response(status_of(e), app::code_name(e), message_of(e), std::move(details));
  if (e == Errc::unavailable) set_retry_after(res, 1);
  if (e == Errc::rate_limited) set_retry_after(res, 1);
  return res;
}

Response error_to_response(const Error& err) {
  Errc e = app::to_app(err.code);
  if (e == Errc::unavailable || e == Errc::internal) return error_to_response(e);
  json::object safe;
  for (const char* k : {"seat_ids", "field", "reason"}) {
    if (auto* v = err.details.if_contains(k)) safe[k] = *v;
  }
  return error_to_response(e, std::move(safe));
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 chars always hold an int64
  out.append(buf, end);
}

std::string rfc3339(Millis ms) {
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<Millis>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  }
  return buf;
}

std::optional<Millis> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
  // Digits only: from_chars would also take a sign ("-026", "T-1:00").
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int Y, M, D, h, m, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (!num(0, 4, Y) || !num(5, 2, M) || !num(8, 2, D) || !num(11, 2, h) || !num(14, 2, m) ||
      !num(17, 2, sec)) {
    return std::nullopt;
  }
  if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  // A day the month has: timegm would carry "02-31" into March.
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (D > (M == 2 && leap ? 29 : kDays[M - 1])) return std::nullopt;
  std::size_t i = 19;
  int millis = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::nullopt;
    std::string frac(s.substr(start, std::min<std::size_t>(3, i - start)));
    while (frac.size() < 3) frac += '0';
    millis = std::stoi(frac);
  }
  if (i >= s.size()) return std::nullopt;
  int offset_min = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return std::nullopt;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (s.size() != i + 6 || s[i + 3] != ':' || !num(i + 1, 2, oh) || !num(i + 4, 2, om)) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  return static_cast<Millis>(t) * 1000 + millis - static_cast<Millis>(offset_min) * 60000;
}

std::string_view bearer_token(const Request& req) {
  auto it = req.find(beast::http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v = it->value();
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() <= kBearer.size() || v.substr(0, kBearer.size()) != kBearer) return {};
  return v.substr(kBearer.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compare fixed-size digests so neither the content nor the length leaks through timing.
  unsigned char ha[crypto_generichash_BYTES], hb[crypto_generichash_BYTES];
  crypto_generichash(ha, sizeof ha, reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                     nullptr, 0);
  crypto_generichash(hb, sizeof hb, reinterpret_cast<const unsigned char*>(b.data()), b.size(),
                     nullptr, 0);
  return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

Error invalid(std::string_view field, std::string_view reason) {
  return Error{Errc::invalid_field, {{"field", field}, {"reason", reason}}};
}

Result<json::object> parse_object(const Request& req) {
  JsonBody parsed = parse_json_body(req.body());
  if (parsed.duplicate) return invalid(*parsed.duplicate, "duplicate key");
  if (parsed.malformed) return Errc::malformed_json;
  if (!parsed.value.is_object()) return invalid("body", "must be a JSON object");
  return std::move(parsed.value.as_object());
}

Result<std::string> str_field(const json::object& o, std::string_view name, std::size_t max_len) {
  auto* v = o.if_contains(name);
  if (!v) return invalid(name, "required");
  if (!v->is_string()) return invalid(name, "must be a string");
  const auto& s = v->get_string();
  if (s.empty()) return invalid(name, "must not be empty");
  if (s.size() > max_len) return invalid(name, "too long");
  return std::string(s);
}

Result<std::optional<std::string>> opt_str_field(const json::object& o, std::string_view name,
                                                 std::size_t max_len) {
  if (!o.if_contains(name)) return std::optional<std::string>{};
  auto r = str_field(o, name, max_len);
  if (!r) return std::move(r).error();
  return std::optional<std::string>(std::move(*r));
}

Result<std::optional<std::int64_t>> opt_int_field(const json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  if (!v) return std::optional<std::int64_t>{};
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  }
  return invalid(name, "must be an integer");
}

Result<std::int64_t> int_field(const json::object& o, std::string_view name) {
  auto r = opt_int_field(o, name);
  if (!r) return std::move(r).error();
  if (!*r) return invalid(name, "required");
  return **r;
}

Result<const json::array*> array_field(const json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  if (!v) return invalid(name, "required");
  if (!v->is_array()) return invalid(name, "must be an array");
  return &v->get_array();
}

}  // namespace tk::http
