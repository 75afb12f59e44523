#pragma once
// Internal: completing an Asio handler from a broker thread. The result is handed to the
// handler's associated executor (the awaiting coroutine's), never run on the broker thread; a
// tracked executor keeps that io_context from running out of work while the caller waits.
#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <utility>

namespace tk::amqp::detail {

namespace asio = boost::asio;

template <class R>
struct Waiter {
  asio::any_completion_handler<void(R)> handler;
  asio::any_completion_executor work;  // tracked: outstanding work until the handler ran

  Waiter(asio::any_completion_handler<void(R)> h, const asio::any_io_executor& fallback)
      : handler(std::move(h)),
        work(asio::prefer(asio::get_associated_executor(handler, fallback),
                          asio::execution::outstanding_work.tracked)) {}

  // From a thread that does not run the handler's executor (the broker thread): the handler
  // is queued there. Call at most once.
  void complete(R r) {
    auto ex = work;
    ex.execute([h = std::move(handler), w = std::move(work), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
  }
  // From the caller's own thread (an answer known at once): through `via` first, so the
  // handler never runs inside the initiating call.
  void complete_later(const asio::any_io_executor& via, R r) {
    asio::post(via, [self = std::move(*this), r = std::move(r)]() mutable {
      self.complete(std::move(r));
    });
  }
};

}  // namespace tk::amqp::detail
