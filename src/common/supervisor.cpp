#include "common/supervisor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "common/log.hpp"

namespace tk {

namespace asio = boost::asio;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void count_failure(metrics::Registry* m, const std::string& task) {
  if (m) {
    m->counter("background_task_failures_total", "Background tasks that ended with an exception",
               {{"task", task}})
        .inc();
  }
}

}  // namespace

struct Supervisor::State {
  State(asio::any_io_executor e, metrics::Registry* m, SupervisorOptions o)
      : ex(std::move(e)), metrics(m), opt(o), idle(ex) {}
  asio::any_io_executor ex;
  metrics::Registry* metrics;
  SupervisorOptions opt;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> running{0};
  // Touched only on `ex`: sleeps to cut short on stop, and the timer close() waits on.
  std::set<asio::steady_timer*> sleepers;
  asio::steady_timer idle;

  void finished() {
    if (running.fetch_sub(1) == 1) idle.cancel();
  }
};

namespace {

asio::awaitable<void> run_task(std::shared_ptr<Supervisor::State> s, std::string name,
                               Supervisor::Body body, bool loop);

}  // namespace

Supervisor::Supervisor(asio::any_io_executor ex, metrics::Registry* metrics, SupervisorOptions o)
    : s_(std::make_shared<State>(std::move(ex), metrics, o)) {}

// Only the flag: the executor may already be gone, so nothing is posted to it.
Supervisor::~Supervisor() { s_->stopping = true; }

namespace {

void launch(const std::shared_ptr<Supervisor::State>& s, std::string name, Supervisor::Body body,
            bool loop) {
  if (s->stopping) return;
  s->running.fetch_add(1);
  asio::co_spawn(s->ex, run_task(s, name, std::move(body), loop), [s, name](std::exception_ptr e) {
    // run_task catches what its body throws; this sees only its own failures (allocation).
    if (e) {
      log::error("background task failed", {{"task", name}, {"error", describe_exception(e)}});
      count_failure(s->metrics, name);
    }
    s->finished();
  });
}

}  // namespace

void Supervisor::spawn_loop(std::string name, Body body) {
  launch(s_, std::move(name), std::move(body), true);
}

void Supervisor::spawn(std::string name, Body body) {
  launch(s_, std::move(name), std::move(body), false);
}

void Supervisor::request_stop() {
  if (s_->stopping.exchange(true)) return;
  asio::post(s_->ex, [s = s_] {
    for (auto* t : s->sleepers) t->cancel();
  });
}

bool Supervisor::stopping() const { return s_->stopping.load(); }

std::size_t Supervisor::running() const { return s_->running.load(); }

asio::awaitable<bool> Supervisor::sleep(std::chrono::milliseconds d) {
  auto s = s_;
  if (s->stopping) co_return false;
  asio::steady_timer t(s->ex, d);
  // Registered on the executor, like request_stop's cancel: either that cancel runs after this
  // and wakes the timer, or it ran before and `stopping` is already visible above.
  s->sleepers.insert(&t);
  co_await t.async_wait(kTuple);
  s->sleepers.erase(&t);
  co_return !s->stopping;
}

asio::awaitable<void> Supervisor::close() {
  auto s = s_;
  request_stop();
  while (s->running.load() > 0) {
    s->idle.expires_at(asio::steady_timer::time_point::max());
    if (s->running.load() == 0) break;
    co_await s->idle.async_wait(kTuple);
  }
}

namespace {

asio::awaitable<void> run_task(std::shared_ptr<Supervisor::State> s, std::string name,
                               Supervisor::Body body, bool loop) {
  auto backoff = s->opt.backoff_min;
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    std::exception_ptr failure;
    try {
      co_await body();
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) co_return;
    count_failure(s->metrics, name);
    if (!loop || s->stopping) {
      log::error("background task failed",
                 {{"task", name}, {"error", describe_exception(failure)}});
      co_return;
    }
    if (std::chrono::steady_clock::now() - started >= s->opt.backoff_max) {
      backoff = s->opt.backoff_min;
    }
    log::error("background task failed",
               {{"task", name},
                {"error", describe_exception(failure)},
                {"restart_in_ms", static_cast<std::int64_t>(backoff.count())}});
    asio::steady_timer t(s->ex, backoff);
    s->sleepers.insert(&t);
    co_await t.async_wait(kTuple);
    s->sleepers.erase(&t);
    if (s->stopping) co_return;
    backoff = std::min(backoff * 2, s->opt.backoff_max);
  }
}

}  // namespace

std::string describe_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

std::function<void(std::exception_ptr)> log_failure(std::string what, metrics::Registry* metrics) {
  return [what = std::move(what), metrics](std::exception_ptr e) {
    if (!e) return;
    log::error("background task failed", {{"task", what}, {"error", describe_exception(e)}});
    count_failure(metrics, what);
  };
}

}  // namespace tk
