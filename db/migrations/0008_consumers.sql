-- Consumers of outbox messages and their idempotency records.
--
-- processed_messages: one row per (consumer, message). A consumer whose effects live in
-- PostgreSQL writes its row as 'done' in the same transaction as those effects. A consumer with a
-- side effect outside any transaction (SMTP) first records 'attempted' (attempts counts the tries),
-- performs the effect, then marks the row 'done'; a crash between the two leaves 'attempted', so
-- the retry knows it may be repeating a delivery (the receiver dedupes by the stable Message-ID).
CREATE TABLE processed_messages (
  consumer     text NOT NULL,
  message_id   text NOT NULL,
  state        text NOT NULL CHECK (state IN ('attempted', 'done')),
  attempts     integer NOT NULL DEFAULT 0,
  first_at     timestamptz NOT NULL DEFAULT now(),
  done_at      timestamptz,
  PRIMARY KEY (consumer, message_id)
);

-- Parked outbox rows: a message that failed max_attempts times is kept for an operator, never
-- retried by itself (clear parked_at to retry it).
ALTER TABLE outbox ADD COLUMN parked_at timestamptz;
ALTER TABLE outbox ADD COLUMN last_error text;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (id) WHERE parked_at IS NOT NULL;
