// The ticketing service: one process per role (TICKETING_ROLE: all, api, worker, gateway).
#include <iostream>

#include "app/errors.hpp"
#include "common/log.hpp"
#include "common/log_async.hpp"
#include "main/config.hpp"
#include "main/service.hpp"

int main() {
  auto cfg = tk::service::load_config();
  if (!cfg) {
    const auto& d = cfg.error().details;
    std::cerr << "ticketing: configuration error: " << cfg.error().code.message();
    if (auto* f = d.if_contains("field")) std::cerr << " (" << f->as_string().c_str() << ")";
    if (auto* r = d.if_contains("reason")) std::cerr << ": " << r->as_string().c_str();
    std::cerr << "\n";
    return 2;
  }
  // Log lines leave the request threads through one writer thread from here on.
  tk::log::start_async(static_cast<std::size_t>(cfg->log_buffer_kib) * 1024);
  int rc = 0;
  {
    tk::service::Service service(std::move(*cfg));
    if (auto s = service.prepare(); !s) {
      tk::log::flush();
      std::cerr << "ticketing: start-up failed: " << s.error().code.message() << "\n";
      rc = 1;
    } else {
      service.run();
    }
  }
  tk::log::stop_async();  // every line accepted so far is written before the process exits
  return rc;
}
