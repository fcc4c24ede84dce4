#include "auth/credentials.hpp"

namespace kvsd::auth {

std::optional<std::string> StaticCredentialStore::secret_for(std::string_view access_key_id) const {
  for (const auto& c : credentials_) {
    if (c.access_key_id == access_key_id) return c.secret_access_key;
  }
  return std::nullopt;
}

}  // namespace kvsd::auth
