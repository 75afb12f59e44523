#pragma once
// The receipt e-mail of a paid order: its content (pure, see compose_receipt) and the consumer
// of order.paid that sends it once per order.
#include <string>
#include <vector>

#include "app/ports/consumers.hpp"
#include "app/ports/ticket_documents.hpp"

namespace tk::app {

// "2026-12-24 (목/Thu) 19:00 KST": performances are in Korea, so times are shown in KST (UTC+9,
// no daylight saving) whatever the server's zone.
std::string format_kst(Millis t);
// 1234567 KRW -> "1,234,567 KRW" (won have no minor unit); 123456 USD -> "1,234.56 USD".
std::string format_money(std::int64_t minor, const std::string& currency);

// The part after '@' of an address ("tickets@example.com" -> "example.com"), for Message-IDs.
std::string mail_domain(const std::string& address);

// Stable per (order, kind), so every re-send of the same e-mail carries the same Message-ID and a
// receiver can drop the copies.
std::string receipt_message_id(const std::string& order_id, const std::string& domain);

// The bilingual (Korean, then English) receipt with one attachment per e-ticket.
Mail compose_receipt(const ReceiptData& r, std::vector<Document> tickets,
                     const std::string& domain);

// The bilingual refund notice of a refunded order (no attachments: the tickets are void).
std::string refund_message_id(const std::string& order_id, const std::string& domain);
Mail compose_refund(const ReceiptData& r, const std::string& domain);

// Consumer "receipt_mail" of order.paid. Sends, then the registry records it done; a crash in
// between re-sends with the same Message-ID (logged with the prior attempts).
class ReceiptMailConsumer final : public Consumer {
 public:
  // docs may be null (no attachments); from_address supplies the Message-ID domain.
  ReceiptMailConsumer(ReceiptReader& reader, TicketDocuments* docs, Mailer& mailer,
                      std::string from_address)
      : reader_(reader), docs_(docs), mailer_(mailer), domain_(mail_domain(from_address)) {}
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  ReceiptReader& reader_;
  TicketDocuments* docs_;
  Mailer& mailer_;
  std::string domain_;
  std::string name_ = "receipt_mail";
  std::vector<std::string> topics_ = {"order.paid"};
};

}  // namespace tk::app
