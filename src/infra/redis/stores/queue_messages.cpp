#include "infra/redis/stores/queue_messages.hpp"

#include <array>
#include <charconv>

namespace tk::redisstore {

QueueMessage parse_queue_message(std::string_view msg) {
  std::array<std::string_view, 10> f;
  std::size_t n = 0;
  while (true) {
    if (n == f.size()) return {};  // more fields than any message has
    auto bar = msg.find('|');
    f[n++] = msg.substr(0, bar);
    if (bar == std::string_view::npos) break;
    msg.remove_prefix(bar + 1);
  }
  QueueMessage m;
  if (f[0].empty()) return m;
  if (n == 2 && f[1] == "sold_out") {
    m.kind = QueueMessage::Kind::sold_out;
    m.perf = f[0];
    return m;
  }
  if (n == 3 && f[1] == "left") {
    std::vector<std::int64_t> positions;
    std::string_view list = f[2];
    while (true) {
      auto comma = list.find(',');
      auto item = list.substr(0, comma);
      std::int64_t pos = 0;
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), pos);
      if (ec != std::errc() || end != item.data() + item.size() || pos <= 0) return m;
      positions.push_back(pos);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    m.kind = QueueMessage::Kind::left;
    m.perf = f[0];
    m.positions = std::move(positions);
    return m;
  }
  if (n != 10 && n != 9 && n != 7) return m;
  std::array<std::int64_t, 10> v{};
  for (std::size_t i = 1; i < n; ++i) {
    auto [end, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), v[i]);
    if (ec != std::errc() || end != f[i].data() + f[i].size()) return m;
  }
  m.kind = QueueMessage::Kind::tick;
  m.perf = f[0];
  m.tick = app::AdmissionTick{v[1], v[2], v[3], v[4], v[6]};
  m.tail = v[5];
  if (n >= 9) m.gap = app::QueueGap{v[7], v[8]};
  if (n == 10) m.tick.abandoned = v[9];
  return m;
}

void apply_queue_message(std::string_view msg, app::QueueView& view, Millis now) {
  auto m = parse_queue_message(msg);
  switch (m.kind) {
    case QueueMessage::Kind::tick:
      view.apply_tick(std::string(m.perf), m.tick, m.tail, now, m.gap);
      break;
    case QueueMessage::Kind::sold_out:
      view.mark_sold_out(m.perf);
      break;
    case QueueMessage::Kind::left:
      view.add_left(m.perf, m.positions);
      break;
    case QueueMessage::Kind::unknown:
      break;
  }
}

}  // namespace tk::redisstore
