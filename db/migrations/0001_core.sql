-- Core schema: PostgreSQL is the source of truth for accounts, catalogue, orders, payments,
-- tickets and the final claim on every seat.

CREATE TABLE accounts (
  id            text PRIMARY KEY,
  num           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- compact id: Redis buckets by it
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE venues (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  seat_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Static layout: one row per seat of a venue; seat ids are unique across the whole system.
CREATE TABLE venue_seats (
  id        text PRIMARY KEY,
  venue_id  text NOT NULL REFERENCES venues (id),
  ord       integer NOT NULL,          -- layout order: section, row, number
  section   text NOT NULL,
  row_label text NOT NULL,
  number    integer NOT NULL,
  grade     text NOT NULL,
  UNIQUE (venue_id, ord)
);

CREATE TABLE events (
  id         text PRIMARY KEY,
  title      text NOT NULL,
  venue_id   text NOT NULL REFERENCES venues (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_venue ON events (venue_id);

CREATE TABLE performances (
  id                    text PRIMARY KEY,
  event_id              text NOT NULL REFERENCES events (id),
  venue_id              text NOT NULL REFERENCES venues (id),
  starts_at             timestamptz NOT NULL,
  sale_opens_at         timestamptz NOT NULL,
  -- The operator's status; sold_out is derived (sold_count = seat_count) and scheduled turns
  -- on_sale by itself once sale_opens_at has passed.
  status                text NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'on_sale', 'paused', 'closed')),
  max_seats_per_order   integer NOT NULL CHECK (max_seats_per_order BETWEEN 1 AND 20),
  max_seats_per_account integer NOT NULL CHECK (max_seats_per_account >= 1),
  hold_ttl_seconds      integer NOT NULL CHECK (hold_ttl_seconds BETWEEN 1 AND 3600),
  admit_per_interval    integer NOT NULL CHECK (admit_per_interval >= 1),
  interval_ms           integer NOT NULL CHECK (interval_ms BETWEEN 50 AND 60000),
  max_active            integer NOT NULL CHECK (max_active >= 1),
  access_ttl_seconds    integer NOT NULL CHECK (access_ttl_seconds BETWEEN 10 AND 86400),
  seat_count            integer NOT NULL,
  sold_count            integer NOT NULL DEFAULT 0 CHECK (sold_count BETWEEN 0 AND seat_count),
  settings_version      bigint NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX performances_event ON performances (event_id);

CREATE TABLE price_grades (
  performance_id text NOT NULL REFERENCES performances (id),
  grade          text NOT NULL,
  price_cents    bigint NOT NULL CHECK (price_cents >= 0),
  currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  PRIMARY KEY (performance_id, grade)
);

-- The fence: one row per (performance, seat). available -> ordered (by order X until T) -> sold.
CREATE TABLE performance_seats (
  performance_id   text NOT NULL REFERENCES performances (id),
  seat_id          text NOT NULL REFERENCES venue_seats (id),
  state            text NOT NULL DEFAULT 'available'
                   CHECK (state IN ('available', 'ordered', 'sold')),
  order_id         text,
  claim_expires_at timestamptz,
  PRIMARY KEY (performance_id, seat_id),
  CHECK ((state = 'available') = (order_id IS NULL))
);
CREATE INDEX performance_seats_order ON performance_seats (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE orders (
  id             text PRIMARY KEY,
  account_id     text NOT NULL REFERENCES accounts (id),
  performance_id text NOT NULL REFERENCES performances (id),
  hold_id        text NOT NULL UNIQUE,
  status         text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'paid', 'expired', 'cancelled')),
  seat_ids       text[] NOT NULL,
  total_cents    bigint NOT NULL,
  currency       text NOT NULL,
  expires_at     timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  paid_at        timestamptz,
  charge_id      text
);
CREATE INDEX orders_account ON orders (account_id, created_at DESC);
CREATE INDEX orders_pending_expiry ON orders (expires_at) WHERE status = 'pending';

CREATE TABLE tickets (
  id             text PRIMARY KEY,
  order_id       text NOT NULL REFERENCES orders (id),
  performance_id text NOT NULL,
  seat_id        text NOT NULL,
  code           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (performance_id, seat_id)  -- the second wall against a double sale
);
CREATE INDEX tickets_order ON tickets (order_id);

-- Stripe-style idempotency keys for payments. The row is committed as in_progress before the
-- provider is called; locked_until bounds how long an attempt may stay in doubt before a retry
-- or the reconciler takes it over.
CREATE TABLE idempotency_keys (
  account_id      text NOT NULL,
  key             text NOT NULL,
  fingerprint     text NOT NULL,
  order_id        text NOT NULL,
  state           text NOT NULL CHECK (state IN ('in_progress', 'completed')),
  locked_until    timestamptz NOT NULL,
  response_status integer,
  response_body   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_in_doubt ON idempotency_keys (locked_until) WHERE state = 'in_progress';
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

-- The fake payment provider's ledger (in a real deployment this lives at the provider).
CREATE TABLE provider_charges (
  id           text PRIMARY KEY,
  provider_key text NOT NULL UNIQUE,  -- our idempotency key: the provider dedupes by it
  order_ref    text NOT NULL,
  amount_cents bigint NOT NULL,
  currency     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('charged', 'declined', 'voided')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  voided_at    timestamptz
);

-- Transactional outbox: written in the payment's transaction, delivered at least once.
CREATE TABLE outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic           text NOT NULL,
  payload         jsonb NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id);

CREATE TABLE receipts (
  outbox_id  bigint PRIMARY KEY,  -- consumers dedupe by outbox id
  order_id   text NOT NULL,
  account_id text NOT NULL,
  body       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Queue high-water marks, recorded on every admission tick so a restarted or emptied Redis
-- resumes from them. tail_reserved is an upper bound on every position ever handed out: joins
-- reserve blocks of positions here, so positions stay unique even if Redis loses its tail.
CREATE TABLE queue_state (
  performance_id text PRIMARY KEY REFERENCES performances (id),
  tail           bigint NOT NULL DEFAULT 0,
  tail_reserved  bigint NOT NULL DEFAULT 0,
  serving        bigint NOT NULL DEFAULT 0,
  tick_seq       bigint NOT NULL DEFAULT 0,
  epoch_ms       bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every admission tick: positions (from_position, to_position] were admitted at admitted_at.
CREATE TABLE admission_ticks (
  performance_id text NOT NULL REFERENCES performances (id),
  tick_seq       bigint NOT NULL,
  from_position  bigint NOT NULL,
  to_position    bigint NOT NULL,
  admitted_at_ms bigint NOT NULL,
  PRIMARY KEY (performance_id, tick_seq)
);
CREATE INDEX admission_ticks_position ON admission_ticks (performance_id, to_position);
