#include "obs/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace kvsd::obs {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0) sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

double Histogram::sum() const noexcept { return static_cast<double>(sum_micros_.load()) / 1e6; }

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
  return *counters_.back();
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
  return *gauges_.back();
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<double> bounds,
                                     std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  histograms_.push_back(
      std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(labels), std::move(bounds)));
  return *histograms_.back();
}

namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const std::vector<std::string>& names, const Labels& values, const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ',';
    out += names[i] + "=\"" + escape(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ',';
    out += extra;
  }
  return out.empty() ? std::string{} : "{" + out + "}";
}

// Shortest text that reads back as the same double.
std::string number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

template <class F>
void header(std::ostringstream& os, const F& fam, const char* type) {
  os << "# HELP " << fam.name() << ' ' << fam.help() << '\n' << "# TYPE " << fam.name() << ' ' << type << '\n';
}

}  // namespace

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::ostringstream os;
  for (const auto& fam : counters_) {
    header(os, *fam, "counter");
    fam->for_each([&](const Labels& l, const Counter& c) {
      os << fam->name() << label_text(fam->label_names(), l) << ' ' << c.value() << '\n';
    });
  }
  for (const auto& fam : gauges_) {
    header(os, *fam, "gauge");
    fam->for_each([&](const Labels& l, const Gauge& g) {
      os << fam->name() << label_text(fam->label_names(), l) << ' ' << g.value() << '\n';
    });
  }
  for (const auto& fam : histograms_) {
    header(os, *fam, "histogram");
    fam->for_each([&](const Labels& l, const Histogram& h) {
      auto cum = h.cumulative();
      for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        os << fam->name() << "_bucket" << label_text(fam->label_names(), l, "le=\"" + number(h.bounds()[i]) + "\"")
           << ' ' << cum[i] << '\n';
      }
      os << fam->name() << "_bucket" << label_text(fam->label_names(), l, "le=\"+Inf\"") << ' ' << cum.back() << '\n';
      os << fam->name() << "_sum" << label_text(fam->label_names(), l) << ' ' << number(h.sum()) << '\n';
      os << fam->name() << "_count" << label_text(fam->label_names(), l) << ' ' << h.count() << '\n';
    });
  }
  return os.str();
}

}  // namespace kvsd::obs
