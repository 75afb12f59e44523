-- Refunds. A buyer (or the operator) asks for a refund of a paid order; the request's
-- transaction voids the tickets under the order's row lock and writes order.refund_requested to
-- the outbox. The worker's `refund` consumer gives the money back at the provider (once, keyed by
-- the order id), then puts the seats back on sale and marks the order refunded in one
-- transaction with order.refunded in the outbox.
--
-- Order lifecycle: pending -> paid -> refund_pending -> refunded.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('pending', 'paid', 'expired', 'cancelled', 'refund_pending', 'refunded'));
ALTER TABLE orders ADD COLUMN refunded_at timestamptz;

-- Until when a buyer may ask for a refund; NULL: starts_at minus 24 hours. The operator's route
-- has no time limit.
ALTER TABLE performances ADD COLUMN refundable_until timestamptz;

-- One refund per order. idempotency_key: a replay with the same key gets the same answer, any
-- other key is already_refunded.
CREATE TABLE refunds (
  order_id           text PRIMARY KEY REFERENCES orders (id),
  account_id         text NOT NULL,
  idempotency_key    text NOT NULL,
  requested_by       text NOT NULL CHECK (requested_by IN ('buyer', 'admin')),
  state              text NOT NULL CHECK (state IN ('requested', 'refunded')),
  requested_at       timestamptz NOT NULL,
  provider_refund_id text,
  refunded_at        timestamptz,
  CHECK ((state = 'refunded') = (provider_refund_id IS NOT NULL))
);
CREATE INDEX refunds_requested ON refunds (requested_at) WHERE state = 'requested';

-- The fake provider's refund ledger (in a real deployment this lives at the provider). The
-- provider dedupes by refund_key (our order id): a repeated call returns the first refund.
CREATE TABLE provider_refunds (
  id           text PRIMARY KEY,
  refund_key   text NOT NULL UNIQUE,
  charge_id    text NOT NULL REFERENCES provider_charges (id),
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  currency     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- A refunded seat is sold again with a new ticket; the void one stays for the door's answer
-- (ticket_void). The second wall against a double sale now covers live tickets only.
ALTER TABLE tickets DROP CONSTRAINT tickets_performance_id_seat_id_key;
CREATE UNIQUE INDEX tickets_live_seat ON tickets (performance_id, seat_id) WHERE status <> 'void';

-- A refund subtracts its seats from one random sales row, as a sale adds to one: a single row
-- may go below zero, the performance's sum (the count) never does.
ALTER TABLE performance_sales DROP CONSTRAINT performance_sales_sold_check;
