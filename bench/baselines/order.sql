-- pgbench baseline of "paid orders/s": one transaction of this script = one order placed and
-- paid, with the SQL the service sends for POST /v1/orders + POST /v1/orders/{id}/payment
-- (src/infra/postgres/repos/orders.cpp: place, begin_payment (the attempt's row and the
-- order read after it, one round trip), finalise; and
-- src/infra/payment/fake_provider.cpp: charge), statement for statement, same order, same
-- transactions; the service pipelines them (libpq pipeline mode: each transaction's BEGIN and
-- fences in one round trip, its writes and COMMIT in another), pgbench sends one at a time. Run
-- with -M prepared.
-- Data: order_setup.sql; each transaction takes the next 4 seats and the next account of the pool.
-- Left out: the catalogue reads of Orders::place (performance, price grades, venue layout),
-- which a service can cache, and the Redis side (hold read, sold markers). Added: the first
-- statement, which makes this transaction's ids and bodies (the service builds them in C++).
\set shard random(0, 63)
SELECT k, now_ms, exp_ms,
       'ord_' || lpad(k::text, 22, '0') AS oid,
       'acc_' || lpad(k::text, 22, '0') AS acc,
       'prf_pgbench0000000000000' AS perf,
       'prf_pgbench0000000000000~hld_' || lpad(k::text, 22, '0') AS hold,
       'acc_' || lpad(k::text, 22, '0') || '/prf_pgbench0000000000000' AS lock_key,
       '{' || s[1] || ',' || s[2] || ',' || s[3] || ',' || s[4] || '}' AS seats,
       '{' || t[1] || ',' || t[2] || ',' || t[3] || ',' || t[4] || '}' AS tids,
       '{' || c[1] || ',' || c[2] || ',' || c[3] || ',' || c[4] || '}' AS codes,
       'idem-' || k AS idem, 'acc_' || lpad(k::text, 22, '0') || ':' || 'idem-' || k AS pkey,
       'ch_' || lpad(k::text, 22, '0') AS chid, md5(k::text) || md5(k::text) AS fp,
       '{"order_id":"ord_' || lpad(k::text, 22, '0') || '","status":"paid","tickets":[' ||
         '{"id":"' || t[1] || '","seat_id":"' || s[1] || '","code":"' || c[1] || '"},' ||
         '{"id":"' || t[2] || '","seat_id":"' || s[2] || '","code":"' || c[2] || '"},' ||
         '{"id":"' || t[3] || '","seat_id":"' || s[3] || '","code":"' || c[3] || '"},' ||
         '{"id":"' || t[4] || '","seat_id":"' || s[4] || '","code":"' || c[4] || '"}]}' AS body,
       '{"order_id":"ord_' || lpad(k::text, 22, '0') || '","account_id":"acc_' ||
         lpad(k::text, 22, '0') || '","performance_id":"prf_pgbench0000000000000",' ||
         '"total_cents":' || 480000 || ',"currency":"KRW","ticket_ids":["' || t[1] || '","' || t[2] ||
         '","' || t[3] || '","' || t[4] || '"]}' AS payload
FROM (SELECT k, now_ms, now_ms + 300000 AS exp_ms,
             ARRAY(SELECT 'st_' || lpad((k * 4 - 4 + j)::text, 22, '0') FROM generate_series(1, 4) j) AS s,
             ARRAY(SELECT 'tkt_' || lpad((k * 4 - 4 + j)::text, 22, '0') FROM generate_series(1, 4) j) AS t,
             ARRAY(SELECT 'k1.' || md5('a' || (k * 4 + j)) || md5('b' || (k * 4 + j)) ||
                          md5('c' || (k * 4 + j)) FROM generate_series(1, 4) j) AS c
      FROM (SELECT nextval('bench_k') AS k,
                   (extract(epoch from clock_timestamp()) * 1000)::bigint AS now_ms) x) y
\gset
-- POST /v1/orders: Orders::place (the hold's order, if it has one, read after the lock; a second
-- call for the same hold returns it)
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0));
SELECT o.id, o.account_id, o.performance_id, o.hold_id, o.status, o.seat_ids, o.total_cents,
  o.currency, (extract(epoch from o.expires_at) * 1000)::bigint, COALESCE(o.charge_id, ''),
  t.id, t.seat_id, t.code, t.status,
  COALESCE((extract(epoch from t.checked_in_at) * 1000)::bigint, 0)
  FROM orders o LEFT JOIN tickets t ON t.order_id = o.id
  WHERE o.hold_id = :hold ORDER BY o.created_at DESC, o.id, t.seat_id;
SELECT COALESCE(sum(cardinality(seat_ids)), 0) FROM orders WHERE account_id = :acc AND
  performance_id = :perf AND (status IN ('paid', 'refund_pending') OR (status = 'pending' AND
  expires_at > to_timestamp(:now_ms::float8 / 1000)));
UPDATE performance_seats SET state = 'ordered', order_id = :oid,
  claim_expires_at = to_timestamp(:exp_ms::float8 / 1000) WHERE performance_id = :perf AND
  seat_id = ANY(:seats::text[]) AND (state = 'available' OR (state = 'ordered' AND
  claim_expires_at <= to_timestamp(:now_ms::float8 / 1000))) AND NOT EXISTS (SELECT 1 FROM
  orders WHERE hold_id = :hold) RETURNING seat_id;
INSERT INTO orders (id, account_id, performance_id, hold_id, status, seat_ids, total_cents,
  currency, expires_at) VALUES (:oid, :acc, :perf, :hold, 'pending', :seats::text[], 480000,
  'KRW', to_timestamp(:exp_ms::float8 / 1000));
COMMIT;
-- POST /v1/orders/{id}/payment: Orders::begin_payment, the attempt's row (only for an order of
-- the account) and the order as it is after it
INSERT INTO idempotency_keys (account_id, key, fingerprint, order_id, state, locked_until)
  SELECT :acc, :idem, :fp, :oid, 'in_progress', to_timestamp((:now_ms::float8 + 10000) / 1000)
  WHERE EXISTS (SELECT 1 FROM orders WHERE id = :oid AND account_id = :acc)
  ON CONFLICT DO NOTHING;
SELECT o.id, o.account_id, o.performance_id, o.hold_id, o.status, o.seat_ids, o.total_cents,
  o.currency, (extract(epoch from o.expires_at) * 1000)::bigint, COALESCE(o.charge_id, ''),
  t.id, t.seat_id, t.code, t.status,
  COALESCE((extract(epoch from t.checked_in_at) * 1000)::bigint, 0)
  FROM orders o LEFT JOIN tickets t ON t.order_id = o.id
  WHERE o.id = :oid ORDER BY o.created_at DESC, o.id, t.seat_id;
-- FakeProvider::charge
INSERT INTO provider_charges (id, provider_key, order_ref, amount_cents, currency, status)
  VALUES (:chid, :pkey, :oid, 480000, 'KRW', 'charged') ON CONFLICT (provider_key)
  DO UPDATE SET provider_key = EXCLUDED.provider_key RETURNING id, status;
-- Orders::finalise
BEGIN;
SELECT performance_id, cardinality(seat_ids) FROM orders WHERE id = :oid AND
  status = 'pending' FOR UPDATE;
UPDATE performance_seats SET state = 'sold', claim_expires_at = NULL WHERE order_id = :oid
  AND state = 'ordered' AND claim_expires_at > to_timestamp(:now_ms::float8 / 1000);
UPDATE idempotency_keys SET state = 'completed', response_status = 200,
  response_body = :body WHERE account_id = :acc AND key = :idem;
INSERT INTO tickets (id, order_id, performance_id, seat_id, code) SELECT t.id, :oid, :perf,
  t.seat, t.code FROM unnest(:tids::text[], :seats::text[], :codes::text[]) AS t(id, seat, code);
UPDATE orders SET status = 'paid', paid_at = now(), charge_id = :chid WHERE id = :oid;
INSERT INTO outbox (topic, payload) VALUES ('order.paid', :payload::jsonb);
INSERT INTO performance_sales (performance_id, shard, sold) VALUES (:perf, :shard, 4)
  ON CONFLICT (performance_id, shard) DO UPDATE SET sold = performance_sales.sold + EXCLUDED.sold;
COMMIT;
