#include "http/handlers/requests.hpp"

#include <cstdint>
#include <utility>

#include "app/tickets.hpp"
#include "domain/model.hpp"
#include "http/handlers/support.hpp"

namespace tk::http {

namespace json = boost::json;
using app::Errc;

// Assigns the value of a Result to `lhs`, or returns its error.
#define TK_TRY_ASSIGN(lhs, expr)                      \
  do {                                                \
    auto tk_r_ = (expr);                              \
    if (!tk_r_.ok()) return std::move(tk_r_).error(); \
    lhs = std::move(tk_r_).value();                   \
  } while (0)

namespace {

// An optional integer field that must fit an int (settings stored as int columns).
Status small_int(const json::object& o, const char* f, std::optional<int>& out) {
  auto v = opt_int_field(o, f);
  if (!v) return std::move(v).error();
  if (*v) {
    if (**v < INT32_MIN || **v > INT32_MAX) return Error{Errc::out_of_range, {{"field", f}}};
    out = static_cast<int>(**v);
  }
  return {};
}

Status queue_settings(const json::value& q, std::optional<int>& admit_per_interval,
                      std::optional<int>& interval_ms, std::optional<int>& max_active,
                      std::optional<int>& access_ttl_seconds, std::optional<int>& pow_difficulty,
                      std::optional<int>& presence_timeout_seconds,
                      std::optional<int>& idle_timeout_seconds) {
  if (!q.is_object()) return invalid("queue", "object expected");
  for (auto [f, out] : {std::pair{"admit_per_interval", &admit_per_interval},
                        {"interval_ms", &interval_ms},
                        {"max_active", &max_active},
                        {"access_ttl_seconds", &access_ttl_seconds},
                        {"pow_difficulty", &pow_difficulty},
                        {"presence_timeout_seconds", &presence_timeout_seconds},
                        {"idle_timeout_seconds", &idle_timeout_seconds}}) {
    if (auto s = small_int(q.as_object(), f, *out); !s) return s;
  }
  return {};
}

}  // namespace

Result<SignUpRequest> sign_up_request(const json::object& body) {
  SignUpRequest r;
  TK_TRY_ASSIGN(r.email, str_field(body, "email", 254));
  TK_TRY_ASSIGN(r.password, str_field(body, "password", 128));
  TK_TRY_ASSIGN(r.name, str_field(body, "name", 100));
  return r;
}

Result<LogInRequest> log_in_request(const json::object& body) {
  LogInRequest r;
  TK_TRY_ASSIGN(r.email, str_field(body, "email", 254));
  TK_TRY_ASSIGN(r.password, str_field(body, "password", 128));
  return r;
}

Result<HoldBody> hold_request(const json::object& body) {
  HoldBody r;
  const auto* best = body.if_contains("best_available");
  if (best && body.if_contains("seat_ids")) {
    return invalid("seat_ids", "either seat_ids or best_available, not both");
  }
  if (best) {
    if (!best->is_object()) return invalid("best_available", "object expected");
    const auto& o = best->get_object();
    auto count = opt_int_field(o, "count");
    if (!count || !*count || **count < 1) {
      return invalid("best_available.count", "an integer of at least 1 required");
    }
    if (**count > 100) return Error{Errc::too_many_seats};
    domain::BestAvailableRequest b;
    b.count = static_cast<int>(**count);
    auto grade = opt_str_field(o, "grade", 32);
    if (!grade) return invalid("best_available.grade", "a non-empty string of at most 32");
    b.grade = std::move(*grade);
    auto section = opt_str_field(o, "section", 64);
    if (!section) return invalid("best_available.section", "a non-empty string of at most 64");
    b.section = std::move(*section);
    r.best_available = std::move(b);
    return r;
  }
  auto arr = array_field(body, "seat_ids");
  if (!arr) return std::move(arr).error();
  if ((*arr)->size() > 100) return Error{Errc::too_many_seats};
  r.seat_ids.reserve((*arr)->size());
  for (const auto& v : **arr) {
    if (!v.is_string() || v.get_string().empty() || v.get_string().size() > 64) {
      return invalid("seat_ids", "must be non-empty strings");
    }
    r.seat_ids.emplace_back(v.get_string());
  }
  return r;
}

Result<std::optional<app::JoinProof>> join_request(const json::object& body) {
  const auto* pow = body.if_contains("pow");
  if (!pow) return std::optional<app::JoinProof>{};
  if (!pow->is_object()) return invalid("pow", "object expected");
  app::JoinProof p;
  auto challenge = str_field(pow->get_object(), "challenge", 512);
  if (!challenge) return invalid("pow.challenge", "a string of 1..512 characters");
  auto nonce = str_field(pow->get_object(), "nonce", 64);
  if (!nonce) return invalid("pow.nonce", "a string of 1..64 characters");
  p.challenge = std::move(*challenge);
  p.nonce = std::move(*nonce);
  return std::optional<app::JoinProof>(std::move(p));
}

Result<int> waitlist_request(const json::object& body) {
  auto count = opt_int_field(body, "count");
  if (!count || !*count || **count < 1)
    return invalid("count", "an integer of at least 1 required");
  if (**count > 100) return Error{Errc::out_of_range, {{"field", "count"}}};
  return static_cast<int>(**count);
}

Result<std::string> order_request(const json::object& body) {
  return str_field(body, "hold_id", 128);
}

Result<PaymentBody> payment_request(const json::object& body) {
  PaymentBody r;
  TK_TRY_ASSIGN(r.method, str_field(body, "method", 32));
  if (r.method != "card") return invalid("method", "must be \"card\"");
  TK_TRY_ASSIGN(r.card_token, str_field(body, "card_token", 256));
  return r;
}

Result<std::string> idempotency_key(const Request& req) {
  auto it = req.find("Idempotency-Key");
  std::string_view key = it == req.end() ? std::string_view{} : std::string_view(it->value());
  if (key.empty() || key.size() > 64) {
    return invalid("Idempotency-Key", "header of 1..64 characters required");
  }
  for (char ch : key) {
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) {
      return invalid("Idempotency-Key", "visible ASCII only");
    }
  }
  return std::string(key);
}

Result<NewVenueRequest> venue_request(const json::object& body) {
  NewVenueRequest r;
  TK_TRY_ASSIGN(r.name, str_field(body, "name", 200));
  auto secs = array_field(body, "sections");
  if (!secs) return std::move(secs).error();
  for (const auto& sv : **secs) {
    if (!sv.is_object()) return invalid("sections", "objects expected");
    app::NewSection s;
    TK_TRY_ASSIGN(s.name, str_field(sv.as_object(), "name", 100));
    auto rows = array_field(sv.as_object(), "rows");
    if (!rows) return std::move(rows).error();
    for (const auto& rv : **rows) {
      if (!rv.is_object()) return invalid("rows", "objects expected");
      app::NewSection::Row row;
      TK_TRY_ASSIGN(row.label, str_field(rv.as_object(), "label", 20));
      auto n = int_field(rv.as_object(), "seats");
      if (!n) return std::move(n).error();
      TK_TRY_ASSIGN(row.grade, str_field(rv.as_object(), "grade", 50));
      if (*n < 1 || *n > 1000) return Error{Errc::out_of_range, {{"field", "rows.seats"}}};
      row.seats = static_cast<int>(*n);
      s.rows.push_back(std::move(row));
    }
    r.sections.push_back(std::move(s));
  }
  return r;
}

Result<NewEventRequest> event_request(const json::object& body) {
  NewEventRequest r;
  TK_TRY_ASSIGN(r.title, str_field(body, "title", 200));
  TK_TRY_ASSIGN(r.venue_id, str_field(body, "venue_id", 100));
  TK_TRY_ASSIGN(r.performer, opt_str_field(body, "performer", 200));
  return r;
}

Result<app::NewPerformance> performance_request(const json::object& body) {
  app::NewPerformance n;
  auto starts = str_field(body, "starts_at", 40);
  if (!starts) return std::move(starts).error();
  auto opens = str_field(body, "sale_opens_at", 40);
  if (!opens) return std::move(opens).error();
  auto s1 = parse_rfc3339(*starts);
  auto s2 = parse_rfc3339(*opens);
  if (!s1) return invalid("starts_at", "RFC 3339 time expected");
  if (!s2) return invalid("sale_opens_at", "RFC 3339 time expected");
  n.starts_at = *s1;
  n.sale_opens_at = *s2;
  auto refundable = opt_str_field(body, "refundable_until", 40);
  if (!refundable) return std::move(refundable).error();
  if (*refundable) {
    auto t = parse_rfc3339(**refundable);
    if (!t) return invalid("refundable_until", "RFC 3339 time expected");
    n.refundable_until = *t;
  }
  auto queue_opens = opt_str_field(body, "queue_opens_at", 40);
  if (!queue_opens) return std::move(queue_opens).error();
  if (*queue_opens) {
    auto t = parse_rfc3339(**queue_opens);
    if (!t) return invalid("queue_opens_at", "RFC 3339 time expected");
    n.queue_opens_at = *t;
  }
  auto grades = array_field(body, "price_grades");
  if (!grades) return std::move(grades).error();
  for (const auto& gv : **grades) {
    if (!gv.is_object()) return invalid("price_grades", "objects expected");
    domain::PriceGrade g;
    TK_TRY_ASSIGN(g.grade, str_field(gv.as_object(), "grade", 50));
    TK_TRY_ASSIGN(g.price_cents, int_field(gv.as_object(), "price_cents"));
    TK_TRY_ASSIGN(g.currency, str_field(gv.as_object(), "currency", 3));
    n.price_grades.push_back(std::move(g));
  }
  for (auto [f, out] : {std::pair{"max_seats_per_order", &n.max_seats_per_order},
                        {"max_seats_per_account", &n.max_seats_per_account},
                        {"hold_ttl_seconds", &n.hold_ttl_seconds}}) {
    if (auto s = small_int(body, f, *out); !s) return std::move(s).error();
  }
  if (const auto* q = body.if_contains("queue")) {
    if (auto s = queue_settings(*q, n.admit_per_interval, n.interval_ms, n.max_active,
                                n.access_ttl_seconds, n.pow_difficulty, n.presence_timeout_seconds,
                                n.idle_timeout_seconds);
        !s) {
      return std::move(s).error();
    }
  }
  return n;
}

Result<app::PerformanceChange> performance_change(const json::object& body) {
  app::PerformanceChange ch;
  auto status = opt_str_field(body, "status", 20);
  if (!status) return std::move(status).error();
  if (*status) {
    ch.status = domain::parse_sale_status(**status);
    if (!ch.status) return invalid("status", "on_sale, paused or closed");
  }
  const auto* q = body.if_contains("queue");
  if (q) {
    if (auto s = queue_settings(*q, ch.admit_per_interval, ch.interval_ms, ch.max_active,
                                ch.access_ttl_seconds, ch.pow_difficulty,
                                ch.presence_timeout_seconds, ch.idle_timeout_seconds);
        !s) {
      return std::move(s).error();
    }
  }
  for (auto [f, out] : {std::pair{"max_seats_per_order", &ch.max_seats_per_order},
                        {"max_seats_per_account", &ch.max_seats_per_account},
                        {"hold_ttl_seconds", &ch.hold_ttl_seconds}}) {
    if (auto s = small_int(body, f, *out); !s) return std::move(s).error();
  }
  for (auto [f, out] :
       {std::pair{"starts_at", &ch.starts_at}, {"sale_opens_at", &ch.sale_opens_at}}) {
    auto v = opt_str_field(body, f, 40);
    if (!v) return std::move(v).error();
    if (*v) {
      auto t = parse_rfc3339(**v);
      if (!t) return invalid(f, "RFC 3339 time expected");
      *out = *t;
    }
  }
  // refundable_until: a time, or null for the default rule (starts_at minus 24 h).
  if (const auto* ru = body.if_contains("refundable_until")) {
    if (ru->is_null()) {
      ch.reset_refundable_until = true;
    } else {
      auto t = ru->is_string() ? parse_rfc3339(ru->get_string()) : std::nullopt;
      if (!t) return invalid("refundable_until", "RFC 3339 time or null expected");
      ch.refundable_until = *t;
    }
  }
  // queue_opens_at: a time, or null for no pre-queue.
  if (const auto* qo = body.if_contains("queue_opens_at")) {
    if (qo->is_null()) {
      ch.reset_queue_opens_at = true;
    } else {
      auto t = qo->is_string() ? parse_rfc3339(qo->get_string()) : std::nullopt;
      if (!t) return invalid("queue_opens_at", "RFC 3339 time or null expected");
      ch.queue_opens_at = *t;
    }
  }
  if (!ch.status && !q && !ch.starts_at && !ch.sale_opens_at && !ch.max_seats_per_order &&
      !ch.max_seats_per_account && !ch.hold_ttl_seconds && !ch.refundable_until &&
      !ch.reset_refundable_until && !ch.queue_opens_at && !ch.reset_queue_opens_at) {
    return invalid("body", "status, queue, dates or sale settings required");
  }
  return ch;
}

Result<Millis> door_token_ttl(const Request& req) {
  if (req.body().empty()) return app::kDefaultDoorTokenTtlMs;
  auto body = parse_object(req);
  if (!body) return std::move(body).error();
  auto ttl = opt_int_field(*body, "ttl_seconds");
  if (!ttl) return std::move(ttl).error();
  if (!*ttl) return app::kDefaultDoorTokenTtlMs;
  if (**ttl < 60 || **ttl > app::kMaxDoorTokenTtlMs / 1000) {
    return Error{Errc::out_of_range, {{"field", "ttl_seconds"}}};
  }
  return **ttl * 1000;
}

Result<std::string> check_in_request(const json::object& body) {
  return str_field(body, "code", 2048);
}

#undef TK_TRY_ASSIGN

}  // namespace tk::http
