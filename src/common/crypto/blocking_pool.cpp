#include "common/crypto/blocking_pool.hpp"

namespace tk::crypto {

BlockingPool::BlockingPool(int threads, std::size_t max_queue) : max_queue_(max_queue) {
  const int n = threads < 1 ? 1 : threads;
  threads_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { worker(); });
}

BlockingPool::~BlockingPool() {
  std::deque<std::unique_ptr<Job>> left;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& j : left) j->abandon();
}

std::size_t BlockingPool::queued() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

bool BlockingPool::try_push(std::unique_ptr<Job>& job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::worker() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job->run();
  }
}

}  // namespace tk::crypto
