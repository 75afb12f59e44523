#pragma once
// The waiting list's offer e-mail: its content (pure, see compose_waitlist_offer) and the
// consumer of waitlist.offered that sends it once per offer.
#include <string>

#include "app/ports/consumers.hpp"
#include "app/ports/waitlist.hpp"
#include "common/clock.hpp"
#include "common/crypto/signer.hpp"

namespace tk::app {

// Stable per offer (entry and hold), so a re-send carries the same Message-ID.
std::string waitlist_offer_message_id(const WaitlistEntry& e, const std::string& domain);

// The web app's page of the offer. The access token rides in the fragment, which browsers never
// send to a server: it reaches no access log; the page reads the offer through the session.
std::string waitlist_offer_link(const std::string& public_url, const WaitlistEntry& e,
                                const std::string& access_token);

// The bilingual (Korean, then English) offer: seats held, the deadline in KST and the minutes
// left at `now`, the link.
Mail compose_waitlist_offer(const WaitlistOfferMail& o, const std::string& link,
                            const std::string& domain, Millis now);

// Consumer "waitlist_offer_mail" of waitlist.offered. Reads the entry when it runs: an offer
// given up, bought or past its deadline by then gets no e-mail (it would send the buyer to an
// offer that is gone). A crash between sending and the registry's record re-sends with the same
// Message-ID.
class WaitlistOfferMailConsumer final : public Consumer {
 public:
  WaitlistOfferMailConsumer(WaitlistRepo& list, Mailer& mailer, const crypto::Signer& signer,
                            const Clock& clock, std::string from_address, std::string public_url);
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  WaitlistRepo& list_;
  Mailer& mailer_;
  const crypto::Signer& signer_;
  const Clock& clock_;
  std::string domain_;
  std::string public_url_;
  std::string name_ = "waitlist_offer_mail";
  std::vector<std::string> topics_ = {"waitlist.offered"};
};

}  // namespace tk::app
