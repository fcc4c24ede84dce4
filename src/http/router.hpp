#pragma once
// Router: maps (method, exact path) to a handler. Routes are registered before the server starts
// and never change afterwards, so lookups need no locking.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.hpp"
#include "http/response_writer.hpp"

namespace kvsd::http {

// A handler owns the exchange until its coroutine returns. If it returns without finishing the
// response the dispatcher ends it (500 when nothing was sent yet).
using Handler = std::function<boost::asio::awaitable<void>(Request&, ResponseWriter&)>;

struct Route {
  std::string method;
  std::string path;
  std::string name;  // label used in logs and metrics, e.g. "healthz", "putMedia"
  Handler handler;
};

class Router {
 public:
  void add(std::string method, std::string path, std::string name, Handler handler);

  enum class Match { found, wrong_method, not_found };
  // On `found` the route is stored in *out.
  Match match(std::string_view method, std::string_view path, const Route** out) const;

 private:
  std::unordered_map<std::string, std::vector<Route>> by_path_;
};

}  // namespace kvsd::http
