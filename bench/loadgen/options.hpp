#pragma once
// Command line of loadgen (documented in README.md; bench/run.sh relies on it: keep it stable).
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace loadgen {

enum class Scenario { flash, join, poll, hold, order };
enum class Mode { open, closed };

struct Options {
  std::string url = "http://127.0.0.1:8080";
  std::string host;  // from url
  std::string port;  // from url
  std::string perf;
  std::string tokens;
  Scenario scenario = Scenario::flash;
  Mode mode = Mode::open;
  std::size_t buyers = 100000;
  double rate = 10000;  // open loop: buyer arrivals (flash) or requests (steps) per second
  std::size_t concurrency = 256;  // closed loop: buyers (flash) or requests (steps) in flight
  std::optional<std::size_t> connections;  // default 256 (flash, open steps) or K (closed steps)
  int threads = 1;
  double duration_s = 10;  // steps: length of the measured phase (0: until the buyers run out)
  double timeout_s = 600;  // flash: give up after this long
  double poll_scale = 1.0;
  double first_poll_s = 1.0;  // after a join answered `waiting`
  double seat_retry_s = 1.0;  // admitted, no free seat on the map (some held): look again
  bool whole_map = false;     // flash: GET .../seats (all) instead of .../sections + one section
  std::array<double, 4> seat_weights{30, 40, 10, 20};  // buyers wanting 1, 2, 3, 4 seats
  double p_taken = 0.10;
  double p_abandon = 0.05;
  double p_expire = 0.05;
  // Flash: buyers who stop polling once they have a position and never come back (closed tabs;
  // with a presence timeout the service passes them over).
  double p_silent = 0;
  int max_hold_retries = 3;
  std::string card_token = "tok_ok";
  std::string admin_token;
  std::string pg_url;
  std::string redis_url;
  std::string json_out;
  std::string positions_out;  // flash: `buyer position entry_id admitted` per buyer with a place
  bool check = false;         // --assert
  bool quiet = false;
  std::uint64_t seed = 1;
};

// Parses argv; prints usage and exits on --help or an error.
Options parse_options(int argc, char** argv);
const char* to_string(Scenario s);

}  // namespace loadgen
