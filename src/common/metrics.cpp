#include "common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tk::metrics {
namespace {

bool valid_name(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* type_name(int t) {
  switch (t) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip form: integers print as "42", fractions without trailing noise.
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// ---- Histogram ----

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  // +Inf is implicit: an explicit one would render twice.
  while (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double seconds) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);  // first bound >= v
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Histogram::cumulative(std::size_t i) const {
  std::uint64_t n = 0;
  for (std::size_t k = 0; k <= i && k <= bounds_.size(); ++k) {
    n += buckets_[k].load(std::memory_order_relaxed);
  }
  return n;
}

std::vector<double> Histogram::default_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- Registry ----

struct Registry::Series {
  std::string labels;  // pre-rendered `a="x",b="y"` (no braces), sorted by label name
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

struct Registry::Family {
  Type type;
  std::string help;
  std::vector<double> buckets;
  std::map<std::string, std::unique_ptr<Series>, std::less<>> series;  // key: rendered labels
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Series& Registry::series(Type t, std::string name, std::string help, Labels labels,
                                   std::vector<double>* buckets) {
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name: " + name);
  std::sort(labels.begin(), labels.end());
  std::string key;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& [k, v] = labels[i];
    // "le" is reserved for histogram buckets; names starting "__" are reserved by Prometheus.
    if (!valid_name(k, false) || k.rfind("__", 0) == 0 || (t == Type::histogram && k == "le")) {
      throw std::invalid_argument("invalid label name: " + k);
    }
    if (i > 0 && labels[i - 1].first == k) throw std::invalid_argument("duplicate label: " + k);
    if (i > 0) key += ',';
    key += k;
    key += "=\"";
    key += escape_label_value(v);
    key += '"';
  }

  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) {
    auto f = std::make_unique<Family>();
    f->type = t;
    f->help = std::move(help);
    if (t == Type::histogram) {
      f->buckets = (buckets && !buckets->empty()) ? *buckets : Histogram::default_buckets();
    }
    fit = families_.emplace(std::move(name), std::move(f)).first;
  } else if (fit->second->type != t) {
    throw std::logic_error("metric " + name + " already registered with another type");
  }
  Family& fam = *fit->second;
  auto sit = fam.series.find(key);
  if (sit != fam.series.end()) return *sit->second;
  auto s = std::make_unique<Series>();
  s->labels = key;
  switch (t) {
    case Type::counter:
      s->counter = std::make_unique<Counter>();
      break;
    case Type::gauge:
      s->gauge = std::make_unique<Gauge>();
      break;
    case Type::histogram:
      s->histogram = std::make_unique<Histogram>(fam.buckets);
      break;
  }
  return *fam.series.emplace(std::move(key), std::move(s)).first->second;
}

Counter& Registry::counter(std::string name, std::string help, Labels labels) {
  return *series(Type::counter, std::move(name), std::move(help), std::move(labels), nullptr)
              .counter;
}

Gauge& Registry::gauge(std::string name, std::string help, Labels labels) {
  return *series(Type::gauge, std::move(name), std::move(help), std::move(labels), nullptr).gauge;
}

Histogram& Registry::histogram(std::string name, std::string help, Labels labels,
                               std::vector<double> buckets) {
  return *series(Type::histogram, std::move(name), std::move(help), std::move(labels), &buckets)
              .histogram;
}

void Registry::add_collector(std::function<void(Registry&)> f) {
  std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::move(f));
}

std::string Registry::render() {
  std::vector<std::function<void(Registry&)>> collectors;
  {
    std::lock_guard lock(collectors_mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);

  std::string out;
  out.reserve(4096);
  auto braces = [](const std::string& labels) {
    return labels.empty() ? std::string() : "{" + labels + "}";
  };
  std::lock_guard lock(mu_);
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + escape_help(fam->help) + "\n";
    out += "# TYPE " + name + " " + type_name(static_cast<int>(fam->type)) + "\n";
    for (const auto& [key, s] : fam->series) {
      if (s->counter) {
        out += name + braces(key) + " " + format_value(s->counter->value()) + "\n";
      } else if (s->gauge) {
        out += name + braces(key) + " " + format_value(s->gauge->value()) + "\n";
      } else {
        const Histogram& h = *s->histogram;
        std::string prefix = key.empty() ? std::string() : key + ",";
        // Read buckets in order and derive +Inf/_count from the same snapshot, so a concurrent
        // observe() can never make the rendered buckets non-monotonic.
        std::uint64_t cum = 0;
        for (std::size_t i = 0; i < h.bounds().size(); ++i) {
          cum = std::max(cum, h.cumulative(i));
          out += name + "_bucket{" + prefix + "le=\"" + format_value(h.bounds()[i]) + "\"} " +
                 std::to_string(cum) + "\n";
        }
        cum = std::max(cum, h.cumulative(h.bounds().size()));
        out += name + "_bucket{" + prefix + "le=\"+Inf\"} " + std::to_string(cum) + "\n";
        out += name + "_sum" + braces(key) + " " + format_value(h.sum()) + "\n";
        out += name + "_count" + braces(key) + " " + std::to_string(cum) + "\n";
      }
    }
  }
  return out;
}

}  // namespace tk::metrics
