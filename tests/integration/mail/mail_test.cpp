// After-sale consumers against the real PostgreSQL, Redis and SMTP sink of the fixture: a paid
// order yields exactly one receipt e-mail (headers, bilingual text, one PDF per ticket), also when
// the SMTP server refuses for a while or the message is delivered again, and a message that can
// never succeed is parked after RetryPolicy::max_attempts and counted in the metrics.
#include <boost/asio.hpp>
#include <map>

#include "app/consumers.hpp"
#include "app/receipt_mail.hpp"
#include "infra/mail/mime.hpp"
#include "infra/mail/smtp.hpp"
#include "integration/app/harness.hpp"
#include "support/mail_sink.hpp"

namespace tk::test {
namespace {

constexpr const char* kTinyPdf = "%PDF-1.4\n% test ticket\n%%EOF\n";

// Stands in for the PDF renderer: one tiny document per ticket of the order.
class TestDocuments final : public app::TicketDocuments {
 public:
  explicit TestDocuments(pg::Pool& pool) : pool_(pool) {}
  app::Task<std::vector<app::Document>> for_order(const std::string& order_id, bool) override {
    auto r = co_await pool_.query("SELECT id FROM tickets WHERE order_id = $1 ORDER BY id",
                                  pg::Params(pg::arg(order_id)));
    if (!r) co_return app::Errc::unavailable;
    std::vector<app::Document> out;
    for (int i = 0; i < r->size(); ++i) {
      std::string id(r->text(i, 0));
      out.push_back({"ticket-" + id + ".pdf", "application/pdf", kTinyPdf + id});
    }
    co_return out;
  }
  app::Task<app::Document> for_ticket(const std::string& id) override {
    co_return app::Document{"ticket-" + id + ".pdf", "application/pdf", kTinyPdf};
  }

 private:
  pg::Pool& pool_;
};

std::string header(const std::string& raw, const std::string& name) {
  return mail_header(raw, name);
}

// Every message the sink accepted for an order (by X-Ticketing-Order).
std::vector<std::string> mails_for(const std::string& order_id) {
  return sink_mails("X-Ticketing-Order", order_id);
}

// The consumers as the service wires them, with a test document renderer and fast retries.
struct Rig {
  explicit Rig(Harness& h, int max_attempts = 8)
      : h(h),
        docs(*h.pool),
        mailer(options(), h.clock),
        receipt_mail(*h.adapters->receipts, &docs, mailer, "tickets@example.com"),
        registry(*h.adapters->processed) {
    registry.add(*h.adapters->receipt_ledger);
    registry.add(receipt_mail);
    workers::BackgroundOptions o;
    o.outbox_retry = {max_attempts, 0, 0};  // due again at once: tests call the dispatcher
    bg = std::make_unique<workers::Background>(h.deps, *h.adapters->outbox, registry, o, &m);
    // Rows other tests left behind would send mail for their orders too.
    h.run([&]() -> asio::awaitable<bool> {
      auto r = co_await h.pool->query("DELETE FROM outbox");
      co_return r.ok();
    });
  }
  static mail::SmtpOptions options() {
    mail::SmtpOptions o;
    o.url = env("TICKETING_SMTP_URL");
    o.from = "tickets@example.com";
    o.timeout = 5000ms;
    return o;
  }
  int dispatch() {
    return h.run([&] { return bg->dispatch_outbox_once(); });
  }
  std::int64_t scalar(const std::string& sql, const std::string& arg) {
    return h.run([&] { return count(*h.pool, sql, arg); });
  }

  Harness& h;
  TestDocuments docs;
  mail::SmtpMailer mailer;
  app::ReceiptMailConsumer receipt_mail;
  app::ConsumerRegistry registry;
  metrics::Registry m;
  std::unique_ptr<workers::Background> bg;
};

domain::Order pay_two_seats(Harness& h) {
  auto sale = order_two_seats(h);
  auto paid = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest req{sale.order.id, "key-" + sale.order.id, "fp", "card", "tok_ok"};
    co_return co_await pay.pay(sale.who, req);
  });
  if (!paid.ok() || paid->status != 200) throw std::runtime_error("payment failed");
  drop_catalogue_rows(h);  // each dispatch (one row per claim) is then about the order
  return sale.order;
}

struct SinkAccepts {  // the sink accepts again however the test ends
  ~SinkAccepts() { servers("smtp-accept"); }
};

TEST(ReceiptMail, PaidOrderSendsExactlyOneEmailWithHeadersAndAttachments) {
  Harness h;
  Rig rig(h);
  auto order = pay_two_seats(h);
  EXPECT_EQ(rig.dispatch(), 1);
  EXPECT_EQ(rig.dispatch(), 0) << "delivered rows are deleted";

  auto mails = mails_for(order.id);
  ASSERT_EQ(mails.size(), 1u);
  const auto& raw = mails[0];
  EXPECT_EQ(header(raw, "X-Ticketing-Kind"), "receipt");
  EXPECT_EQ(header(raw, "Message-ID"), "<receipt." + order.id + "@example.com>");
  EXPECT_EQ(header(raw, "From"), "<tickets@example.com>");
  auto email = h.run([&]() -> asio::awaitable<std::string> {
    auto r = co_await h.pool->query("SELECT email FROM accounts WHERE id = $1",
                                    pg::Params(pg::arg(order.account_id)));
    co_return std::string(r->text(0, 0));
  });
  EXPECT_EQ(header(raw, "To"), "<" + email + ">");
  EXPECT_EQ(header(raw, "X-Envelope-To"), email);
  EXPECT_EQ(header(raw, "Subject").rfind("=?UTF-8?B?", 0), 0u) << "RFC 2047 (Korean)";
  EXPECT_NE(raw.find("multipart/mixed"), std::string::npos);
  // One PDF per ticket, the ticket's own bytes.
  std::size_t pdfs = 0;
  for (auto p = raw.find("Content-Type: application/pdf"); p != std::string::npos;
       p = raw.find("Content-Type: application/pdf", p + 1)) {
    ++pdfs;
  }
  EXPECT_EQ(pdfs, 2u);
  auto tickets = h.run([&]() -> asio::awaitable<std::vector<std::string>> {
    auto r = co_await h.pool->query("SELECT id FROM tickets WHERE order_id = $1",
                                    pg::Params(pg::arg(order.id)));
    std::vector<std::string> ids;
    for (int i = 0; i < r->size(); ++i) ids.emplace_back(r->text(i, 0));
    co_return ids;
  });
  ASSERT_EQ(tickets.size(), 2u);
  for (const auto& t : tickets) {
    EXPECT_NE(raw.find(mail::base64_lines(std::string(kTinyPdf) + t)), std::string::npos) << t;
  }
  // The text part (base64 UTF-8) carries the order in Korean and in English.
  ASSERT_NE(raw.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  auto text = mail_text(raw);
  EXPECT_NE(text.find("주문 번호: " + order.id), std::string::npos) << text;
  EXPECT_NE(text.find("Order: " + order.id), std::string::npos) << text;
  EXPECT_NE(text.find(" KST"), std::string::npos) << text;
  // The ledger consumer recorded the receipt in the same run.
  EXPECT_EQ(rig.scalar("SELECT count(*) FROM receipts WHERE order_id = $1", order.id), 1);
}

TEST(ReceiptMail, RedeliveredMessageIsNotSentAgain) {
  Harness h;
  Rig rig(h);
  auto order = pay_two_seats(h);
  auto row = h.run([&]() -> asio::awaitable<std::vector<app::OutboxRow>> {
    auto r = co_await h.adapters->outbox->claim_due(10, 0);
    co_return *r;
  });
  ASSERT_EQ(row.size(), 1u);
  // A broker (or a dispatcher whose delete was lost) delivers the same message three times.
  for (int i = 0; i < 3; ++i) {
    auto r = h.run([&] {
      return rig.registry.dispatch(std::to_string(row[0].id), row[0].topic, row[0].payload);
    });
    EXPECT_TRUE(r.ok());
  }
  EXPECT_EQ(mails_for(order.id).size(), 1u) << "the consumer's record suppresses repeats";
  EXPECT_EQ(rig.scalar("SELECT count(*) FROM receipts WHERE order_id = $1", order.id), 1);
  EXPECT_EQ(rig.scalar("SELECT attempts FROM processed_messages WHERE consumer = 'receipt_mail' "
                       "AND message_id = $1 AND state = 'done'",
                       std::to_string(row[0].id)),
            1);
}

TEST(ReceiptMail, SmtpRefusingForAWhileThenRecoveringSendsExactlyOne) {
  Harness h;
  Rig rig(h);
  SinkAccepts restore;
  servers("smtp-refuse");
  auto order = pay_two_seats(h);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rig.dispatch(), 1) << "retried at once (zero backoff)";
  EXPECT_TRUE(mails_for(order.id).empty());
  auto oid = [&] {
    return h.run([&]() -> asio::awaitable<std::string> {
      auto r = co_await h.pool->query(
          "SELECT id::text || ':' || attempts || ':' || COALESCE(last_error, '') || ':' || "
          "(parked_at IS NOT NULL) FROM outbox");
      co_return r->empty() ? std::string() : std::string(r->text(0, 0));
    });
  };
  auto state = oid();
  EXPECT_NE(state.find(":3:receipt_mail: "), std::string::npos) << state;
  EXPECT_NE(state.find(":false"), std::string::npos) << "not parked before max_attempts";
  // The ledger consumer succeeded on the first try and is not run again.
  EXPECT_EQ(rig.scalar("SELECT count(*) FROM receipts WHERE order_id = $1", order.id), 1);

  servers("smtp-accept");
  EXPECT_EQ(rig.dispatch(), 1);
  EXPECT_EQ(rig.dispatch(), 0);
  EXPECT_EQ(oid(), "") << "deleted once every consumer succeeded";
  EXPECT_EQ(mails_for(order.id).size(), 1u);
  EXPECT_NE(rig.m.render().find("consumer_failures_total{consumer=\"receipt_mail\"} 3\n"),
            std::string::npos)
      << rig.m.render();
}

TEST(ReceiptMail, PoisonMessageIsParkedAfterMaxAttemptsAndCounted) {
  Harness h;
  Rig rig(h, 3);
  h.run([&]() -> asio::awaitable<bool> {
    auto r = co_await h.pool->query(
        "INSERT INTO outbox (topic, payload) VALUES ('order.paid', '{\"order_id\": "
        "\"ord_none\"}')");
    co_return r.ok();
  });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rig.dispatch(), 1);
  EXPECT_EQ(rig.dispatch(), 0) << "parked: never claimed again";
  EXPECT_EQ(rig.scalar("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL AND attempts = "
                       "3 AND last_error LIKE $1",
                       "receipt_mail: %"),
            1)
      << "kept for an operator";
  auto text = rig.m.render();
  EXPECT_NE(text.find("outbox_parked_total{topic=\"order.paid\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("outbox_parked 1\n"), std::string::npos) << text;
  EXPECT_TRUE(mails_for("ord_none").empty());
}

TEST(SmtpMailer, FailuresMapToTemporaryOrPermanentWithoutCurlText) {
  Harness h;
  auto o = Rig::options();
  o.url = "smtp://127.0.0.1:1";  // nothing listens
  o.connect_timeout = 2000ms;
  mail::SmtpMailer down(o, h.clock);
  app::Mail m;
  m.to = "kim@example.com";
  m.message_id = "x@example.com";
  auto r = h.run([&] { return down.send(m); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), app::Errc::unavailable);
  EXPECT_EQ(r.error().details.at("mail_error").as_string(), "mail server unreachable");

  mail::SmtpMailer up(Rig::options(), h.clock);
  m.to = "kim@example.com\r\nRCPT TO:<x@y>";
  auto bad = h.run([&] { return up.send(m); });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), app::Errc::invalid_field);
}

}  // namespace
}  // namespace tk::test
