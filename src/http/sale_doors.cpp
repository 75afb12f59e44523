#include "http/sale_doors.hpp"

#include <algorithm>

namespace tk::http {

SaleDoors add_sale_doors(Router& r, const DoorOptions& o,
                         const std::function<bool()>& database_full) {
  SaleDoors d;
  if (o.target.count() <= 0) return d;
  DoorOptions measured = o;
  measured.sheds = false;
  // Their 503s (a pool or store short) ask back within seconds: a buyer paying keeps a hold that
  // runs out in minutes, and is not sent away as long as a crowd at the door may be.
  measured.max_retry_after_s = std::min(o.max_retry_after_s, kMeasuredMaxRetryAfterS);
  d.poll = r.add_door("poll", measured);
  d.hold = r.add_door("hold", measured);
  d.order = r.add_door("order", measured, {}, database_full);
  d.payment = r.add_door("payment", measured, {}, database_full);
  d.join = r.add_door("join", o, {d.poll, d.hold, d.order, d.payment});
  return d;
}

}  // namespace tk::http
