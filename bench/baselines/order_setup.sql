-- Data for the pgbench baseline of "paid orders/s" (bench/baselines/order.sql), in a database of
-- its own with the service's schema (db/migrations). psql variable :orders = how many orders the
-- pool allows; each order takes 4 seats of its own and a buyer account of its own (the default
-- per-account limit is 4 seats), so no transaction waits on another except where the service's
-- would too (the performance's sales counter rows). Re-running resets the pool (bench/run.sh does
-- that before every pgbench run).
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO venues (id, name, seat_count) VALUES ('ven_pgbench', 'pgbench hall', :orders * 4)
  ON CONFLICT (id) DO UPDATE SET seat_count = EXCLUDED.seat_count;
INSERT INTO venue_seats (id, venue_id, ord, section, row_label, number, grade)
  SELECT 'st_' || lpad(i::text, 22, '0'), 'ven_pgbench', i, 'S' || (i / 10000), 'R' || (i / 100 % 100),
         i % 100, 'R'
  FROM generate_series(1, :orders * 4) AS i
  ON CONFLICT DO NOTHING;
INSERT INTO events (id, title, venue_id) VALUES ('evt_pgbench', 'pgbench', 'ven_pgbench')
  ON CONFLICT DO NOTHING;
INSERT INTO performances (id, event_id, venue_id, starts_at, sale_opens_at, status,
    max_seats_per_order, max_seats_per_account, hold_ttl_seconds, admit_per_interval,
    interval_ms, max_active, access_ttl_seconds, seat_count)
  VALUES ('prf_pgbench0000000000000', 'evt_pgbench', 'ven_pgbench', now() + interval '30 days',
    now(), 'on_sale', 4, 4, 300, 100, 1000, 1000, 600, :orders * 4)
  ON CONFLICT (id) DO UPDATE SET seat_count = EXCLUDED.seat_count;
DELETE FROM performance_sales WHERE performance_id = 'prf_pgbench0000000000000';
INSERT INTO price_grades (performance_id, grade, price_cents, currency)
  VALUES ('prf_pgbench0000000000000', 'R', 120000, 'KRW') ON CONFLICT DO NOTHING;
INSERT INTO performance_seats (performance_id, seat_id)
  SELECT 'prf_pgbench0000000000000', 'st_' || lpad(i::text, 22, '0')
  FROM generate_series(1, :orders * 4) AS i
  ON CONFLICT DO NOTHING;
INSERT INTO accounts (id, email, name, password_hash)
  SELECT 'acc_' || lpad(i::text, 22, '0'), 'pgbench-' || i || '@bench.invalid', 'Buyer ' || i, 'x'
  FROM generate_series(1, :orders) AS i
  ON CONFLICT DO NOTHING;
CREATE SEQUENCE IF NOT EXISTS bench_k;
COMMIT;
