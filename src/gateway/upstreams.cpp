#include "gateway/upstreams.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "common/log.hpp"
#include "http/deadline.hpp"

namespace tk::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::optional<std::vector<tcp::endpoint>> parse_upstreams(std::string_view list) {
  std::vector<tcp::endpoint> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    auto colon = item.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = item.substr(0, colon), port_s = item.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
    if (ec != std::errc{} || p != port_s.data() + port_s.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    boost::system::error_code aec;
    auto addr = asio::ip::make_address(std::string(host), aec);
    if (aec) return std::nullopt;
    out.emplace_back(addr, static_cast<unsigned short>(port));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Upstreams::Upstreams(std::vector<tcp::endpoint> eps, HealthOptions o, metrics::Registry* metrics)
    : opt_(o), metrics_(metrics) {
  for (auto& ep : eps) entries_.push_back(std::make_unique<Entry>(ep, opt_));
}

std::size_t Upstreams::healthy_count() const {
  std::size_t n = 0;
  for (const auto& e : entries_) n += e->healthy.load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

void Upstreams::report_failure(std::size_t i) {
  auto& e = *entries_[i];
  e.failed.store(true, std::memory_order_relaxed);
  if (e.healthy.exchange(false, std::memory_order_relaxed)) {
    log::warn("upstream out after a failed forward",
              {{"upstream", e.ep.address().to_string() + ":" + std::to_string(e.ep.port())}});
  }
}

void Upstreams::apply(Entry& e, bool ok) {
  // A forward failure since the last check counts as a fall at once: the checks must see it
  // answer `rise` times before traffic returns.
  if (e.failed.exchange(false, std::memory_order_relaxed)) e.state.mark_down();
  if (e.state.observe(ok)) {
    log::info(e.state.healthy() ? "upstream healthy" : "upstream out after failed checks",
              {{"upstream", e.ep.address().to_string() + ":" + std::to_string(e.ep.port())}});
  }
  e.healthy.store(e.state.healthy(), std::memory_order_relaxed);
  if (metrics_) {
    metrics_
        ->gauge("gateway_upstream_healthy", "1 when the API process passes its /readyz checks",
                {{"upstream", e.ep.address().to_string() + ":" + std::to_string(e.ep.port())}})
        .set(e.state.healthy() ? 1 : 0);
  }
}

asio::awaitable<bool> Upstreams::check_one(const tcp::endpoint& ep) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  http::Deadline deadline(ex, sock);
  deadline.expire_after(opt_.timeout);
  auto [cec] = co_await sock.async_connect(ep, kTuple);
  if (cec) co_return false;
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, "/readyz", 11};
  req.set(beast::http::field::host, ep.address().to_string());
  req.keep_alive(false);
  auto [wec, wn] = co_await beast::http::async_write(sock, req, kTuple);
  if (wec) co_return false;
  beast::flat_buffer buf;
  beast::http::response<beast::http::string_body> res;
  auto [rec, rn] = co_await beast::http::async_read(sock, buf, res, kTuple);
  boost::system::error_code ignored;
  sock.close(ignored);
  co_return !rec && res.result() == beast::http::status::ok;
}

asio::awaitable<void> Upstreams::check_loop(Supervisor& sup) {
  while (!sup.stopping()) {
    for (auto& e : entries_) {
      bool ok = co_await check_one(e->ep);
      apply(*e, ok);
    }
    if (!co_await sup.sleep(opt_.interval)) break;
  }
}

}  // namespace tk::gateway
