#include "obs/metrics.hpp"

#include <gtest/gtest.h>

namespace kvsd::obs {
namespace {

TEST(Metrics, RendersCountersGaugesHistograms) {
  Registry r;
  auto& c = r.counter("kvsd_test_total", "A counter.", {"route", "status"});
  c.with({"healthz", "200"}).inc(3);
  r.gauge("kvsd_test_open", "A gauge.").with({}).set(7);
  auto& hf = r.histogram("kvsd_test_seconds", "A histogram.", {0.1, 1.0}, {"route"});
  auto& h = hf.with({"x"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const auto text = r.render();
  EXPECT_NE(text.find("# TYPE kvsd_test_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_total{route=\"healthz\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_open 7\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_seconds_bucket{route=\"x\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_seconds_bucket{route=\"x\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_seconds_bucket{route=\"x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_seconds_count{route=\"x\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kvsd_test_seconds_sum{route=\"x\"} 5.55\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) {
  Registry r;
  r.counter("kvsd_esc_total", "Escapes.", {"v"}).with({"a\"b\\c\nd"}).inc();
  EXPECT_NE(r.render().find("kvsd_esc_total{v=\"a\\\"b\\\\c\\nd\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace kvsd::obs
