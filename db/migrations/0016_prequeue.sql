-- The pre-queue: joins between queue_opens_at and the opening of the sale wait unordered and get
-- their positions at the opening, in an order drawn from queue_seed (its SHA-256 is published
-- before the pre-queue opens; the seed itself once the order is drawn). prequeue_size is set once,
-- when the pre-queue closes; entries are durable before a join is acknowledged.
ALTER TABLE performances
  ADD COLUMN queue_opens_at timestamptz,
  ADD COLUMN queue_seed bytea CHECK (queue_seed IS NULL OR length(queue_seed) = 32),
  ADD COLUMN prequeue_size integer CHECK (prequeue_size IS NULL OR prequeue_size >= 0);

CREATE TABLE prequeue_entries (
  entry_no       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  performance_id text NOT NULL REFERENCES performances (id),
  account_id     text NOT NULL REFERENCES accounts (id),
  account_num    bigint NOT NULL,
  joined_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (performance_id, account_id)
);
CREATE INDEX prequeue_entries_perf ON prequeue_entries (performance_id, entry_no);
