#include "main/config.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include "app/deps.hpp"
#include "app/errors.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "gateway/upstreams.hpp"
#include "http/client_address.hpp"
#include "infra/redis/endpoint.hpp"

namespace tk::service {

namespace {
std::map<std::string, std::string> read_file(const std::string& path) {
  std::map<std::string, std::string> kv;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k.rfind("export ", 0) == 0) k = k.substr(7);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    kv[k] = v;
  }
  return kv;
}
}  // namespace

std::optional<Role> parse_role(std::string_view s) {
  if (s == "all") return Role::all;
  if (s == "api") return Role::api;
  if (s == "worker") return Role::worker;
  if (s == "gateway") return Role::gateway;
  return std::nullopt;
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::all:
      return "all";
    case Role::api:
      return "api";
    case Role::worker:
      return "worker";
    case Role::gateway:
      return "gateway";
  }
  return "all";
}

Result<Config> load_config() {
  std::map<std::string, std::string> kv;
  if (const char* f = std::getenv("TICKETING_CONFIG")) kv = read_file(f);
  auto get = [&](const char* key, auto& out) {
    std::string v;
    if (const char* e = std::getenv(key)) {
      v = e;
    } else if (auto it = kv.find(key); it != kv.end()) {
      v = it->second;
    } else {
      return;
    }
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      out = v;
    } else if constexpr (std::is_same_v<T, bool>) {
      out = v == "1" || v == "true" || v == "yes";
    } else {
      out = static_cast<T>(std::stoll(v));
    }
  };
  Config c;
  std::string role = "all";
  try {
    get("TICKETING_ROLE", role);
    get("TICKETING_AMQP_URL", c.amqp_url);
    get("TICKETING_HTTP_HOST", c.http_host);
    get("TICKETING_HTTP_PORT", c.http_port);
    get("TICKETING_THREADS", c.threads);
    get("TICKETING_PG_URL", c.pg_url);
    get("TICKETING_PG_READ_URL", c.pg_read_url);
    get("TICKETING_PG_READ_MAX_LAG_MS", c.pg_read_max_lag_ms);
    get("TICKETING_PG_UNREADY_AFTER_MS", c.pg_unready_after_ms);
    get("TICKETING_REDIS_URL", c.redis_url);
    get("TICKETING_REDIS_TIMEOUT_MS", c.redis_timeout_ms);
    get("TICKETING_REDIS_STALL_MS", c.redis_stall_ms);
    get("TICKETING_REDIS_MAX_PENDING", c.redis_max_pending);
    get("TICKETING_SECRET", c.secret);
    get("TICKETING_SECRET_KID", c.secret_kid);
    get("TICKETING_SECRET_PREVIOUS", c.previous_secret);
    get("TICKETING_ADMIN_TOKEN", c.admin_token);
    get("TICKETING_TICKET_SIGNING_SEED", c.ticket_signing_seed);
    get("TICKETING_TICKET_SIGNING_KID", c.ticket_signing_kid);
    get("TICKETING_TICKET_SIGNING_PREVIOUS", c.ticket_signing_previous);
    get("TICKETING_PDF_THREADS", c.pdf_threads);
    get("TICKETING_PDF_QUEUE", c.pdf_queue);
    get("TICKETING_PDF_FONT", c.pdf_font);
    get("TICKETING_ARGON2_OPSLIMIT", c.argon2_opslimit);
    get("TICKETING_ARGON2_MEMLIMIT_KIB", c.argon2_memlimit_kib);
    get("TICKETING_ARGON2_THREADS", c.argon2_threads);
    get("TICKETING_ARGON2_QUEUE", c.argon2_queue);
    get("TICKETING_ARGON2_PER_ADDRESS", c.argon2_per_address);
    get("TICKETING_PAYMENT_LATENCY_MS", c.payment_latency_ms);
    get("TICKETING_PAYMENT_TIMEOUT_MS", c.payment_timeout_ms);
    get("TICKETING_PG_POOL_SIZE", c.pg_pool_size);
    get("TICKETING_PG_WAIT_TARGET_MS", c.pg_wait_target_ms);
    get("TICKETING_REQUEST_TIMEOUT_MS", c.request_timeout_ms);
    get("TICKETING_DOOR_TARGET_MS", c.door_target_ms);
    get("TICKETING_DOOR_INTERVAL_MS", c.door_interval_ms);
    get("TICKETING_MAX_CONNECTIONS", c.max_connections);
    get("TICKETING_RATE_PER_ACCOUNT", c.rate_per_account);
    get("TICKETING_RATE_PER_ADDRESS", c.rate_per_address);
    get("TICKETING_SIGNUPS_PER_MINUTE", c.signups_per_minute);
    get("TICKETING_ADMIN_FAILURES_PER_MINUTE", c.admin_failures_per_minute);
    get("TICKETING_TRUSTED_PROXIES", c.trusted_proxies);
    get("TICKETING_PROXY_PROTOCOL", c.proxy_protocol);
    get("TICKETING_OPS_HOST", c.ops_host);
    get("TICKETING_OPS_PORT", c.ops_port);
    get("TICKETING_ACCESS_LOG", c.access_log);
    get("TICKETING_LOG_BUFFER_KIB", c.log_buffer_kib);
    get("TICKETING_DRAIN_DELAY_MS", c.drain_delay_ms);
    get("TICKETING_DRAIN_TIMEOUT_MS", c.drain_timeout_ms);
    get("TICKETING_FAULT", c.fault);
    get("TICKETING_STATIC_DIR", c.static_dir);
    get("TICKETING_SMTP_URL", c.smtp_url);
    get("TICKETING_MAIL_FROM", c.mail_from);
    get("TICKETING_PUBLIC_URL", c.public_url);
    get("TICKETING_SMTP_USER", c.smtp_user);
    get("TICKETING_SMTP_PASSWORD", c.smtp_password);
    get("TICKETING_SMTP_TIMEOUT_MS", c.smtp_timeout_ms);
    get("TICKETING_OUTBOX_LEASE_MS", c.outbox_lease_ms);
    get("TICKETING_OUTBOX_MAX_ATTEMPTS", c.outbox_max_attempts);
    get("TICKETING_OUTBOX_RETRY_BASE_MS", c.outbox_retry_base_ms);
    get("TICKETING_GATEWAY_UPSTREAMS", c.gateway_upstreams);
    get("TICKETING_GATEWAY_MAX_IN_FLIGHT", c.gateway_max_in_flight);
    get("TICKETING_GATEWAY_IDLE_CONNECTIONS", c.gateway_idle_connections);
    get("TICKETING_GATEWAY_HEALTH_INTERVAL_MS", c.gateway_health_interval_ms);
    get("TICKETING_AMQP_RETRY_DELAY_MS", c.amqp_retry_delay_ms);
    get("TICKETING_OUTBOX_LANES", c.outbox_lanes);
    get("TICKETING_AMQP_HANDLERS", c.amqp_handlers);
    get("TICKETING_ADMISSION_INVENTORY_PERCENT", c.admission_inventory_percent);
  } catch (const std::exception&) {
    return Error{app::Errc::invalid_field, {{"reason", "a numeric setting is not a number"}}};
  }
  if (auto r = parse_role(role)) {
    c.role = *r;
  } else {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_ROLE"}, {"reason", "all, api, worker or gateway"}}};
  }
  // A worker's loops all run on one event loop; more threads would only hold idle connections.
  if (c.role == Role::worker) c.threads = 1;
  if (c.pg_read_url.empty()) c.pg_read_url = c.pg_url;
  if (c.threads <= 0)
    c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // argon2id is CPU-bound: half the cores leaves the event loops room under a log-in rush.
  if (c.argon2_threads <= 0) {
    c.argon2_threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency() / 2));
  }
  if (c.argon2_queue <= 0) c.argon2_queue = 16 * c.argon2_threads;
  if (c.argon2_per_address <= 0) {
    return Error{app::Errc::out_of_range, {{"field", "TICKETING_ARGON2_PER_ADDRESS"}}};
  }
  if (c.http_port < 0 || c.http_port > 65535) {
    return Error{app::Errc::out_of_range, {{"field", "TICKETING_HTTP_PORT"}}};
  }
  for (auto [field, v] : {std::pair<const char*, int>{"TICKETING_LOG_BUFFER_KIB", c.log_buffer_kib},
                          {"TICKETING_DRAIN_DELAY_MS", c.drain_delay_ms},
                          {"TICKETING_DRAIN_TIMEOUT_MS", c.drain_timeout_ms}}) {
    if (v < 0) return Error{app::Errc::out_of_range, {{"field", field}}};
  }
  // Above the pool's acquire timeout (PoolOptions, 500 ms) it would change nothing.
  if (c.pg_wait_target_ms < 1 || c.pg_wait_target_ms > 500) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_PG_WAIT_TARGET_MS"}, {"reason", "1 to 500"}}};
  }
  if (c.pg_read_max_lag_ms <= 0 || c.pg_unready_after_ms < 0) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_PG_READ_MAX_LAG_MS / TICKETING_PG_UNREADY_AFTER_MS"}}};
  }
  if (c.redis_timeout_ms <= 0 || c.redis_stall_ms <= 0 || c.redis_max_pending <= 0) {
    return Error{app::Errc::out_of_range, {{"field", "TICKETING_REDIS_*"}}};
  }
  if (c.request_timeout_ms < 0 ||
      (c.request_timeout_ms > 0 &&
       c.request_timeout_ms <= c.payment_timeout_ms + app::Settings{}.payment_margin_ms)) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_REQUEST_TIMEOUT_MS"},
                  {"reason", "0, or more than TICKETING_PAYMENT_TIMEOUT_MS + 2000"}}};
  }
  if (c.door_target_ms < 0 || c.door_interval_ms < 10 || c.door_interval_ms > 10000) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_DOOR_TARGET_MS / TICKETING_DOOR_INTERVAL_MS"},
                  {"reason", "target 0 or more; interval 10-10000"}}};
  }
  if (c.amqp_retry_delay_ms < 100) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_AMQP_RETRY_DELAY_MS"}, {"reason", "at least 100"}}};
  }
  if (c.outbox_lanes < 1 || c.outbox_lanes > 64) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_OUTBOX_LANES"}, {"reason", "1 to 64"}}};
  }
  if (c.admission_inventory_percent < 0 || c.admission_inventory_percent > 100000) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_ADMISSION_INVENTORY_PERCENT"}, {"reason", "0 to 100000"}}};
  }
  if (c.amqp_handlers < 1 || c.amqp_handlers > 256) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_AMQP_HANDLERS"}, {"reason", "1 to 256"}}};
  }
  if (c.smtp_timeout_ms <= 0 || c.outbox_max_attempts < 1 || c.outbox_retry_base_ms < 0 ||
      c.outbox_lease_ms <= c.smtp_timeout_ms) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_OUTBOX_*"},
                  {"reason", "the lease must exceed TICKETING_SMTP_TIMEOUT_MS; attempts >= 1"}}};
  }
  if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 &&
      c.smtp_url.rfind("smtps://", 0) != 0) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_SMTP_URL"}, {"reason", "smtp://host:port or smtps://"}}};
  }
  if (auto ep = redis::Endpoint::parse(c.redis_url); !ep) {
    // The parser's reason, never the URL itself: it may carry a password.
    const auto* why = ep.error().details.if_contains("reason");
    return Error{
        app::Errc::invalid_field,
        {{"field", "TICKETING_REDIS_URL"},
         {"reason", std::string(why && why->is_string() ? why->as_string().c_str() : "bad URL") +
                        " (redis://[[user]:password@]host[:port][/db] or "
                        "redis-sentinel://[[user]:password@]host[:port][,host[:port]...]"
                        "/master[/db][?sentinel_password=...])"}}};
  }
  if (c.ops_port < 0 || c.ops_port > 65535) {
    return Error{app::Errc::out_of_range, {{"field", "TICKETING_OPS_PORT"}}};
  }
  if (!http::TrustedProxies::parse(c.trusted_proxies)) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_TRUSTED_PROXIES"},
                  {"reason", "a comma-separated list of addresses and CIDR blocks"}}};
  }
  if (c.proxy_protocol && c.trusted_proxies.empty()) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_PROXY_PROTOCOL"},
                  {"reason", "needs TICKETING_TRUSTED_PROXIES: only they may send the header"}}};
  }
  if (c.rate_per_address < 0 || c.signups_per_minute < 1 || c.admin_failures_per_minute < 1) {
    return Error{app::Errc::out_of_range, {{"field", "rate limits"}}};
  }
  if (c.pdf_threads < 1 || c.pdf_queue < 1) {
    return Error{app::Errc::out_of_range,
                 {{"field", "TICKETING_PDF_THREADS / TICKETING_PDF_QUEUE"}}};
  }
  if (!c.ticket_signing_seed.empty() && !crypto::parse_key_bytes(c.ticket_signing_seed)) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_TICKET_SIGNING_SEED"},
                  {"reason", "32 bytes: 43 base64url characters or 64 hex digits"}}};
  }
  if (!crypto::parse_public_keys(c.ticket_signing_previous)) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_TICKET_SIGNING_PREVIOUS"},
                  {"reason", "kid:public_key pairs, comma-separated"}}};
  }
  if (c.role == Role::gateway && !gateway::parse_upstreams(c.gateway_upstreams)) {
    return Error{app::Errc::invalid_field,
                 {{"field", "TICKETING_GATEWAY_UPSTREAMS"},
                  {"reason", "the API processes as ip:port, comma-separated"}}};
  }
  if (c.gateway_max_in_flight < 1 || c.gateway_idle_connections < 0 ||
      c.gateway_health_interval_ms < 50) {
    return Error{app::Errc::out_of_range, {{"field", "TICKETING_GATEWAY_*"}}};
  }
  if (c.secret.size() < 32) {
    return Error{
        app::Errc::invalid_field,
        {{"field", "TICKETING_SECRET"}, {"reason", "set it to at least 32 random characters"}}};
  }
  return c;
}

}  // namespace tk::service
