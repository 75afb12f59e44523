#include "infra/pdf/ticket_documents.hpp"

#include "app/errors.hpp"
#include "common/crypto/errors.hpp"

namespace tk::pdf {

TicketPage page_of(const app::TicketSheet& s) {
  TicketPage p;
  p.ticket_id = s.ticket.id;
  p.event_title = s.event_title;
  p.venue_name = s.venue_name;
  p.starts_at = s.starts_at;
  p.section = s.section;
  p.row = s.row;
  p.seat_number = s.seat_number;
  p.grade = s.grade;
  p.price_cents = s.price_cents;
  p.currency = s.currency;
  p.buyer = s.buyer_name.empty() ? s.buyer_email : s.buyer_name;
  p.code = s.ticket.code;
  p.void_ticket = s.ticket.status == domain::TicketStatus::void_;
  return p;
}

namespace {
// Renderer and pool failures never reach a client as text: a full pool is a 503, the rest 500.
Error to_app_error(const Error& e) {
  if (e.code == crypto::Errc::overloaded) return app::Errc::unavailable;
  return Error{app::Errc::internal, {{"pdf", e.code.message()}}};
}
}  // namespace

app::Task<app::Document> TicketDocuments::render_one(TicketPage page) {
  app::Document d;
  d.filename = "ticket-" + page.ticket_id + ".pdf";
  d.content_type = "application/pdf";
  TicketDocument doc;
  doc.pages.push_back(std::move(page));
  if (pool_ == nullptr) {
    auto bytes = render(doc, opt_);
    if (!bytes) co_return to_app_error(bytes.error());
    d.data = std::move(*bytes);
    co_return d;
  }
  // A named job moved into run(): GCC 12 miscompiles a prvalue lambda owning strings inside a
  // co_await expression (common/crypto/README.md).
  auto job = [doc = std::move(doc), opt = opt_]() { return render(doc, opt); };
  auto bytes = co_await pool_->run(std::move(job));
  if (!bytes) co_return to_app_error(bytes.error());
  d.data = std::move(*bytes);
  co_return d;
}

app::Task<std::vector<app::Document>> TicketDocuments::for_order(const std::string& order_id,
                                                                 bool include_void) {
  TK_CO_TRY(auto sheets, co_await repo_->sheets_for_order(order_id));
  std::vector<app::Document> out;
  for (const auto& s : sheets) {
    if (s.ticket.status == domain::TicketStatus::void_ && !include_void) continue;
    TicketPage page = page_of(s);  // named, not a prvalue in co_await (GCC 12)
    TK_CO_TRY(auto d, co_await render_one(std::move(page)));
    out.push_back(std::move(d));
  }
  co_return out;
}

app::Task<app::Document> TicketDocuments::for_ticket(const std::string& ticket_id) {
  TK_CO_TRY(auto s, co_await repo_->sheet(ticket_id));
  if (!s) co_return app::Errc::not_found;
  TicketPage page = page_of(*s);
  co_return co_await render_one(std::move(page));
}

}  // namespace tk::pdf
