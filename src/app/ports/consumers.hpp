#pragma once
// After-sale consumers: what reacts to an outbox message (order.paid, ...), independent of how
// the message arrives (pattern B: the in-process outbox dispatcher; pattern A: a broker delivery).
#include <cstdint>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "common/clock.hpp"

namespace tk::app {

struct Message {
  std::string id;  // stable across redeliveries: the outbox row's id
  std::string topic;
  std::string payload;  // JSON
  // Of the span handling this delivery (common/trace.hpp): what the consumer's own outbox rows
  // carry on. Empty when the message came without a trace.
  std::string traceparent;
};

// A consumer must tolerate seeing a message again (at-least-once delivery); the registry skips
// consumers already recorded as done for the message, so a consumer runs again only when it
// failed or the process died before its "done" record.
class Consumer {
 public:
  virtual ~Consumer() = default;
  virtual const std::string& name() const = 0;  // stable: part of the idempotency key
  virtual const std::vector<std::string>& topics() const = 0;
  // prior_attempts: how often this consumer already started on this message (0: first time).
  // Errors: app::Errc::unavailable (retry later) or invalid_field (the message can never succeed;
  // retried all the same until the dispatcher parks it).
  virtual Task<void> handle(const Message& m, int prior_attempts) = 0;
  // True when handle() writes its own "done" record in the transaction of its effects.
  virtual bool marks_done_itself() const { return false; }
};

// Idempotency records per (consumer, message) in PostgreSQL.
class ProcessedLog {
 public:
  virtual ~ProcessedLog() = default;
  struct Begin {
    bool done = false;       // nothing to do: an earlier delivery completed
    int prior_attempts = 0;  // earlier starts that did not reach "done"
  };
  // Records an attempt (or finds the message done) before the consumer runs.
  virtual Task<Begin> begin(std::string consumer, std::string message_id) = 0;
  virtual Task<void> done(std::string consumer, std::string message_id) = 0;
};

// The receipt e-mail's data, read by order id.
struct ReceiptSeat {
  std::string section;
  std::string row;
  int number = 0;
  std::string grade;
  std::int64_t price_cents = 0;
};

struct ReceiptData {
  std::string order_id;
  std::string status;  // the order's status ("paid")
  std::string email;
  std::string buyer_name;
  std::string event_title;
  std::string venue_name;
  Millis starts_at = 0;
  std::int64_t total_cents = 0;
  std::string currency;
  std::vector<ReceiptSeat> seats;
};

class ReceiptReader {
 public:
  virtual ~ReceiptReader() = default;
  // Errc::not_found when the order does not exist.
  virtual Task<ReceiptData> receipt(std::string order_id) = 0;
};

// An e-mail as the application sees it; the mail adapter renders MIME and sends it.
struct MailAttachment {
  std::string filename;
  std::string content_type;
  std::string data;
};

struct Mail {
  std::string to;
  std::string subject;     // UTF-8; the adapter encodes it (RFC 2047)
  std::string message_id;  // without angle brackets; stable per (order, kind)
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, ASCII values
  std::string text;                                          // UTF-8 plain-text body
  std::vector<MailAttachment> attachments;
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Errors: app::Errc::unavailable when the server is down, refuses for now or times out;
  // invalid_field when the message or address is refused for good.
  virtual Task<void> send(const Mail& m) = 0;
};

}  // namespace tk::app
