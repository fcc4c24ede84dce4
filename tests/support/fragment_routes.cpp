#include "fragment_routes.hpp"

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <vector>

#include "auth/canonical.hpp"
#include "exec/offload.hpp"
#include "http/aws_error.hpp"

namespace kvsd::testing {

namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string param(const http::Request& req, const std::string& key) {
  for (const auto& p : auth::parse_query(req.query, 20).params)
    if (p.key == key) return p.value;
  return {};
}

struct Listing {
  kvs::Error error{kvs::errc::internal, ""};
  bool ok = false;
  Json body;
};

Listing list_fragments(app::App& app, const std::string& name) {
  Listing out;
  auto info = app.streams().describe(kvs::StreamRef{name, ""});
  if (!info) {
    out.error = info.error();
    return out;
  }
  kvs::FragmentQuery q;
  q.stream_id = info->stream_id;
  q.kind = kvs::TimestampKind::producer;
  q.from_ms = std::numeric_limits<std::int64_t>::min();
  q.to_ms = std::numeric_limits<std::int64_t>::max();
  q.limit = 1000;
  Json list = Json::array();
  for (;;) {
    auto page = app.fragments().list(q);
    if (!page) {
      out.error = page.error();
      return out;
    }
    for (const auto& f : page->fragments) {
      auto bytes = app.fragments().read_cluster(f);
      auto header = app.fragments().read_header(f.stream_id, f.header_id);
      Json tracks = Json::array();
      for (const auto& t : f.tracks)
        tracks.push_back({{"TrackNumber", t.track_number}, {"Frames", t.frames}, {"KeyFrames", t.key_frames}});
      Json meta = Json::array();
      for (const auto& [k, v] : f.metadata) meta.push_back(Json::array({k, v}));
      list.push_back({{"FragmentNumber", f.fragment_number},
                      {"ClusterTimecode", f.cluster_timecode},
                      {"ProducerTimestampMs", f.producer_timestamp_ms},
                      {"ServerTimestampMs", f.server_timestamp_ms},
                      {"DurationMs", f.duration_ms},
                      {"SizeBytes", f.size_bytes},
                      {"Sha256", bytes ? sha256_hex(*bytes) : std::string("unreadable: ") + bytes.error().message},
                      {"HeaderSha256", header ? sha256_hex(*header) : std::string("unreadable")},
                      {"Tracks", tracks},
                      {"Metadata", meta}});
    }
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  out.ok = true;
  out.body = Json{{"Fragments", list}};
  return out;
}

struct Blob {
  kvs::Error error{kvs::errc::internal, ""};
  bool ok = false;
  std::string bytes;
};

Blob read_blob(app::App& app, const std::string& name, const std::string& number, bool header) {
  Blob out;
  auto info = app.streams().describe(kvs::StreamRef{name, ""});
  if (!info) {
    out.error = info.error();
    return out;
  }
  auto rec = app.fragments().get(info->stream_id, number);
  if (!rec || !*rec) {
    out.error = kvs::Error{kvs::errc::resource_not_found, "no such fragment"};
    return out;
  }
  auto bytes =
      header ? app.fragments().read_header((*rec)->stream_id, (*rec)->header_id) : app.fragments().read_cluster(**rec);
  if (!bytes) {
    out.error = bytes.error();
    return out;
  }
  out.ok = true;
  out.bytes.assign(bytes->begin(), bytes->end());
  return out;
}

}  // namespace

void add_fragment_routes(http::Router& router, app::App& app) {
  router.add("GET", "/_test/fragments", "TestFragments",
             [&app](http::Request& req, http::ResponseWriter& w) -> asio::awaitable<void> {
               const auto name = param(req, "stream");
               auto work = [&app, name] { return list_fragments(app, name); };
               auto r = co_await exec::offload(app.pool(), work);
               if (!r.ok) {
                 co_await http::send_error(w, r.error);
                 co_return;
               }
               http::Headers h;
               h.add("content-type", "application/json");
               co_await w.send(200, std::move(h), r.body.dump());
             });
  for (const bool header : {false, true}) {
    router.add("GET", header ? "/_test/header" : "/_test/fragment", header ? "TestHeader" : "TestFragment",
               [&app, header](http::Request& req, http::ResponseWriter& w) -> asio::awaitable<void> {
                 const auto name = param(req, "stream");
                 const auto number = param(req, "number");
                 auto work = [&app, name, number, header] { return read_blob(app, name, number, header); };
                 auto r = co_await exec::offload(app.pool(), work);
                 if (!r.ok) {
                   co_await http::send_error(w, r.error);
                   co_return;
                 }
                 http::Headers h;
                 h.add("content-type", "application/octet-stream");
                 co_await w.send(200, std::move(h), std::move(r.bytes));
               });
  }
}

}  // namespace kvsd::testing
