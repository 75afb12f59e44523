"""What a sale must leave behind whatever failed, judged on what buyers were told and what
PostgreSQL holds; shared by the black-box races, the HA crowd and the chaos harness.

sale_checks(pg_url, perf, seats, paid, sold_out=True, answers_complete=True) -> [(name, ok, detail)]
  paid: {order id: [seat ids of the tickets its 200 answer named]} of every payment answered 200;
  sold_out: every seat must be sold; answers_complete: every buyer waited for its payment's
  answer, so the paid orders and tickets are exactly those answered (a crowd cut off by a
  deadline leaves payments that settle after it).
The database's unique index stops a second ticket row for a seat before any check could see it,
so "no seat twice" is judged from the answers: no seat in two answers that said "paid", and every
such answer backed by PostgreSQL's ticket row for that seat and order."""
import api


def answered_seats(paid):
    """{seat id: [order ids whose 200 answer named it]}."""
    out = {}
    for order, seats in paid.items():
        for seat in seats:
            out.setdefault(seat, []).append(order)
    return out


def sale_checks(pg, perf, seats, paid, sold_out=True, answers_complete=True):
    q = lambda sql: api.psql(pg, sql)  # noqa: E731
    owner = dict(l.split("|") for l in q(
        f"SELECT seat_id || '|' || order_id FROM tickets WHERE performance_id = '{perf}'").splitlines() if l)
    status = dict(l.split("|") for l in q(
        f"SELECT id || '|' || status FROM orders WHERE performance_id = '{perf}'").splitlines() if l)
    by_seat = answered_seats(paid)
    twice = {s: o for s, o in by_seat.items() if len(o) > 1}
    unbacked = {s: o[0] for s, o in by_seat.items() if owner.get(s) != o[0]}
    lost = {o: status.get(o) for o in paid if status.get(o) != "paid"}
    db_paid = sum(1 for v in status.values() if v == "paid")
    sold_rows = q(f"SELECT count(*) FROM performance_seats WHERE performance_id = '{perf}' AND state = 'sold'")
    bad = q(f"""SELECT count(*) FROM orders o WHERE o.performance_id = '{perf}' AND o.status = 'paid'
      AND (SELECT count(*) FROM provider_charges c WHERE c.order_ref = o.id AND c.status = 'charged') <> 1""")
    orphan = q(f"""SELECT count(*) FROM provider_charges c JOIN orders o ON o.id = c.order_ref
      WHERE o.performance_id = '{perf}' AND c.status = 'charged' AND o.status <> 'paid'""")
    checks = [
        ("no seat in two paid answers", not twice, twice),
        ("every paid answer backed by its ticket row", not unbacked, unbacked),
        ("every payment answered 200 is a paid order", not lost, lost),
        ("fence rows agree", sold_rows == str(len(owner)), f"{sold_rows} sold rows, {len(owner)} tickets"),
        ("exactly one charge per paid order", bad == "0", bad),
        ("no charge without a paid order", orphan == "0", orphan),
    ]
    if sold_out:
        checks.append(("every seat sold", len(owner) == seats, f"{len(owner)} tickets for {seats} seats"))
    if answers_complete:
        checks.append(("paid orders are those answered 200", db_paid == len(paid),
                       f"{db_paid} in db, {len(paid)} answered 200"))
        checks.append(("every ticket row answered to a buyer", len(by_seat) == len(owner),
                       f"{len(by_seat)} seats answered, {len(owner)} ticket rows"))
    return checks
