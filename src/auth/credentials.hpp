#pragma once
// Credentials and where the SigV4 verifier looks up secrets.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvsd::auth {

// A long-term access key pair. The secret is never logged nor copied into results or messages.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Maps an access key id to its secret. Implementations must be safe to call concurrently from
// several threads through the const interface.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // The secret for this access key id, or nullopt if the key is unknown (or disabled).
  [[nodiscard]] virtual std::optional<std::string> secret_for(std::string_view access_key_id) const = 0;
};

// A fixed list of key pairs (from configuration). add() must not race with lookups; fill the store
// before sharing it. With duplicate ids the first entry wins.
class StaticCredentialStore final : public CredentialStore {
 public:
  StaticCredentialStore() = default;
  explicit StaticCredentialStore(std::vector<Credentials> credentials) : credentials_(std::move(credentials)) {}

  void add(Credentials credentials) { credentials_.push_back(std::move(credentials)); }
  [[nodiscard]] bool empty() const noexcept { return credentials_.empty(); }
  [[nodiscard]] std::optional<std::string> secret_for(std::string_view access_key_id) const override;

 private:
  std::vector<Credentials> credentials_;
};

}  // namespace kvsd::auth
