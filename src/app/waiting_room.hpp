#pragma once
// The virtual waiting room: join (one place per account), status polls answered from memory,
// and admission ticks.
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "app/deps.hpp"
#include "app/identity.hpp"

namespace tk::app {

// abandoned: the place was given up (its holder left) or passed over because its ticket stopped
// polling (presence); the holder may join again, at the back.
enum class QueueState { waiting, admitted, expired, sold_out, closed, pre_queue, abandoned };
const char* to_string(QueueState s);

// Entries of the admission log per read: a page that stays small (about 100 kB of JSON).
inline constexpr int kAdmissionLogPage = 500;

// A proof-of-work challenge lives this long: a slow phone solves the recommended difficulty in a
// few seconds; a solved challenge is used at once.
inline constexpr Millis kPowChallengeTtlMs = 180'000;

struct PowChallenge {
  std::string challenge;  // a signed token: the string the nonce is appended to
  int difficulty = 0;
  Millis expires_at = 0;
};

// A join's proof of work: the challenge as issued and the nonce found.
struct JoinProof {
  std::string challenge;
  std::string nonce;
};

struct JoinResult {
  std::string ticket;
  std::int64_t position = 0;
  QueueState state = QueueState::waiting;
  bool created = false;         // false: the account already had this place
  int retry_after_seconds = 1;  // when to poll first (Retry-After)
  std::int64_t entry = 0;       // a pre-queue entry (its position: 0 until the draw)
};

struct QueueStatus {
  QueueState state = QueueState::waiting;
  std::int64_t position = 0;
  std::int64_t ahead = 0;
  std::int64_t estimated_wait_seconds = 0;
  int retry_after_seconds = 1;
  std::string access_token;  // when admitted
  Millis access_expires_at = 0;
  std::int64_t entry = 0;  // a pre-queue ticket's entry (position 0 until the draw)
};

// What anyone may check about a pre-queue (GET .../queue/fairness).
struct Fairness {
  std::string seed_commitment;
  std::string seed;  // empty until the draw
  std::int64_t pre_queue_size = 0;
};

class WaitingRoom {
 public:
  explicit WaitingRoom(Deps d) : d_(d) {}

  // `presented_ticket`: a ticket the client already holds; if it is this account's valid ticket
  // for this performance it is returned as is, so a client keeps its place even if Redis lost
  // the account's entry.
  // With a proof-of-work difficulty, a join that needs a new place (no valid ticket presented)
  // must carry `proof`: challenge_required without, challenge_invalid for a wrong, expired,
  // reused or another account's one.
  Task<JoinResult> join(const Principal& who, std::string perf_id,
                        std::string_view presented_ticket, std::optional<JoinProof> proof = {});
  // A fresh single-use challenge for this account and performance, at its current difficulty.
  Task<PowChallenge> challenge(const Principal& who, std::string perf_id);
  // The hot path: one MAC check and a look at the in-memory view. Loads the view from the
  // stores only the first time this process sees the performance.
  Task<QueueStatus> status(std::string perf_id, std::string_view ticket);
  // Same answer without suspending, from the in-memory view alone: no allocation for a waiting
  // buyer. nullopt when the cold path is needed (view not loaded, or a tick not seen yet).
  std::optional<Result<QueueStatus>> status_now(std::string_view perf_id, std::string_view ticket);

  // Gives the ticket's place up: a waiting place is passed over when its turn comes, an
  // admitted one gives its capacity back at once, a pre-queue entry leaves the draw. Giving up a
  // place already gone (or whose access window ended) changes nothing.
  Task<void> leave(std::string perf_id, std::string_view ticket);
  // Writes the presence marks gathered since the last call (the presence loop, once a second),
  // and refreshes the marks' freshness of every performance with presence on in the view.
  Task<void> flush_presence();

  // One admission tick for a performance (called by the ticker of every process; the Redis
  // script's compare-and-set lets only one of them admit per interval).
  Task<TickOutcome> tick(const domain::Performance& p);
  // Reloads the view of one performance from PostgreSQL (settings) and Redis (counters);
  // `replace`: even if Redis is at a lower sequence than the view (it was repaired).
  Task<std::shared_ptr<const LiveQueue>> refresh(std::string perf_id, bool replace = false);
  // Puts Redis back on PostgreSQL's high-water marks after it came back empty or rolled back.
  Task<void> restore(const domain::Performance& p);
  // The tamper-evident admission log: entries after `after`, at most kAdmissionLogPage.
  Task<std::vector<AuditEntry>> admission_log(std::string perf_id, std::int64_t after);
  // This process's view of a performance's queue (settings, prices, counters), loaded on first use.
  Task<std::shared_ptr<const LiveQueue>> live(const std::string& perf_id);

  // The pre-queue's commitment, and its seed and size once drawn. not_found: no pre-queue.
  Task<Fairness> fairness(std::string perf_id);
  // The drawn pre-queue's entries, ascending; nullptr while the pre-queue is still open.
  Task<std::shared_ptr<const PreQueueOrder>> drawn_entries(std::string perf_id);

 private:
  Task<void> restore_once(const domain::Performance& p);
  // Presence on: a waiting position polled at `now`, marked by the next flush_presence.
  void note_presence(const LiveQueue& q, std::int64_t position, Millis now);
  // A pre-queue join: durable in PostgreSQL before it is acknowledged; position drawn later.
  // nullopt: the pre-queue had closed (another process's clock reached the opening first).
  Task<std::optional<JoinResult>> join_prequeue(const Principal& who, const LiveQueue& q,
                                                std::string_view presented,
                                                const std::optional<JoinProof>& proof, Millis now);
  // The drawn order of a performance whose sale opened: closes the pre-queue in PostgreSQL (the
  // first caller of any process does; the others find it closed), draws the order off the I/O
  // threads and keeps it in the view. Once per thread and performance.
  Task<std::shared_ptr<const PreQueueOrder>> prequeue_order(const std::string& perf_id);
  Task<std::shared_ptr<const PreQueueOrder>> draw_prequeue(std::string perf_id);
  // The join's proof of work, checked cheapest first (signature, binding, hash), then marked used.
  Task<void> check_proof(const Principal& who, const domain::Performance& p,
                         const std::optional<JoinProof>& proof, Millis now);
  // Claims a ticket's place (account_num -1: the position only). A queue Redis no longer has is
  // restored from PostgreSQL first; `q` then becomes the repaired view.
  Task<ClaimOutcome> claim_place(std::shared_ptr<const LiveQueue>& q, std::int64_t account_num,
                                 std::int64_t position, Millis issued_at);
  // Puts a view of the queue built from Redis's counters into this process's QueueView.
  void publish(domain::Performance p, QueueCounters c, bool replace);
  // Records the ticks Redis admitted that PostgreSQL lacks (their process died between the two),
  // found below a recorded tick (holes_), so the recovery marks and the admission log have no
  // hole. Stops at the first failure; the next tick goes on.
  Task<void> record_holes();
  // Whether Redis is behind what PostgreSQL recorded (updates hwm_seen_).
  bool behind(const std::string& perf, const LedgerMarks& m, const TickOutcome& out);

  Deps d_;
  std::vector<std::tuple<std::string, AdmissionTick, std::int64_t>> unrecorded_;
  std::vector<std::pair<std::string, std::int64_t>> hwm_seen_;  // reserved bound Redis lacked
  static constexpr std::size_t kMaxHoles = 64;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> holes_;  // perf, (from, to]
};

}  // namespace tk::app
