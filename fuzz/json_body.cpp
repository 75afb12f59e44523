// Request bodies: the strict JSON reader (parse_json_body, parse_object) and every route's body
// decoder (http/handlers/requests.hpp), on any bytes.
//
// Properties: no exception escapes; parse_json_body says "malformed" exactly when Boost.JSON
// refuses the text, and otherwise (no duplicate key) holds the same document, which serialises
// and reads back to itself; a refused body is a 400/422 naming a field; an accepted body meets
// the limits its route documents; RFC 3339 times that are accepted are spelled in digits, name a
// real calendar day, and format back to the same instant.
#include "http/json_body.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>
#include <string>
#include <string_view>

#include "app/errors.hpp"
#include "check.hpp"
#include "domain/rules.hpp"
#include "http/handlers/requests.hpp"
#include "http/handlers/support.hpp"

namespace json = boost::json;
namespace http = tk::http;
using tk::app::Errc;

namespace {

// A refusal is a client error with the field named where the contract names one.
template <class T>
bool well_refused(const tk::Result<T>& r) {
  if (r.ok()) return true;
  const Errc e = tk::app::to_app(r.error().code);
  if (e == Errc::invalid_field) {
    const auto* f = r.error().details.if_contains("field");
    const auto* why = r.error().details.if_contains("reason");
    // A duplicate key is named as sent, and "" is a key.
    const bool duplicate = why && why->is_string() && why->get_string() == "duplicate key";
    return f && f->is_string() && (duplicate || !f->get_string().empty());
  }
  return e == Errc::out_of_range || e == Errc::too_many_seats;
}

bool sized(const std::string& s, std::size_t max) { return !s.empty() && s.size() <= max; }

bool digits(std::string_view s, std::initializer_list<std::size_t> at) {
  for (std::size_t i : at) {
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

int days_in(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

void check_time(std::string_view s) {
  auto t = http::parse_rfc3339(s);
  if (!t) return;
  FUZZ_CHECK(digits(s, {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}));
  const int year = std::stoi(std::string(s.substr(0, 4)));
  const int month = std::stoi(std::string(s.substr(5, 2)));
  const int day = std::stoi(std::string(s.substr(8, 2)));
  FUZZ_CHECK(month >= 1 && month <= 12 && day >= 1 && day <= days_in(year, month));
  const char last = s.back();
  if (last != 'Z' && last != 'z') {
    FUZZ_CHECK(digits(s, {s.size() - 5, s.size() - 4, s.size() - 2, s.size() - 1}));
  }
  FUZZ_CHECK(http::parse_rfc3339(http::rfc3339(*t)) == t);
}

void decode_all(const json::object& o, const http::Request& req) {
  auto sign_up = http::sign_up_request(o);
  FUZZ_CHECK(well_refused(sign_up));
  if (sign_up) {
    FUZZ_CHECK(sized(sign_up->email, 254) && sized(sign_up->password, 128) &&
               sized(sign_up->name, 100));
  }
  auto login = http::log_in_request(o);
  FUZZ_CHECK(well_refused(login));
  auto hold = http::hold_request(o);
  FUZZ_CHECK(well_refused(hold));
  if (hold) {
    FUZZ_CHECK(hold->seat_ids.size() <= 100);
    for (const auto& id : hold->seat_ids) FUZZ_CHECK(sized(id, 64));
    if (hold->best_available) {
      const auto& b = *hold->best_available;
      FUZZ_CHECK(hold->seat_ids.empty() && b.count >= 1 && b.count <= 100);
      FUZZ_CHECK(!b.grade || sized(*b.grade, 32));
      FUZZ_CHECK(!b.section || sized(*b.section, 64));
    }
    // An empty seat_ids list decodes; the domain's selection rule is what refuses it (400).
    if (!hold->best_available && hold->seat_ids.empty()) {
      FUZZ_CHECK(tk::domain::check_seat_selection(hold->seat_ids, 100) ==
                 tk::domain::RuleErrc::empty_selection);
    }
  }
  auto join = http::join_request(o);
  FUZZ_CHECK(well_refused(join));
  if (join && *join) {
    FUZZ_CHECK(!(*join)->challenge.empty() && sized((*join)->challenge, 512));
    FUZZ_CHECK(!(*join)->nonce.empty() && sized((*join)->nonce, 64));
  }
  auto order = http::order_request(o);
  FUZZ_CHECK(well_refused(order) && (!order || sized(*order, 128)));
  auto pay = http::payment_request(o);
  FUZZ_CHECK(well_refused(pay) && (!pay || (pay->method == "card" && sized(pay->card_token, 256))));
  auto venue = http::venue_request(o);
  FUZZ_CHECK(well_refused(venue));
  if (venue) {
    FUZZ_CHECK(sized(venue->name, 200));
    for (const auto& s : venue->sections) {
      FUZZ_CHECK(sized(s.name, 100));
      for (const auto& row : s.rows) {
        FUZZ_CHECK(row.seats >= 1 && row.seats <= 1000);
        FUZZ_CHECK(sized(row.label, 20) && sized(row.grade, 50));
      }
    }
  }
  auto event = http::event_request(o);
  FUZZ_CHECK(well_refused(event));
  auto perf = http::performance_request(o);
  FUZZ_CHECK(well_refused(perf));
  if (perf) {
    for (const auto& g : perf->price_grades) FUZZ_CHECK(sized(g.currency, 3));
  }
  auto change = http::performance_change(o);
  FUZZ_CHECK(well_refused(change));
  auto code = http::check_in_request(o);
  FUZZ_CHECK(well_refused(code) && (!code || sized(*code, 2048)));
  auto ttl = http::door_token_ttl(req);
  FUZZ_CHECK(well_refused(ttl) || tk::app::to_app(ttl.error().code) == Errc::malformed_json);
  if (ttl) FUZZ_CHECK(*ttl >= 60'000 && *ttl <= 48LL * 3600 * 1000);
  for (const auto* f : {"starts_at", "sale_opens_at", "refundable_until"}) {
    if (const auto* v = o.if_contains(f); v && v->is_string()) check_time(v->get_string());
  }
}

// Boost.JSON reads an out-of-range number as an infinity and writes that back as "Infinity",
// which is not JSON: the round trip only holds for finite documents (the service never echoes a
// client's number).
bool finite(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (!finite(e)) return false;
    }
  }
  if (v.is_object()) {
    for (const auto& [k, e] : v.get_object()) {
      if (!finite(e)) return false;
    }
  }
  return true;
}

// Equal documents, numbers compared as close as Boost.JSON's default (fast, not correctly
// rounded) number parsing guarantees: a double may come back one unit in the last place off.
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) {
    if (!a.is_number() || !b.is_number()) return false;
    const double x = a.to_number<double>(), y = b.to_number<double>();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);  // "0e999"
    return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
      const auto* w = y.if_contains(k);
      if (!w || !same(v, *w)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_time(text);

  http::JsonBody body = http::parse_json_body(text);
  FUZZ_CHECK(!(body.malformed && body.duplicate));
  json::error_code ec;
  json::value plain = json::parse(text, ec);
  if (!body.duplicate) {
    FUZZ_CHECK(body.malformed == static_cast<bool>(ec));
    if (!body.malformed) FUZZ_CHECK(same(body.value, plain));
    if (!body.malformed && finite(body.value)) {
      // What we would write back reads as the same document.
      http::JsonBody again = http::parse_json_body(json::serialize(body.value));
      FUZZ_CHECK(!again.malformed && !again.duplicate && same(again.value, body.value));
    }
  }

  http::Request req;
  req.body() = std::string(text);
  auto obj = http::parse_object(req);
  FUZZ_CHECK(well_refused(obj) || tk::app::to_app(obj.error().code) == Errc::malformed_json);
  FUZZ_CHECK(obj.ok() == (!body.malformed && !body.duplicate && body.value.is_object()));
  if (obj) decode_all(*obj, req);
  return 0;
}
