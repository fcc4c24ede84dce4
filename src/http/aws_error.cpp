#include "http/aws_error.hpp"

#include <nlohmann/json.hpp>

namespace kvsd::http {

AwsErrorShape aws_shape(kvs::errc code) noexcept {
  using kvs::errc;
  switch (code) {
    case errc::invalid_argument:
      return {400, "InvalidArgumentException"};
    case errc::resource_not_found:
      return {404, "ResourceNotFoundException"};
    case errc::resource_in_use:
      return {400, "ResourceInUseException"};
    case errc::version_mismatch:
      return {400, "VersionMismatchException"};
    case errc::tags_per_resource_exceeded:
      return {400, "TagsPerResourceExceededLimitException"};
    case errc::account_stream_limit:
      return {400, "AccountStreamLimitExceededException"};
    case errc::client_limit_exceeded:
      return {400, "ClientLimitExceededException"};
    case errc::no_data_retention:
      return {400, "NoDataRetentionException"};
    case errc::connection_limit_exceeded:
      return {400, "ConnectionLimitExceededException"};
    case errc::unsupported_media_type:
      return {400, "UnsupportedStreamMediaTypeException"};
    case errc::missing_codec_private_data:
      return {400, "MissingCodecPrivateDataException"};
    case errc::invalid_codec_private_data:
      return {400, "InvalidCodecPrivateDataException"};
    case errc::invalid_media_frame:
      return {400, "InvalidMediaFrameException"};
    case errc::not_authorized:
      return {401, "NotAuthorizedException"};
    case errc::access_denied:
      return {401, "AccessDeniedException"};
    case errc::session_token_rejected:
      return {403, "NotAuthorizedException"};
    case errc::signature_does_not_match:
      return {403, "SignatureDoesNotMatch"};
    case errc::missing_authentication:
      return {403, "MissingAuthenticationTokenException"};
    case errc::request_expired:
      return {403, "RequestExpired"};
    case errc::unknown_operation:
      return {404, "UnknownOperationException"};
    case errc::method_not_allowed:
      return {405, "MethodNotAllowedException"};
    case errc::not_supported:
      return {400, "NotSupportedException"};
    case errc::payload_too_large:
      return {413, "SerializationException"};
    case errc::serialization:
      return {400, "SerializationException"};
    case errc::request_timeout:
      return {408, "RequestTimeoutException"};
    case errc::service_unavailable:
      return {503, "ServiceUnavailableException"};
    case errc::internal:
      return {500, "InternalFailure"};
  }
  return {500, "InternalFailure"};
}

std::string aws_error_body(std::string_view type, std::string_view message) {
  nlohmann::json j;
  j["__type"] = type;
  j["message"] = message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

boost::asio::awaitable<boost::system::error_code> send_error(ResponseWriter& w, const kvs::Error& e) {
  const auto shape = aws_shape(e.code);
  Headers h{{"content-type", "application/json"}, {"x-amzn-ErrorType", std::string(shape.type)}};
  std::string body = aws_error_body(shape.type, e.message);
  co_return co_await w.send(shape.status, std::move(h), std::move(body));
}

boost::asio::awaitable<bool> refused(ResponseWriter& w, const std::optional<kvs::Error>& err) {
  if (!err) co_return false;
  co_await send_error(w, *err);
  co_return true;
}

}  // namespace kvsd::http
