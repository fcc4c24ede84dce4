#include "http/router.hpp"

#include <stdexcept>

namespace kvsd::http {

void Router::add(std::string method, std::string path, std::string name, Handler handler) {
  auto& routes = by_path_[path];
  for (const auto& r : routes) {
    if (r.method == method) throw std::logic_error("duplicate route " + method + " " + path);
  }
  routes.push_back(Route{std::move(method), std::move(path), std::move(name), std::move(handler)});
}

Router::Match Router::match(std::string_view method, std::string_view path, const Route** out) const {
  auto it = by_path_.find(std::string(path));
  if (it == by_path_.end()) return Match::not_found;
  for (const auto& r : it->second) {
    if (r.method == method) {
      *out = &r;
      return Match::found;
    }
  }
  return Match::wrong_method;
}

}  // namespace kvsd::http
