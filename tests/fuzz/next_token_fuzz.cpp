// libFuzzer target for the paging tokens kvsd hands out and takes back: the ListFragments
// NextToken (src/api/list_fragments_token.*), the fragment store's list cursor inside it
// (storage::encode_cursor / decode_cursor, src/storage/key_codec.*) and the base64 forms both
// rest on (include/kvs/base64.hpp; ListStreams' token is plain standard base64 of a name).
//
// Input: used twice. As a token: the bytes are the text a client sends. As a value: c0 bit 0 is
// the timestamp kind, the next 16 bytes from_ms and to_ms, the rest the store cursor.
// Oracle: decoding arbitrary text never crashes; base64 decoding takes only canonical text
// (decode(t) succeeds => encode(decode(t)) == t, in both forms) and encode then decode gives the
// bytes back; encoded text uses only its alphabet; a decoded ListFragments token re-encodes to a
// token that decodes to the same query; encode_list_fragments_token(q, cursor) decodes to q and
// cursor exactly, and passes the API's NextToken check (is_base64_token) when short enough;
// decode_cursor(encode_cursor(key)) == key.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/list_fragments_token.hpp"
#include "fuzz_support.hpp"
#include "kvs/base64.hpp"
#include "storage/key_codec.hpp"

namespace {

using kvsd::fuzz::check;

constexpr std::size_t kMaxNextTokenChars = 4096;  // list_fragments.cpp

bool same_query(const kvs::FragmentQuery& a, const kvs::FragmentQuery& b) {
  return a.kind == b.kind && a.from_ms == b.from_ms && a.to_ms == b.to_ms && a.cursor == b.cursor;
}

void check_base64(std::string_view text, std::string_view bytes) {
  for (const auto form : {kvs::Base64::standard, kvs::Base64::url}) {
    const auto alphabet = kvs::base64_detail::alphabet(form);
    if (const auto decoded = kvs::base64_decode(text, form)) {
      check(kvs::base64_encode(*decoded, form) == text, "base64 decoding takes only the canonical spelling");
    }
    const std::string encoded = kvs::base64_encode(bytes, form);
    check(kvs::base64_decode(encoded, form) == std::string(bytes), "base64 decode inverts encode");
    for (const char c : encoded) {
      check(alphabet.find(c) != std::string_view::npos || (form == kvs::Base64::standard && c == '='),
            "base64 output stays in its alphabet");
    }
    if (form == kvs::Base64::standard) {
      check(encoded.size() % 4 == 0, "standard base64 is padded");
      if (!bytes.empty() && encoded.size() <= kMaxNextTokenChars) {
        check(kvs::is_base64_token(encoded, kMaxNextTokenChars), "standard base64 is a NextToken");
      }
    } else {
      check(encoded.find('=') == std::string::npos, "url base64 is unpadded");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // As a token.
  check_base64(text, text);
  kvs::FragmentQuery q;
  if (kvsd::api::detail::decode_list_fragments_token(text, q)) {
    check(!q.cursor.empty(), "a decoded token carries a cursor");
    kvs::FragmentQuery again;
    check(kvsd::api::detail::decode_list_fragments_token(kvsd::api::detail::encode_list_fragments_token(q, q.cursor),
                                                         again) &&
              same_query(q, again),
          "a decoded token re-encodes to the same query");
  }
  if (const auto key = kvsd::storage::decode_cursor(text)) {
    check(kvsd::storage::encode_cursor(*key) == text, "a cursor has one spelling");
  }

  // As a value.
  kvsd::fuzz::InputReader in({data, size});
  kvs::FragmentQuery value;
  value.kind = (in.byte() & 1) ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
  value.from_ms = static_cast<std::int64_t>(in.u64());
  value.to_ms = static_cast<std::int64_t>(in.u64());
  const std::string key(in.rest());
  const std::string cursor = kvsd::storage::encode_cursor(key);
  check(kvsd::storage::decode_cursor(cursor) == key, "decode_cursor inverts encode_cursor");
  value.cursor = cursor.empty() ? std::string("x") : cursor;
  const std::string token = kvsd::api::detail::encode_list_fragments_token(value, value.cursor);
  kvs::FragmentQuery decoded;
  check(kvsd::api::detail::decode_list_fragments_token(token, decoded) && same_query(decoded, value),
        "a ListFragments token decodes to what was encoded");
  if (token.size() <= kMaxNextTokenChars) {
    check(kvs::is_base64_token(token, kMaxNextTokenChars), "a ListFragments token passes the NextToken check");
  }
  // Any bytes as the store cursor (the token must not rely on the cursor's alphabet).
  if (!key.empty()) {
    value.cursor = key;
    check(kvsd::api::detail::decode_list_fragments_token(kvsd::api::detail::encode_list_fragments_token(value, key),
                                                         decoded) &&
              same_query(decoded, value),
          "a token round-trips any cursor bytes");
  }
  return 0;
}
