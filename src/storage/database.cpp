#include "storage/database.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <stdexcept>
#include <vector>

namespace kvsd::storage {

const char* family_name(Family f) noexcept {
  switch (f) {
    case Family::streams:
      return "streams";
    case Family::deleted_streams:
      return "deleted_streams";
    case Family::fragments:
      return "fragments";
    case Family::fragments_by_producer_ts:
      return "fragments_by_producer_ts";
    case Family::fragments_by_server_ts:
      return "fragments_by_server_ts";
    case Family::headers:
      return "headers";
    case Family::segments:
      return "segments";
    case Family::meta:
      return "meta";
    case Family::count_:
      break;
  }
  return "?";
}

std::shared_ptr<Database> Database::open(const std::string& path) {
  std::shared_ptr<Database> out(new Database());
  out->path_ = path;
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (std::size_t i = 0; i < static_cast<std::size_t>(Family::count_); ++i)
    descriptors.emplace_back(family_name(static_cast<Family>(i)), rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  const auto s = rocksdb::DB::Open(dbo, path, descriptors, &handles, &out->db_);
  if (!s.ok()) throw std::runtime_error("cannot open index " + path + ": " + s.ToString());
  out->default_family_ = handles.at(0);
  for (std::size_t i = 0; i < out->families_.size(); ++i) out->families_[i] = handles.at(i + 1);
  return out;
}

Database::~Database() {
  if (db_ == nullptr) return;
  for (auto* h : families_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  if (default_family_ != nullptr) db_->DestroyColumnFamilyHandle(default_family_);
  db_->Close();
  delete db_;
}

}  // namespace kvsd::storage
