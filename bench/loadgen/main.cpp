// loadgen: simulated buyers through the real HTTP API. See README.md for the CLI and the report.
#include <barrier>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <thread>

#include "checks.hpp"
#include "clock.hpp"
#include "flash.hpp"
#include "presence.hpp"
#include "report.hpp"
#include "steps.hpp"

using namespace loadgen;

namespace {
// `buyer position entry_id admitted` for every buyer given a place or a pre-queue entry: what the
// buyers were told, to compare with the published order (tools/verify_prequeue.py).
bool write_positions(const Run& run, const std::string& path) {
  FILE* out = std::fopen(path.c_str(), "w");
  if (!out) return false;
  for (std::size_t i = 0; i < run.n; ++i) {
    if (run.position[i] == 0 && run.entry[i] == 0) continue;
    char entry[17] = "-";
    if (run.entry[i] != 0) std::snprintf(entry, sizeof entry, "%016" PRIx64, run.entry[i]);
    std::fprintf(out, "%zu %" PRIu32 " %s %d\n", i, run.position[i], entry,
                 run.admitted_recv[i] != kNever ? 1 : 0);
  }
  return std::fclose(out) == 0;
}
}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.opt = parse_options(argc, argv);
  const auto& o = run.opt;
  try {
    run.tokens.load(o.tokens, o.buyers);
    run.n = run.tokens.size();
    if (run.n == 0) throw std::runtime_error("no buyer in " + o.tokens);
    if (run.n < o.buyers) {
      std::fprintf(stderr, "loadgen: only %zu buyers in %s\n", run.n, o.tokens.c_str());
    }
    asio::io_context io;
    tcp::resolver res(io);
    run.ep = *res.resolve(o.host, o.port).begin();
    run.perf = fetch_perf(o);
    run.paths = std::make_unique<Paths>(o.host + ":" + o.port, o.perf);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 2;
  }
  run.position.assign(run.n, 0);
  run.entry.assign(o.scenario == Scenario::flash ? run.n : 0, 0);
  run.admitted_recv.assign(run.n, kNever);
  run.waiting_sent.assign(run.n, std::numeric_limits<std::int64_t>::min());
  if (!o.pg_url.empty()) run.pg_before = pg_rows_written(o.pg_url);
  if (!o.redis_url.empty()) run.redis_before = redis_used_memory(o.redis_url);

  std::vector<Result> results(static_cast<std::size_t>(o.threads));
  StepShared shared;
  shared.buyers.resize(o.scenario == Scenario::flash ? 0 : run.n);
  std::barrier<> barrier(o.threads);
  run.t0 = now_ns();
  {
    std::vector<std::jthread> threads;
    for (int s = 0; s < o.threads; ++s) {
      threads.emplace_back([&, s] {
        results[static_cast<std::size_t>(s)] =
            o.scenario == Scenario::flash ? run_flash(run, s) : run_steps(run, shared, s, barrier);
      });
    }
  }
  if (!shared.setup_error.empty()) {
    std::fprintf(stderr, "loadgen: setup failed: %s\n", shared.setup_error.c_str());
  }

  Findings f;
  for (const auto& r : results) f.total.merge(r);
  if (o.scenario == Scenario::flash) {
    f.inv = count_inversions(run);
    if (!f.total.silent.empty() || !f.total.passed_over.empty() || o.p_silent > 0) {
      f.presence = check_presence(run, f.total);
    }
    if (!o.positions_out.empty() && !write_positions(run, o.positions_out)) {
      std::fprintf(stderr, "loadgen: cannot write %s\n", o.positions_out.c_str());
      return 2;
    }
  }
  if (run.redis_after_joins >= 0) f.redis_after_joins = run.redis_after_joins.load();
  if (o.scenario == Scenario::flash && !o.redis_url.empty()) {
    f.redis_queue_bytes = redis_queue_bytes(o.redis_url, o.perf);
  }
  if (!o.pg_url.empty()) {
    try {
      f.pg = pg_findings(o.pg_url, o.perf);
    } catch (const std::exception& e) {
      f.pg_error = e.what();
    }
    if (f.total.orders_paid > 0) f.pg_after = pg_rows_written_settled(o.pg_url);
  }
  int rc = report(run, f);
  if (rc == 0 && !shared.setup_error.empty()) rc = 1;
  return rc;
}
