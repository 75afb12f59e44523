-- Payment attempts get their own provider key. An attempt whose lease ran out may still be alive
-- (a stalled pool, a slow provider) with its charge in flight. The reconciler used to ask the
-- provider, hear "never seen", and forget the attempt; a charge landing after that was live with
-- nothing left to void it. The reconciler now closes the attempt's key at the provider (a
-- 'cancelled' entry, so a late charge under that key is refused) before it forgets the attempt,
-- and a retry with the same Idempotency-Key starts a new attempt under a new provider key.
-- Rows from before this migration keep attempt '' and with it their old provider key.
ALTER TABLE idempotency_keys ADD COLUMN attempt text NOT NULL DEFAULT '';

ALTER TABLE provider_charges DROP CONSTRAINT provider_charges_status_check;
ALTER TABLE provider_charges ADD CONSTRAINT provider_charges_status_check
  CHECK (status IN ('charged', 'declined', 'voided', 'cancelled'));
