// The ticketing service (pattern B: one process runs the API and its background work).
#include <iostream>

#include "app/errors.hpp"
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
  tk::service::Service service(std::move(*cfg));
  if (auto s = service.prepare(); !s) {
    std::cerr << "ticketing: start-up failed: " << s.error().code.message() << "\n";
    return 1;
  }
  service.run();
  return 0;
}
