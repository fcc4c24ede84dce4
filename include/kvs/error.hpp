#pragma once
// kvs::errc: every failure the core can report. Values are mapped to the AWS error shape
// (HTTP status, x-amzn-ErrorType, JSON body) in exactly one place: src/http/aws_error.cpp.

#include <string>

namespace kvs {

enum class errc {
  invalid_argument,            // InvalidArgumentException 400
  resource_not_found,          // ResourceNotFoundException 404
  resource_in_use,             // ResourceInUseException 400
  version_mismatch,            // VersionMismatchException 400
  tags_per_resource_exceeded,  // TagsPerResourceExceededLimitException 400
  account_stream_limit,        // AccountStreamLimitExceededException 400
  client_limit_exceeded,       // ClientLimitExceededException 400
  no_data_retention,           // NoDataRetentionException 400
  connection_limit_exceeded,   // ConnectionLimitExceededException 400 (concurrent GetMedia per stream)
  unsupported_media_type,      // UnsupportedStreamMediaTypeException 400
  missing_codec_private_data,  // MissingCodecPrivateDataException 400
  invalid_codec_private_data,  // InvalidCodecPrivateDataException 400
  invalid_media_frame,         // InvalidMediaFrameException 400
  not_authorized,              // NotAuthorizedException 401
  access_denied,               // AccessDeniedException 401
  session_token_rejected,      // NotAuthorizedException 403 (HLS/DASH session token forged or expired)
  signature_does_not_match,    // SignatureDoesNotMatch 403
  missing_authentication,      // MissingAuthenticationTokenException 403
  request_expired,             // RequestExpired 400 (kept 403 for SDKs that only check auth statuses)
  unknown_operation,           // UnknownOperationException 404
  method_not_allowed,          // MethodNotAllowed 405
  not_supported,               // NotSupportedException 400 (KVS features kvsd does not offer)
  payload_too_large,           // SerializationException 413
  serialization,               // SerializationException 400 (body is not the JSON the operation takes)
  request_timeout,             // RequestTimeoutException 408 (a body did not arrive in time)
  service_unavailable,         // ServiceUnavailable 503 (shutting down, overloaded)
  internal,                    // InternalFailure 500
};

// A typed error value: the condition plus a message for humans (never a secret).
struct Error {
  errc code;
  std::string message;
};

}  // namespace kvs
