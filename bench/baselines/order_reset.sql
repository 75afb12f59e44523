-- Back to "every seat available, no order" before each pgbench run of bench/run.sh.
\set ON_ERROR_STOP on
TRUNCATE tickets, orders, idempotency_keys, provider_charges, outbox, receipts, refunds,
  provider_refunds;
UPDATE performance_seats SET state = 'available', order_id = NULL, claim_expires_at = NULL
  WHERE state <> 'available';
DELETE FROM performance_sales WHERE performance_id = 'prf_pgbench0000000000000';
ALTER SEQUENCE bench_k RESTART;
VACUUM ANALYZE performance_seats;
VACUUM ANALYZE performance_sales;
CHECKPOINT;
