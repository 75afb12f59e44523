#include "app/deps.hpp"

#include <cstdlib>

namespace tk::app {

void fault_point([[maybe_unused]] const Shared& s, [[maybe_unused]] FaultPoint p) {
#ifdef TK_TEST_HOOKS
  if (s.fault == p && p != FaultPoint::none) std::_Exit(137);
#endif
}

}  // namespace tk::app
