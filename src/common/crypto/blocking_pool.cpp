#include "common/crypto/blocking_pool.hpp"

namespace tk::crypto {

BlockingPool::BlockingPool(int threads, std::size_t max_queue, std::size_t max_spare)
    : max_queue_(max_queue), max_spare_(max_spare) {
  const int n = threads < 1 ? 1 : threads;
  threads_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { worker(); });
}

BlockingPool::~BlockingPool() {
  std::deque<std::unique_ptr<Job>> left, left_spare;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    left.swap(queue_);
    left_spare.swap(spare_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& j : left) j->abandon();
  for (auto& j : left_spare) j->abandon();
}

std::size_t BlockingPool::queued() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

std::size_t BlockingPool::spare_in_flight() const {
  std::lock_guard lk(mu_);
  return spare_in_flight_;
}

bool BlockingPool::saturated() const {
  std::lock_guard lk(mu_);
  return stopping_ || queue_.size() >= max_queue_;
}

bool BlockingPool::try_push(std::unique_ptr<Job>& job, Lane lane) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    if (lane == Lane::normal) {
      if (queue_.size() >= max_queue_) return false;
      queue_.push_back(std::move(job));
    } else {
      if (spare_in_flight_ >= max_spare_) return false;
      ++spare_in_flight_;
      spare_.push_back(std::move(job));
    }
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::worker() {
  for (;;) {
    std::unique_ptr<Job> job;
    bool spare = false;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty() || !spare_.empty(); });
      if (stopping_) return;
      // Normal jobs first: spare work only fills threads that would otherwise idle.
      auto& from = queue_.empty() ? spare_ : queue_;
      spare = &from == &spare_;
      job = std::move(from.front());
      from.pop_front();
    }
    job->run();
    if (spare) {  // before the caller resumes, so it can count on the budget being back
      std::lock_guard lk(mu_);
      --spare_in_flight_;
    }
    job->finish();
  }
}

}  // namespace tk::crypto
