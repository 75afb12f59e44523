// Microbenchmarks of the hot paths' CPU work: token signing and verification (every status poll
// verifies a queue ticket and signs an access token), idempotency fingerprints, seat-map
// encoding for a 50,000-seat venue, hold-script argument building, the poll's rate limiter, the
// pre-queue's shuffle of a million entries at the sale's opening.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "common/crypto/encoding.hpp"
#include "common/crypto/signer.hpp"
#include "common/crypto/tokens.hpp"
#include "domain/prequeue_shuffle.hpp"
#include "http/handlers/seat_map_body.hpp"
#include "http/handlers/status_body.hpp"
#include "http/rate_limiter.hpp"

namespace {

const tk::crypto::Signer& signer() {
  static const tk::crypto::Signer s = [] {
    tk::crypto::init();
    auto ring = tk::crypto::KeyRing::create(
        {{"k1", "bench-secret-0123456789abcdefghijklmnopqrstuv"}}, "k1");
    return tk::crypto::Signer(std::move(*ring));
  }();
  return s;
}

const tk::crypto::QueueTicket kTicket{"prf_b8lLx6If5KU1-pjp-hP7JQ", 123456,
                                      "acc_gRuh_yMGdFGJuvxw_acAdw", 1764020000000};

void BM_SignQueueTicket(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(tk::crypto::encode(signer(), kTicket));
}
BENCHMARK(BM_SignQueueTicket);

void BM_VerifyQueueTicket(benchmark::State& st) {
  auto token = tk::crypto::encode(signer(), kTicket);
  for (auto _ : st) benchmark::DoNotOptimize(tk::crypto::decode_queue_ticket(signer(), token));
}
BENCHMARK(BM_VerifyQueueTicket);

void BM_StatusPollCrypto(benchmark::State& st) {
  // What a poll of an admitted buyer costs in crypto: verify the ticket, sign the access token.
  auto token = tk::crypto::encode(signer(), kTicket);
  for (auto _ : st) {
    auto t = tk::crypto::decode_queue_ticket(signer(), token);
    benchmark::DoNotOptimize(tk::crypto::encode(
        signer(),
        tk::crypto::AccessToken{t->performance_id, t->account_id, t->position, 1764020600000}));
  }
}
BENCHMARK(BM_StatusPollCrypto);

void BM_VerifyQueueTicketView(benchmark::State& st) {
  // The poll's own decode: into views, no allocation.
  auto token = tk::crypto::encode(signer(), kTicket);
  tk::crypto::TokenFields f;
  for (auto _ : st) {
    benchmark::DoNotOptimize(tk::crypto::decode_queue_ticket(signer(), token, f));
  }
}
BENCHMARK(BM_VerifyQueueTicketView);

void BM_StatusBody(benchmark::State& st) {
  // The hand-built body the status route sends (http/handlers/status_body).
  tk::app::QueueStatus s;
  s.state = tk::app::QueueState::waiting;
  s.position = 123456;
  s.ahead = 23455;
  s.estimated_wait_seconds = 235;
  for (auto _ : st) benchmark::DoNotOptimize(tk::http::status_body(s));
}
BENCHMARK(BM_StatusBody);

void BM_PollRateLimit100k(benchmark::State& st) {
  // The per-ticket limiter with 100k live tickets, visited in a scattered order.
  tk::http::RateLimiter lim(5, 20);
  auto token = tk::crypto::encode(signer(), kTicket);
  std::vector<std::string> keys;
  for (int i = 0; i < 100000; ++i) keys.push_back(token + std::to_string(i));
  std::size_t i = 0;
  tk::Millis now = 1764020000000;
  for (auto _ : st) {
    i = (i + 7919) % keys.size();
    benchmark::DoNotOptimize(lim.allow(keys[i], now));
    now += 1;
  }
}
BENCHMARK(BM_PollRateLimit100k);

void BM_StatusEncode(benchmark::State& st) {
  // For comparison: the same body through a Boost.JSON tree (what the route did before).
  for (auto _ : st) {
    boost::json::object body{{"state", "waiting"},
                             {"position", 123456},
                             {"ahead", 23455},
                             {"estimated_wait_seconds", 235}};
    benchmark::DoNotOptimize(boost::json::serialize(body));
  }
}
BENCHMARK(BM_StatusEncode);

void BM_Fingerprint(benchmark::State& st) {
  std::string body = R"({"method":"card","card_token":"tok_ok"})";
  for (auto _ : st) {
    benchmark::DoNotOptimize(tk::crypto::request_fingerprint(
        "POST", "/v1/orders/ord_G13-pcZDED3LZVSyxb166Q/payment", body));
  }
}
BENCHMARK(BM_Fingerprint);

// Sections of 1,000 seats, as a stadium's layout lists them.
std::shared_ptr<const tk::app::Layout> stadium(int seats) {
  tk::domain::Venue v{"ven_bench", "Stadium", {}};
  for (int i = 0; i < seats; ++i) {
    v.seats.push_back(
        {tk::crypto::new_id("st_"), "S" + std::to_string(i / 1000), "1", i % 1000, "R"});
  }
  return tk::app::make_layout(std::move(v));
}

void BM_SeatMapEncode50k(benchmark::State& st) {
  // The body of GET /v1/performances/{pid}/seats (built once per seat version per thread).
  tk::app::SeatMap m;
  m.layout = stadium(50000);
  m.version = 42;
  const tk::app::SeatState states[] = {tk::app::SeatState::available, tk::app::SeatState::held,
                                       tk::app::SeatState::sold};
  for (std::size_t i = 0; i < m.layout->venue.seats.size(); ++i) m.states.push_back(states[i % 3]);
  // Every body at once: the full map, the section summary and one body per section.
  for (auto _ : st) benchmark::DoNotOptimize(tk::http::seat_map_bodies(m));
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(m.states.size()));
}
BENCHMARK(BM_SeatMapEncode50k)->Unit(benchmark::kMillisecond);

void BM_SeatMapRebuild100k(benchmark::State& st) {
  // A stadium's rebuild after a window of sales: 100 sections of 1,000 seats, range(0) seats of
  // as many sections changed since the last build (whose unchanged sections are kept).
  tk::app::SeatMap m;
  m.layout = stadium(100000);
  m.version = 1;
  m.states.assign(m.layout->venue.seats.size(), tk::app::SeatState::available);
  const int changed = static_cast<int>(st.range(0));
  std::size_t next = 0;
  for (auto _ : st) {
    st.PauseTiming();
    auto previous = tk::http::seat_map_bodies(m);
    ++m.version;
    for (int c = 0; c < changed; ++c) {  // a seat in each of `changed` sections sold or freed
      next = (next + 1009) % m.states.size();
      auto& state = m.states[next];
      state = state == tk::app::SeatState::sold ? tk::app::SeatState::available
                                                : tk::app::SeatState::sold;
    }
    st.ResumeTiming();
    benchmark::DoNotOptimize(tk::http::seat_map_bodies(m, &previous));
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(m.states.size()));
}
BENCHMARK(BM_SeatMapRebuild100k)->Arg(100)->Arg(10)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_HoldArgs4Seats(benchmark::State& st) {
  std::vector<std::string> seats{"st_TAUREpib3b8cSqkHn8HB3Q", "st_MTzbSjA6aqFDvt12uXRN-A",
                                 "st_41aKfcWL6L2LvdsOTrAbCd", "st_x9aKfcWL6L2LvdsOTrAbCd"};
  for (auto _ : st) {
    std::vector<std::string> args{std::to_string(1764020000000LL),
                                  std::to_string(1764020300000LL),
                                  "prf_b8lLx6If5KU1-pjp-hP7JQ~hld_y19XACFuCwnrEyS0dvjm5g",
                                  "acc_gRuh_yMGdFGJuvxw_acAdw",
                                  "4",
                                  "50000",
                                  "3900000",
                                  "123456"};
    for (const auto& s : seats) args.push_back(s);
    benchmark::DoNotOptimize(args);
  }
}
BENCHMARK(BM_HoldArgs4Seats);

constexpr std::uint32_t kPrequeue = 1'000'000;

tk::domain::ShuffleSeed bench_seed() {
  tk::domain::ShuffleSeed s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i * 37 + 11);
  return s;
}

void BM_PrequeueShuffle1M(benchmark::State& st) {
  // The order of a million-entry pre-queue (sha256-ctr-fisher-yates-v1): 250,000 SHA-256 blocks.
  const auto seed = bench_seed();
  for (auto _ : st) benchmark::DoNotOptimize(tk::domain::shuffle_order(seed, kPrequeue));
  st.SetItemsProcessed(st.iterations() * kPrequeue);
}
BENCHMARK(BM_PrequeueShuffle1M)->Unit(benchmark::kMillisecond);

void BM_PrequeuePositions1M(benchmark::State& st) {
  // Each entry's position from that order.
  const auto order = tk::domain::shuffle_order(bench_seed(), kPrequeue);
  for (auto _ : st) benchmark::DoNotOptimize(tk::domain::positions_by_index(order));
  st.SetItemsProcessed(st.iterations() * kPrequeue);
}
BENCHMARK(BM_PrequeuePositions1M)->Unit(benchmark::kMillisecond);

}  // namespace
