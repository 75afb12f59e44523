// Signed tokens (queue tickets, access tokens, sessions, door tokens, MAC and Ed25519 ticket
// codes): the decode/verify path on any text, and on valid tokens mutated.
//
// Input: first byte picks the mode.
//   even: the rest is token text, given to every decoder. A decoder may accept it only if it is
//         the one spelling of what it decodes to (re-encoding gives the same text): anything
//         else would be a forgery or a second spelling of a genuine token.
//   odd:  the rest describes a token (fields) and edits to it; the genuine token must decode to
//         what was encoded, and an edited one must be refused by every decoder unless the edits
//         gave back the same text.
#include "common/crypto/tokens.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "check.hpp"
#include "common/crypto/errors.hpp"
#include "common/crypto/ticket_codes.hpp"

namespace crypto = tk::crypto;

namespace {

struct Keys {
  crypto::Signer signer;
  crypto::TicketCodeSigner codes;      // kid "e2", also accepts "e1" by its public key
  crypto::TicketCodeSigner old_codes;  // kid "e1": re-signs what "e1" codes decode to
};

crypto::Signer make_signer() {
  // Two kids: "k2" signs, "k1" (the previous secret) still verifies.
  auto ring = crypto::KeyRing::create({{"k1", "0123456789abcdef0123456789ABCDEF-previous"},
                                       {"k2", "fedcba9876543210FEDCBA9876543210-current"}},
                                      "k2");
  if (!ring) std::abort();
  return crypto::Signer(std::move(*ring));
}

crypto::TicketCodeSigner make_codes(std::string_view seed, std::string kid,
                                    std::vector<crypto::PublicKey> previous = {}) {
  auto s = crypto::TicketCodeSigner::create(seed, std::move(kid), std::move(previous));
  if (!s) std::abort();
  return std::move(*s);
}

const Keys& keys() {
  static const Keys k = [] {
    auto old_codes = make_codes("seed-of-the-previous-ticket-key!", "e1");
    auto codes = make_codes("seed-of-the-current--ticket-key!", "e2", old_codes.public_keys());
    return Keys{make_signer(), std::move(codes), std::move(old_codes)};
  }();
  return k;
}

// The same signer restricted to one kid, to re-encode what a token of that kid decodes to.
const crypto::Signer& signer_for(std::string_view kid) {
  static const crypto::Signer k1 = [] {
    auto ring =
        crypto::KeyRing::create({{"k1", "0123456789abcdef0123456789ABCDEF-previous"}}, "k1");
    if (!ring) std::abort();
    return crypto::Signer(std::move(*ring));
  }();
  return kid == "k1" ? k1 : keys().signer;
}

std::string_view kid_of(std::string_view token) { return token.substr(0, token.find('.')); }

// Every decoder on `text`; returns how many accepted it. Accepted text must re-encode to itself.
int decode_all(std::string_view text, tk::Millis now) {
  const auto& k = keys();
  const auto& s = signer_for(kid_of(text));
  int accepted = 0;
  if (auto t = crypto::decode_queue_ticket(k.signer, text)) {
    ++accepted;
    FUZZ_CHECK(crypto::encode(s, *t) == text);
    crypto::TokenFields storage;
    auto v = crypto::decode_queue_ticket(k.signer, text, storage);
    FUZZ_CHECK(v && v->performance_id == t->performance_id && v->position == t->position &&
               v->account_id == t->account_id && v->issued_at == t->issued_at);
  }
  if (auto t = crypto::decode_access_token(k.signer, text, now)) {
    ++accepted;
    FUZZ_CHECK(now < t->expires_at);
    FUZZ_CHECK(crypto::encode(s, *t) == text);
  }
  if (auto t = crypto::decode_door_token(k.signer, text, now)) {
    ++accepted;
    FUZZ_CHECK(now < t->expires_at);
    FUZZ_CHECK(crypto::encode(s, *t) == text);
  }
  if (auto t = crypto::decode_ticket_code(k.signer, text)) {
    ++accepted;
    FUZZ_CHECK(crypto::encode(s, *t) == text);
  }
  if (auto id = crypto::session_id_from_token(k.signer, text)) {
    ++accepted;
    FUZZ_CHECK(!id->empty());
    FUZZ_CHECK(s.sign(crypto::Purpose::session, {*id}) == text);
  }
  if (auto t = k.codes.verify(text)) {
    ++accepted;
    FUZZ_CHECK(crypto::is_ed25519_code(text));
    const auto& signer = kid_of(text) == "e1" ? k.old_codes : k.codes;
    FUZZ_CHECK(signer.sign(*t) == text);  // Ed25519 signatures are deterministic
  }
  // Each purpose has its own key: one text is never two kinds of token.
  FUZZ_CHECK(accepted <= 1);
  return accepted;
}

// An expiry that some `now` precedes.
tk::Millis expiry(FuzzedDataProvider& in) {
  return std::max(in.ConsumeIntegral<tk::Millis>(), std::numeric_limits<tk::Millis>::min() + 1);
}

std::string field(FuzzedDataProvider& in, std::size_t max) {
  return in.ConsumeRandomLengthString(max);
}

// A genuine token built from the input; `now` is set so that expiring kinds are still valid.

// An expiring token decodes to itself before its expiry and as `expired` from then on; past it,
// `now` moves back before the expiry so the edits tried on the token are judged on a live one.
template <typename R, typename T>
void check_expiring(const R& back, const T& t, tk::Millis& now) {
  if (now < t.expires_at) {
    FUZZ_CHECK(back.value() == t);
  } else {
    FUZZ_CHECK(!back && back.error().code == crypto::Errc::expired);
    now = t.expires_at - 1;
  }
}

std::string make_token(FuzzedDataProvider& in, tk::Millis& now) {
  const auto& k = keys();
  now = in.ConsumeIntegral<tk::Millis>();
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0: {
      crypto::QueueTicket t{field(in, 300), in.ConsumeIntegral<std::int64_t>(), field(in, 300),
                            in.ConsumeIntegral<tk::Millis>()};
      auto text = crypto::encode(k.signer, t);
      FUZZ_CHECK(crypto::decode_queue_ticket(k.signer, text).value() == t);
      return text;
    }
    case 1: {
      crypto::AccessToken t{field(in, 300), field(in, 300), in.ConsumeIntegral<std::int64_t>(),
                            expiry(in)};
      auto text = crypto::encode(k.signer, t);
      check_expiring(crypto::decode_access_token(k.signer, text, now), t, now);
      return text;
    }
    case 2: {
      crypto::DoorToken t{field(in, 300), expiry(in)};
      auto text = crypto::encode(k.signer, t);
      check_expiring(crypto::decode_door_token(k.signer, text, now), t, now);
      return text;
    }
    case 3: {
      crypto::TicketCode t{field(in, 300), field(in, 300), field(in, 300)};
      auto text = crypto::encode(k.signer, t);
      FUZZ_CHECK(crypto::decode_ticket_code(k.signer, text).value() == t);
      return text;
    }
    case 4: {
      std::string id;
      auto text = crypto::new_session_token(k.signer, &id);
      FUZZ_CHECK(crypto::session_id_from_token(k.signer, text).value() == id);
      return text;
    }
    default: {
      crypto::TicketCode t{field(in, 127), field(in, 127), field(in, 127)};
      const auto& signer = in.ConsumeBool() ? k.old_codes : k.codes;
      auto text = signer.sign(t);
      FUZZ_CHECK(k.codes.verify(text).value() == t);
      return text;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    decode_all(text, 1'700'000'000'000);
    return 0;
  }
  FuzzedDataProvider in(data + 1, size - 1);
  tk::Millis now = 0;
  const std::string genuine = make_token(in, now);
  FUZZ_CHECK(decode_all(genuine, now) == 1);
  std::string edited = genuine;
  for (int edits = in.ConsumeIntegralInRange(1, 4); edits > 0 && in.remaining_bytes() > 0;
       --edits) {
    const std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, edited.size());
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0:
        if (at < edited.size()) edited[at] = static_cast<char>(in.ConsumeIntegral<std::uint8_t>());
        break;
      case 1:
        edited.insert(at, 1, static_cast<char>(in.ConsumeIntegral<std::uint8_t>()));
        break;
      case 2:
        if (at < edited.size()) edited.erase(at, 1);
        break;
      default:
        edited.resize(at);  // truncated
        break;
    }
  }
  const int accepted = decode_all(edited, now);
  FUZZ_CHECK(accepted == (edited == genuine ? 1 : 0));
  return 0;
}
