#pragma once
// The waiting-room status body, encoded by hand: it answers most requests of an on-sale, so it
// is built in one small string with no JSON tree. Same fields as API.md's status response.
#include <string>

#include "app/waiting_room.hpp"

namespace tk::http {

std::string status_body(const app::QueueStatus& s);

}  // namespace tk::http
