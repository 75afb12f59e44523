// What the ticketing binary itself fixes: listeners, health routes, roles, the metric and queue
// names that autoscaling reads. The tests check the names against src/ of this repository.

export const HTTP_PORT = 8080; // TICKETING_HTTP_PORT: public listener (not in the worker role)
export const OPS_PORT = 9090; // TICKETING_OPS_PORT: /metrics, /healthz, /readyz
export const READY_PATH = "/readyz"; // 503 while draining or while PostgreSQL/Redis are unusable
export const LIVE_PATH = "/healthz"; // 200 while the event loop answers
export const METRICS_PATH = "/metrics"; // operations listener only (404 on the public one)

export type Role = "all" | "gateway" | "api" | "worker";

// Gauge exported by every process with a queue view (src/main/service.cpp): people waiting per
// performance (tail - serving). Every process reports the same value for a performance.
export const WAITING_METRIC = "queue_waiting";
// The workers' quorum queue (src/messaging/bus.hpp, BusOptions::queue), bound to the topic
// exchange ticketing.events; its .retry and .parking queues are not work for a consumer.
export const WORKER_QUEUE = "ticketing.worker";

export const REDIS_PORT = 6379;
export const POSTGRES_PORT = 5432;
export const AMQP_PORT = 5672; // plain AMQP
export const AMQPS_PORT = 5671; // AMQP over TLS
export const AMQP_PORTS = [AMQP_PORT, AMQPS_PORT];
export const DNS_PORT = 53;

// Keys of the Secret that External Secrets writes, and where each comes from in Secrets Manager
// (secret: the Settings.aws.secretNames entry, property: the JSON property of that secret).
export interface SecretKey {
  env: string;
  secret: "app" | "postgres" | "redis" | "rabbitmq" | "smtp";
  property: string;
  roles: Role[];
}

export const SECRET_KEYS: SecretKey[] = [
  { env: "TICKETING_SECRET", secret: "app", property: "secret", roles: ["all", "gateway", "api", "worker"] },
  { env: "TICKETING_TICKET_SIGNING_SEED", secret: "app", property: "ticket_signing_seed", roles: ["all", "gateway", "api", "worker"] },
  { env: "TICKETING_ADMIN_TOKEN", secret: "app", property: "admin_token", roles: ["all", "api"] },
  { env: "TICKETING_PG_URL", secret: "postgres", property: "url", roles: ["all", "gateway", "api", "worker"] },
  { env: "TICKETING_PG_READ_URL", secret: "postgres", property: "read_url", roles: ["all", "gateway", "api", "worker"] },
  { env: "TICKETING_REDIS_URL", secret: "redis", property: "url", roles: ["all", "gateway", "api", "worker"] },
  { env: "TICKETING_AMQP_URL", secret: "rabbitmq", property: "url", roles: ["worker"] },
  { env: "TICKETING_SMTP_USER", secret: "smtp", property: "user", roles: ["all", "worker"] },
  { env: "TICKETING_SMTP_PASSWORD", secret: "smtp", property: "password", roles: ["all", "worker"] },
];

// Roles that talk to each backing service (pattern B's one process does everything but AMQP).
export const USES = {
  redis: ["all", "gateway", "api", "worker"] as Role[],
  postgres: ["all", "gateway", "api", "worker"] as Role[],
  rabbitmq: ["worker"] as Role[],
  smtp: ["all", "worker"] as Role[],
};
