#pragma once
// The ListFragments NextToken: "1|<p or s>|<from ms>|<to ms>|<store cursor>" in the standard base64
// alphabet (the model's NextToken pattern). It carries the selector of the first page so a later
// page needs only the token. Pure functions, no I/O.

#include <string>
#include <string_view>

#include "kvs/fragment_store.hpp"

namespace kvsd::api::detail {

// The token for the page after `cursor` (a FragmentPage::next_cursor) of query `q`.
std::string encode_list_fragments_token(const kvs::FragmentQuery& q, const std::string& cursor);
// Fills q.kind, q.from_ms, q.to_ms and q.cursor from a token; false (q partly written) for
// anything encode_list_fragments_token cannot have produced in this shape.
bool decode_list_fragments_token(std::string_view token, kvs::FragmentQuery& q);

}  // namespace kvsd::api::detail
