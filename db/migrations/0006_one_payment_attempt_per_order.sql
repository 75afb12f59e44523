-- One payment attempt in progress per order. Two requests for one order under two different
-- Idempotency-Keys would otherwise both reach the provider and both charge; the second now finds
-- the first's row and is answered 409 idempotency_in_progress (order_already_paid once paid).
-- A declined or given-up attempt leaves 'in_progress', so a new key may try again after it.
CREATE UNIQUE INDEX idempotency_one_attempt_per_order ON idempotency_keys (order_id)
  WHERE state = 'in_progress';
