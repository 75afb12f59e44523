#include "app/waitlist_mail.hpp"

#include <boost/json/parse.hpp>

#include "app/errors.hpp"
#include "app/receipt_mail.hpp"
#include "app/waitlist.hpp"
#include "common/log.hpp"

namespace tk::app {

std::string waitlist_offer_message_id(const WaitlistEntry& e, const std::string& domain) {
  return "waitlist-offer." + e.performance_id + "." + std::to_string(e.position) + "." + e.hold_id +
         "@" + domain;
}

std::string waitlist_offer_link(const std::string& public_url, const WaitlistEntry& e,
                                const std::string& access_token) {
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/p/" + e.performance_id + "/waitlist#access_token=" + access_token;
}

Mail compose_waitlist_offer(const WaitlistOfferMail& o, const std::string& link,
                            const std::string& domain, Millis now) {
  Mail m;
  m.to = o.email;
  m.subject = "[대기 예매] " + o.event_title + " — Seats are held for you";
  m.message_id = waitlist_offer_message_id(o.entry, domain);
  m.headers = {{"X-Ticketing-Performance", o.entry.performance_id},
               {"X-Ticketing-Waitlist-Position", std::to_string(o.entry.position)},
               {"X-Ticketing-Kind", "waitlist-offer"}};
  const std::string when = format_kst(o.starts_at);
  const std::string until = format_kst(o.entry.access_expires_at);
  const Millis left_ms = o.entry.access_expires_at - now;
  const std::string minutes = std::to_string(left_ms > 0 ? left_ms / 60000 : 0);
  const std::string count = std::to_string(o.entry.seat_count);
  std::string t;
  t += o.buyer_name + "님, 대기 신청하신 공연의 좌석 " + count + "석을 확보해 두었습니다.\n";
  t += "\n공연: " + o.event_title;
  t += "\n장소: " + o.venue_name;
  t += "\n일시: " + when;
  t += "\n결제 기한: " + until + " (약 " + minutes + "분 남음)";
  t += "\n\n기한 안에 아래 링크에서 결제해 주세요. 기한이 지나면 좌석은 다음 대기자에게 "
       "넘어갑니다.\n";
  t += link + "\n";
  t += "\n----\n\n";
  t += "Dear " + o.buyer_name + ", " + count +
       (o.entry.seat_count == 1 ? " seat is" : " seats are") +
       " held for you from the waiting list.\n";
  t += "\nEvent: " + o.event_title;
  t += "\nVenue: " + o.venue_name;
  t += "\nDate: " + when;
  t += "\nPay by: " + until + " (about " + minutes + " minutes from now)";
  t += "\n\nPay at the link below before then; after it the seats go to the next person on the "
       "list.\n";
  t += link + "\n";
  m.text = std::move(t);
  return m;
}

WaitlistOfferMailConsumer::WaitlistOfferMailConsumer(WaitlistRepo& list, Mailer& mailer,
                                                     const crypto::Signer& signer,
                                                     const Clock& clock, std::string from_address,
                                                     std::string public_url)
    : list_(list),
      mailer_(mailer),
      signer_(signer),
      clock_(clock),
      domain_(mail_domain(from_address)),
      public_url_(std::move(public_url)) {}

Task<void> WaitlistOfferMailConsumer::handle(const Message& msg, int prior_attempts) {
  boost::system::error_code ec;
  auto v = boost::json::parse(msg.payload, ec);
  const boost::json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  const boost::json::value* perf = o ? o->if_contains("performance_id") : nullptr;
  const boost::json::value* pos = o ? o->if_contains("position") : nullptr;
  const boost::json::value* hold = o ? o->if_contains("hold_id") : nullptr;
  if (!perf || !perf->is_string() || !pos || !pos->is_int64() || !hold || !hold->is_string()) {
    Error e(Errc::invalid_field);
    e.details["reason"] = "payload without performance_id, position or hold_id";
    co_return e;
  }
  std::string perf_id(perf->as_string());
  const std::int64_t position = pos->as_int64();
  std::string hold_id(hold->as_string());
  TK_CO_TRY(auto found, co_await list_.offer_mail(perf_id, position));
  const Millis now = clock_.now_ms();
  if (!found || found->entry.state != WaitlistState::offered || found->entry.hold_id != hold_id ||
      found->entry.access_expires_at <= now) {
    boost::json::object f;
    f["performance"] = perf_id;
    f["position"] = position;
    f["state"] = found ? to_string(found->entry.state) : "gone";
    log::info("waiting list: offer no longer open, no e-mail", f);
    co_return Status{};
  }
  if (prior_attempts > 0) {
    boost::json::object f;
    f["performance"] = perf_id;
    f["position"] = position;
    f["prior_attempts"] = prior_attempts;
    log::warn("waiting-list offer e-mail sent again", f);
  }
  const auto token = offer_access_token(signer_, found->entry);
  auto mail = compose_waitlist_offer(*found, waitlist_offer_link(public_url_, found->entry, token),
                                     domain_, now);
  co_return co_await mailer_.send(mail);
}

}  // namespace tk::app
