-- Sessions are kept in PostgreSQL as well as in Redis, so a Redis restart or flush does not log
-- every buyer out at once: Redis is the cache in front of this table (a miss is filled from
-- here), and a log-out deletes the row and leaves a tombstone in Redis. Times are milliseconds
-- since the epoch from the service's clock, like the session tokens' expiry.
CREATE TABLE sessions (
  id            text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (id),
  expires_at_ms bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Each log-in deletes a few expired rows, oldest first.
CREATE INDEX sessions_expiry ON sessions (expires_at_ms);
