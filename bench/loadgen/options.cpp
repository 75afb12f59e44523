#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace loadgen {

namespace {

constexpr const char* kUsage = R"(usage: loadgen --perf PID --tokens FILE [options]
Simulated buyers through the HTTP API (see bench/loadgen/README.md).
  --url URL              service base URL (http://127.0.0.1:8080)
  --perf PID             performance id
  --tokens FILE          lines `<account_num> <account_id> <session_token>` (bench/seed)
  --scenario S           flash (full journey, default) | join | poll | hold | order
  --buyers N             buyers to simulate (100000; at most the lines of FILE)
  --mode M               open (fixed arrival rate, default) | closed (fixed number in flight)
  --rate R               open: buyer arrivals/s (flash) or requests/s (steps) (10000)
  --concurrency K        closed: buyers (flash) or requests (steps) in flight (256)
  --connections C        keep-alive connections shared by all buyers (256; closed steps: K)
  --threads T            io threads, each with its share of buyers and connections (1)
  --duration S           steps: measured phase in seconds, 0 = until buyers run out (10)
  --timeout S            flash: stop after S seconds (600)
  --poll-scale F         multiply the status Retry-After by F (1; tests use < 1)
  --first-poll S         first status poll S s after a `waiting` join without Retry-After (1)
  --seat-retry S         re-read the seat map after S s when none is free (1, scaled)
  --whole-map            flash: read the whole seat map (default: the section summary, then
                         one section, as a big venue's buyers do)
  --seat-weights a,b,c,d relative weights of buyers wanting 1..4 seats (30,40,10,20)
  --p-taken F            fraction whose first hold includes a seat shown taken (0.10)
  --p-abandon F          fraction who release their hold (0.05)
  --p-expire F           fraction who let their hold expire (0.05)
  --p-silent F           flash: fraction who stop polling once they have a position and never
                         come back; their places are polled once after the run (0)
  --max-hold-retries N   new picks after a 409 on a hold (3)
  --card-token T         card token for payments (tok_ok)
  --admin-token T        read queue settings and stats; hold/order: PATCH the queue to admit fast
  --pg-url URL           after the run: double sales, charges per order, rows written per sale
  --redis-url URL        Redis used_memory before/after the joins, and (flash) the waiting
                         room's own keys at the end, per waiting buyer
  --json FILE            machine-readable report
  --positions FILE       flash: `buyer position entry_id admitted` per buyer given a place
  --assert               exit 1 unless every seat sold once (when demand exceeded capacity),
                         one charge per paid order, 0 admission inversions in position order,
                         every place known to its buyer, no sale to a buyer passed over
  --seed N               random seed (1)
  --quiet                no progress lines
)";

[[noreturn]] void usage(const char* err = nullptr) {
  if (err) std::fprintf(stderr, "loadgen: %s\n", err);
  std::fputs(kUsage, err ? stderr : stdout);
  std::exit(err ? 2 : 0);
}

double num(const char* v, const char* name) {
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || d < 0) {
    std::string e = std::string("bad number for ") + name + ": " + v;
    usage(e.c_str());
  }
  return d;
}

}  // namespace

const char* to_string(Scenario s) {
  switch (s) {
    case Scenario::flash:
      return "flash";
    case Scenario::join:
      return "join";
    case Scenario::poll:
      return "poll";
    case Scenario::hold:
      return "hold";
    case Scenario::order:
      return "order";
  }
  return "?";
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") usage();
    if (a == "--assert") {
      o.check = true;
      continue;
    }
    if (a == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (a == "--whole-map") {
      o.whole_map = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + std::string(a)).c_str());
    const char* v = argv[++i];
    std::string_view sv = v;
    if (a == "--url") {
      o.url = v;
    } else if (a == "--perf") {
      o.perf = v;
    } else if (a == "--tokens") {
      o.tokens = v;
    } else if (a == "--scenario") {
      if (sv == "flash") {
        o.scenario = Scenario::flash;
      } else if (sv == "join") {
        o.scenario = Scenario::join;
      } else if (sv == "poll") {
        o.scenario = Scenario::poll;
      } else if (sv == "hold") {
        o.scenario = Scenario::hold;
      } else if (sv == "order") {
        o.scenario = Scenario::order;
      } else {
        usage("unknown scenario");
      }
    } else if (a == "--mode") {
      if (sv == "open") {
        o.mode = Mode::open;
      } else if (sv == "closed") {
        o.mode = Mode::closed;
      } else {
        usage("mode is open or closed");
      }
    } else if (a == "--buyers") {
      o.buyers = static_cast<std::size_t>(num(v, "--buyers"));
    } else if (a == "--rate") {
      o.rate = num(v, "--rate");
    } else if (a == "--concurrency") {
      o.concurrency = static_cast<std::size_t>(num(v, "--concurrency"));
    } else if (a == "--connections") {
      o.connections = static_cast<std::size_t>(num(v, "--connections"));
    } else if (a == "--threads") {
      o.threads = static_cast<int>(num(v, "--threads"));
    } else if (a == "--duration") {
      o.duration_s = num(v, "--duration");
    } else if (a == "--timeout") {
      o.timeout_s = num(v, "--timeout");
    } else if (a == "--poll-scale") {
      o.poll_scale = num(v, "--poll-scale");
    } else if (a == "--first-poll") {
      o.first_poll_s = num(v, "--first-poll");
    } else if (a == "--seat-retry") {
      o.seat_retry_s = num(v, "--seat-retry");
    } else if (a == "--seat-weights") {
      std::string s = v;
      std::size_t k = 0, p = 0;
      while (k < 4) {
        auto c = s.find(',', p);
        o.seat_weights[k++] = num(s.substr(p, c - p).c_str(), "--seat-weights");
        if (c == std::string::npos) break;
        p = c + 1;
      }
      while (k < 4) o.seat_weights[k++] = 0;
    } else if (a == "--p-taken") {
      o.p_taken = num(v, "--p-taken");
    } else if (a == "--p-abandon") {
      o.p_abandon = num(v, "--p-abandon");
    } else if (a == "--p-expire") {
      o.p_expire = num(v, "--p-expire");
    } else if (a == "--p-silent") {
      o.p_silent = num(v, "--p-silent");
    } else if (a == "--max-hold-retries") {
      o.max_hold_retries = static_cast<int>(num(v, "--max-hold-retries"));
    } else if (a == "--card-token") {
      o.card_token = v;
    } else if (a == "--admin-token") {
      o.admin_token = v;
    } else if (a == "--pg-url") {
      o.pg_url = v;
    } else if (a == "--redis-url") {
      o.redis_url = v;
    } else if (a == "--json") {
      o.json_out = v;
    } else if (a == "--positions") {
      o.positions_out = v;
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(num(v, "--seed"));
    } else {
      usage(("unknown option " + std::string(a)).c_str());
    }
  }
  if (o.perf.empty()) usage("--perf is required");
  if (o.tokens.empty()) usage("--tokens is required");
  if (o.threads < 1) o.threads = 1;
  if (o.concurrency < 1) o.concurrency = 1;
  if (o.rate <= 0 && o.mode == Mode::open) usage("--rate must be > 0 in open mode");
  if (o.p_abandon + o.p_expire > 1) usage("--p-abandon + --p-expire must be <= 1");
  if (o.p_silent > 1) usage("--p-silent must be <= 1");
  double w = 0;
  for (double x : o.seat_weights) w += x;
  if (w <= 0) usage("--seat-weights must have a positive weight");
  // http://host[:port][/]
  std::string_view u = o.url;
  if (u.substr(0, 7) != "http://") usage("--url must start with http://");
  u.remove_prefix(7);
  if (auto s = u.find('/'); s != std::string_view::npos) u = u.substr(0, s);
  auto c = u.rfind(':');
  o.host = std::string(u.substr(0, c));
  o.port = c == std::string_view::npos ? "80" : std::string(u.substr(c + 1));
  return o;
}

}  // namespace loadgen
