#include "app/receipt_mail.hpp"

#include <boost/json/parse.hpp>
#include <cstdio>

#include "app/errors.hpp"
#include "common/log.hpp"

namespace tk::app {

namespace {

struct Civil {
  int y, m, d;
};

// Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's algorithm).
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }

std::string group_thousands(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace

std::string format_kst(Millis t) {
  constexpr std::int64_t kKstOffsetMs = 9LL * 3600 * 1000;
  const std::int64_t local = t + kKstOffsetMs;
  const std::int64_t days = floor_div(local, 86400000);
  const std::int64_t in_day = local - days * 86400000;
  const Civil c = civil_from_days(days);
  static const char* kDays[] = {"목/Thu", "금/Fri", "토/Sat", "일/Sun",
                                "월/Mon", "화/Tue", "수/Wed"};
  const int wd = static_cast<int>(((days % 7) + 7) % 7);  // 1970-01-01 was a Thursday
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d (%s) %02d:%02d KST", c.y, c.m, c.d, kDays[wd],
                static_cast<int>(in_day / 3600000), static_cast<int>(in_day / 60000 % 60));
  return buf;
}

std::string format_money(std::int64_t minor, const std::string& currency) {
  // Currencies without a minor unit (ISO 4217 exponent 0) that a Korean sale may use.
  if (currency == "KRW" || currency == "JPY") return group_thousands(minor) + " " + currency;
  const std::int64_t a = minor < 0 ? -minor : minor;
  char cents[4];
  std::snprintf(cents, sizeof cents, "%02d", static_cast<int>(a % 100));
  return (minor < 0 ? "-" : "") + group_thousands(a / 100) + "." + cents + " " + currency;
}

std::string mail_domain(const std::string& address) {
  auto at = address.rfind('@');
  std::string d = at == std::string::npos ? "" : address.substr(at + 1);
  while (!d.empty() && (d.back() == '>' || d.back() == ' ')) d.pop_back();
  return d.empty() ? "ticketing.invalid" : d;
}

std::string receipt_message_id(const std::string& order_id, const std::string& domain) {
  return "receipt." + order_id + "@" + domain;
}

Mail compose_receipt(const ReceiptData& r, std::vector<Document> tickets,
                     const std::string& domain) {
  Mail m;
  m.to = r.email;
  m.subject = "[예매 확인] " + r.event_title + " — Your tickets";
  m.message_id = receipt_message_id(r.order_id, domain);
  m.headers = {{"X-Ticketing-Order", r.order_id}, {"X-Ticketing-Kind", "receipt"}};
  const std::string when = format_kst(r.starts_at);
  const std::string total = format_money(r.total_cents, r.currency);
  std::string t;
  t += r.buyer_name + "님, 예매가 완료되었습니다.\n";
  t += "\n주문 번호: " + r.order_id;
  t += "\n공연: " + r.event_title;
  t += "\n장소: " + r.venue_name;
  t += "\n일시: " + when;
  t += "\n좌석:";
  for (const auto& s : r.seats) {
    t += "\n  " + s.section + "구역 " + s.row + "열 " + std::to_string(s.number) + "번 (" +
         s.grade + "석) " + format_money(s.price_cents, r.currency);
  }
  t += "\n합계: " + total;
  t += "\n\n전자 티켓(PDF)이 티켓마다 한 장씩 첨부되어 있습니다. 입장 시 QR 코드를 보여 주세요.\n";
  t += "\n----\n\n";
  t += "Dear " + r.buyer_name + ", thank you for your purchase.\n";
  t += "\nOrder: " + r.order_id;
  t += "\nEvent: " + r.event_title;
  t += "\nVenue: " + r.venue_name;
  t += "\nDate: " + when;
  t += "\nSeats:";
  for (const auto& s : r.seats) {
    t += "\n  Section " + s.section + ", row " + s.row + ", seat " + std::to_string(s.number) +
         " (" + s.grade + ") " + format_money(s.price_cents, r.currency);
  }
  t += "\nTotal: " + total;
  t += "\n\nYour e-tickets are attached, one PDF per ticket. Show the QR code at the door.\n";
  m.text = std::move(t);
  for (auto& d : tickets) {
    m.attachments.push_back({std::move(d.filename), std::move(d.content_type), std::move(d.data)});
  }
  return m;
}

std::string refund_message_id(const std::string& order_id, const std::string& domain) {
  return "refund." + order_id + "@" + domain;
}

Mail compose_refund(const ReceiptData& r, const std::string& domain) {
  Mail m;
  m.to = r.email;
  m.subject = "[환불 완료] " + r.event_title + " — Refund confirmation";
  m.message_id = refund_message_id(r.order_id, domain);
  m.headers = {{"X-Ticketing-Order", r.order_id}, {"X-Ticketing-Kind", "refund"}};
  const std::string when = format_kst(r.starts_at);
  const std::string total = format_money(r.total_cents, r.currency);
  std::string t;
  t += r.buyer_name + "님, 환불이 완료되었습니다.\n";
  t += "\n주문 번호: " + r.order_id;
  t += "\n공연: " + r.event_title;
  t += "\n장소: " + r.venue_name;
  t += "\n일시: " + when;
  t += "\n좌석:";
  for (const auto& s : r.seats) {
    t += "\n  " + s.section + "구역 " + s.row + "열 " + std::to_string(s.number) + "번 (" +
         s.grade + "석)";
  }
  t += "\n환불 금액: " + total;
  t += "\n\n이 주문의 티켓은 더 이상 사용할 수 없습니다.\n";
  t += "\n----\n\n";
  t += "Dear " + r.buyer_name + ", your refund is complete.\n";
  t += "\nOrder: " + r.order_id;
  t += "\nEvent: " + r.event_title;
  t += "\nVenue: " + r.venue_name;
  t += "\nDate: " + when;
  t += "\nSeats:";
  for (const auto& s : r.seats) {
    t += "\n  Section " + s.section + ", row " + s.row + ", seat " + std::to_string(s.number) +
         " (" + s.grade + ")";
  }
  t += "\nRefunded: " + total;
  t += "\n\nThe tickets of this order are void and will not be admitted.\n";
  m.text = std::move(t);
  return m;
}

Task<void> ReceiptMailConsumer::handle(const Message& msg, int prior_attempts) {
  boost::system::error_code ec;
  auto v = boost::json::parse(msg.payload, ec);
  const boost::json::string* oid = nullptr;
  if (!ec && v.is_object())
    oid =
        v.as_object().if_contains("order_id") ? v.as_object().at("order_id").if_string() : nullptr;
  if (!oid || oid->empty()) {
    // Built by assignment: GCC 12 frees braced-list temporaries early inside coroutines.
    Error e(Errc::invalid_field);
    e.details["reason"] = "payload without order_id";
    co_return e;
  }
  std::string order_id(*oid);
  auto data = co_await reader_.receipt(order_id);
  if (!data) {
    if (data.code() == Errc::not_found) {
      Error e(Errc::invalid_field);
      e.details["reason"] = "unknown order";
      co_return e;
    }
    co_return std::move(data).error();
  }
  if (data->status != "paid") {
    // A later status (refunded) still had its sale: the receipt goes out all the same.
    boost::json::object f;
    f["order"] = order_id;
    f["status"] = data->status;
    log::info("receipt for an order no longer paid", f);
  }
  std::vector<Document> docs;
  if (docs_) {
    auto d = co_await docs_->for_order(order_id, true);
    if (!d) co_return std::move(d).error();
    docs = std::move(*d);
  }
  if (prior_attempts > 0) {
    // The last try may have been delivered before the process stopped; the receiver drops the
    // copy by its Message-ID.
    boost::json::object f;
    f["order"] = order_id;
    f["prior_attempts"] = prior_attempts;
    log::warn("receipt e-mail sent again", f);
  }
  auto mail = compose_receipt(*data, std::move(docs), domain_);
  co_return co_await mailer_.send(mail);
}

}  // namespace tk::app
