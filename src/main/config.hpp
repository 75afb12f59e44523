#pragma once
// Configuration: local defaults, then a KEY=VALUE file (TICKETING_CONFIG), then the environment
// (which wins). Secrets are never committed: they come from the file or the environment.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tk::service {

// Which part of the system this process is (pattern A splits what pattern B's one process does):
//  all     - everything in one process (pattern B; the default);
//  api     - the public HTTP API, no background loops but the view refresh;
//  worker  - the background loops (ticker, refresh, outbox relay, reconciler, the bus consumer)
//            with only the operations listener;
//  gateway - the front: limits, shared rate limits, queue polls, forwarding to api processes.
enum class Role { all, api, worker, gateway };
std::optional<Role> parse_role(std::string_view s);
std::string_view role_name(Role r);

struct Config {
  Role role = Role::all;
  // RabbitMQ (pattern A): the outbox relay and the worker's consumer; empty: the outbox is
  // delivered in-process (pattern B's dispatcher).
  std::string amqp_url;
  std::string http_host = "127.0.0.1";
  int http_port = 8080;
  int threads = 0;  // 0: one per core
  std::string pg_url = "postgresql://postgres@127.0.0.1:55432/ticketing";
  std::string pg_read_url;  // catalogue reads (a replica); defaults to pg_url
  // Catalogue reads use pg_read_url only while the replica trails the primary by at most this.
  int pg_read_max_lag_ms = 1000;
  // /readyz turns 503 once no primary has been reachable this long (a failover takes ~10 s).
  int pg_unready_after_ms = 5000;
  std::string redis_url = "redis://127.0.0.1:56379";
  int redis_timeout_ms = 2000;    // per command; also the readiness limit for an unanswered one
  int redis_stall_ms = 3000;      // no reply this long: drop and re-establish the connection
  int redis_max_pending = 65536;  // commands queued per connection; past it: 503 at once
  std::string secret;
  std::string secret_kid = "k1";
  std::string previous_secret;  // "kid:secret" still accepted for verification (key rotation)
  // Ed25519 ticket codes: a 32-byte seed (43 base64url chars or 64 hex digits), its kid, and
  // "kid:public_key,..." of earlier keys that still verify. No seed: derived from `secret`
  // (development only; logged as a warning).
  std::string ticket_signing_seed;
  std::string ticket_signing_kid = "e1";
  std::string ticket_signing_previous;
  int pdf_threads = 2;   // e-ticket rendering threads (CPU-bound, tens of ms per document)
  int pdf_queue = 64;    // documents waiting for a thread; past it: 503
  std::string pdf_font;  // empty: the ticket font the build made (pdf::default_font_path)
  std::string admin_token;
  unsigned long long argon2_opslimit = 3;
  std::size_t argon2_memlimit_kib = 64 * 1024;
  int argon2_threads = 0;      // 0: half the cores, at least 2
  int argon2_queue = 0;        // hashes waiting for a thread; 0: 16 per thread
  int argon2_per_address = 4;  // hashes in flight per client address; over it: 429
  int payment_latency_ms = 0;
  int payment_timeout_ms = 5000;
  int pg_pool_size = 8;
  // The expected wait for a PostgreSQL connection past which a new request is refused at once
  // (503 + Retry-After) rather than queued: what an accepted order or payment may wait.
  int pg_wait_target_ms = 100;
  // A request's budget: its PostgreSQL and Redis calls and its payment provider call bound their
  // waits by it. 0: none (each call only has its own timeout). Must leave a payment room for the
  // provider's timeout plus its margin.
  int request_timeout_ms = 10000;
  // Admission control at the door (http/door.hpp) for joins: the wait a join, poll, hold, order
  // or payment may take beyond its unloaded latency before new joins are refused with 503 +
  // Retry-After, judged every interval. 0: door off.
  int door_target_ms = 20;
  int door_interval_ms = 100;
  int max_connections = 10000;
  int rate_per_account = 50;    // requests/s per account (burst 2x)
  int rate_per_address = 100;   // requests/s per client address on unauthenticated routes (burst
                                // 2x); 0: no limit
  int signups_per_minute = 10;  // sign-ups, and separately log-ins, per client address
  int admin_failures_per_minute = 10;  // wrong admin tokens per client address before 429
  // Proxies whose PROXY header / X-Forwarded-For name the client (CIDR list); empty: none.
  std::string trusted_proxies;
  bool proxy_protocol = false;  // trusted proxies send a PROXY v1/v2 header on every connection
  std::string ops_host = "127.0.0.1";  // operations listener: /metrics, /healthz, /readyz
  int ops_port = 9090;                 // 0: any free port (logged at start)
  bool access_log = true;
  // Lines the asynchronous log writer may hold before it drops (and counts) new ones.
  int log_buffer_kib = 4096;
  // Shutdown: /readyz answers 503 for drain_delay_ms while requests are still served (a load
  // balancer takes the instance out), then the listeners close and in-flight requests get up to
  // drain_timeout_ms to finish.
  int drain_delay_ms = 1000;
  int drain_timeout_ms = 10000;
  std::string fault;  // test builds only: crash_after_charge | crash_after_commit
  std::string static_dir;
  // Receipt e-mails: SMTP server (empty: no e-mails are sent, order.paid still recorded) and the
  // sender address; SMTP credentials, if any, from TICKETING_SMTP_USER / TICKETING_SMTP_PASSWORD.
  std::string smtp_url;
  std::string mail_from = "tickets@ticketing.local";
  std::string smtp_user, smtp_password;
  int smtp_timeout_ms = 15000;
  // Where buyers reach the web app: the links in e-mails (a waiting-list offer's page).
  std::string public_url = "http://localhost:8080";
  // Outbox: a claimed row's lease, and deliveries before a failing message is parked.
  int outbox_lease_ms = 30000;
  int outbox_max_attempts = 8;
  int outbox_retry_base_ms = 1000;
  // Gateway role: the API processes it forwards to ("ip:port,..."; their public listeners, which
  // answer /readyz for the health checks), requests in flight per API process and event loop
  // (past it: the next process; all full: 503), keep-alive connections kept per process and loop,
  // and the health check period.
  std::string gateway_upstreams;
  int gateway_max_in_flight = 256;
  int gateway_idle_connections = 32;
  int gateway_health_interval_ms = 500;
  // Pattern A: how long a failed message waits in the broker's retry queue (the queue's TTL, so
  // a change needs that queue deleted first; RabbitMQ refuses other arguments for a queue).
  int amqp_retry_delay_ms = 5000;
  // Outbox loops per worker (pattern B: dispatch lanes; pattern A: relay lanes), and deliveries a
  // pattern-A worker handles at once: one e-mail's rendering and SMTP overlap another's.
  int outbox_lanes = 4;
  int amqp_handlers = 8;
  // The waiting room admits at most the buyers the unsold seats could serve, times this percent
  // (0: off). Off by default: an admitted buyer who walks away counts until the access window
  // ends, so with the bound on the last seats of a sale can wait that long for a buyer.
  int admission_inventory_percent = 0;
};

Result<Config> load_config();

}  // namespace tk::service
