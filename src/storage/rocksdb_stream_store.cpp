#include "storage/rocksdb_stream_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kvs/base64.hpp"
#include "kvs/decimal.hpp"
#include "storage/storage_errors.hpp"
#include "stream.pb.h"

namespace kvsd::storage {

namespace {

constexpr std::uint32_t kFormatVersion = 1;

kvs::Error not_found(const kvs::StreamRef& ref) {
  const auto& what = ref.arn.empty() ? ref.name : ref.arn;
  return kvs::Error{kvs::errc::resource_not_found, "The requested stream " + what + " was not found"};
}

// A failed index read (writes go through Database::write_failed).
kvs::Error storage_error(const rocksdb::Status& s) {
  return storage_failure("stream index: read", status_summary(s), s.ToString());
}

std::string random_version() {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlnum) - 2);
  std::string v(20, 'A');
  for (auto& c : v) c = kAlnum[pick(rng)];
  return v;
}

kvs::StreamStatus from_proto(proto::StreamRecord::Status s) {
  switch (s) {
    case proto::StreamRecord::CREATING:
      return kvs::StreamStatus::creating;
    case proto::StreamRecord::UPDATING:
      return kvs::StreamStatus::updating;
    case proto::StreamRecord::DELETING:
      return kvs::StreamStatus::deleting;
    default:
      return kvs::StreamStatus::active;
  }
}

// Page tokens are the base64 of the last name returned (the API's NextToken allows only
// [a-zA-Z0-9+/=]).
std::string encode_token(const std::string& name) { return kvs::base64_encode(name); }

bool decode_token(const std::string& token, std::string& name) {
  auto decoded = kvs::base64_decode(token);
  if (!decoded || decoded->empty()) return false;
  name = std::move(*decoded);
  return true;
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string make_stream_arn(const std::string& region, const std::string& account_id, const std::string& name,
                            std::int64_t creation_time_ms) {
  return "arn:aws:kinesisvideo:" + region + ":" + account_id + ":stream/" + name + "/" +
         std::to_string(creation_time_ms);
}

bool parse_stream_arn(const std::string& arn, std::string& name, std::int64_t& creation_time_ms) {
  static constexpr std::string_view kPrefix = "arn:aws:kinesisvideo:";
  if (arn.rfind(kPrefix, 0) != 0) return false;
  const auto marker = arn.find(":stream/", kPrefix.size());
  if (marker == std::string::npos) return false;
  const auto name_begin = marker + 8;
  const auto slash = arn.rfind('/');
  if (slash == std::string::npos || slash < name_begin + 1) return false;
  const char* first = arn.data() + slash + 1;
  const char* last = arn.data() + arn.size();
  const auto ms = kvs::parse_decimal<std::int64_t>(std::string_view(first, static_cast<std::size_t>(last - first)));
  if (!ms) return false;
  name = arn.substr(name_begin, slash - name_begin);
  creation_time_ms = *ms;
  return true;
}

namespace {

// Reads the visible record a reference names, or an error.
kvs::Result<proto::StreamRecord> load(const Database& db, const kvs::StreamRef& ref) {
  std::string name = ref.name;
  std::int64_t arn_time = -1;
  if (!ref.arn.empty() && !parse_stream_arn(ref.arn, name, arn_time)) return not_found(ref);
  std::string value;
  const auto s = db.db().Get(rocksdb::ReadOptions(), db.family(Family::streams), name, &value);
  if (s.IsNotFound()) return not_found(ref);
  if (!s.ok()) return storage_error(s);
  proto::StreamRecord rec;
  if (!rec.ParseFromString(value)) return kvs::Error{kvs::errc::internal, "stream index: corrupt record " + name};
  if (rec.status() == proto::StreamRecord::DELETING) return not_found(ref);
  if (arn_time >= 0 && rec.creation_time_ms() != arn_time) return not_found(ref);
  return rec;
}

// Every write of the stream store: refused in degraded mode (Database::admit_writes).
kvs::Status write(const Database& db, rocksdb::WriteBatch& batch) {
  auto admitted = db.admit_writes();
  if (!admitted) return admitted;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto s = db.db().Write(wo, &batch);
  if (!s.ok()) return db.write_failed("stream index: write", s);
  return kvs::Unit{};
}

kvs::Status save(const Database& db, const proto::StreamRecord& rec) {
  rocksdb::WriteBatch batch;
  batch.Put(db.family(Family::streams), rec.stream_name(), rec.SerializeAsString());
  return write(db, batch);
}

kvs::Result<std::uint64_t> read_counter(const Database& db, const char* name) {
  std::string value;
  const auto s = db.db().Get(rocksdb::ReadOptions(), db.family(Family::meta), name, &value);
  if (s.IsNotFound()) return std::uint64_t{1};
  if (!s.ok()) return storage_error(s);
  if (value.size() != 8) return kvs::Error{kvs::errc::internal, std::string("stream index: corrupt counter ") + name};
  std::uint64_t v = 0;
  for (char c : value) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

void put_counter(const Database& db, rocksdb::WriteBatch& batch, const char* name, std::uint64_t v) {
  std::string value(8, '\0');
  for (int i = 7; i >= 0; --i) {
    value[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  batch.Put(db.family(Family::meta), name, value);
}

std::string id_bytes(std::uint64_t v) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return key;
}

}  // namespace

RocksDbStreamStore::RocksDbStreamStore(std::shared_ptr<Database> db, StreamStoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = system_now_ms;
  auto upgraded = upgrade_records();
  if (!upgraded) throw std::runtime_error("cannot upgrade stream records: " + upgraded.error().message);
}

kvs::Result<std::uint64_t> RocksDbStreamStore::upgrade_records() {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto next = read_counter(*db_, kMetaNextStreamId);
  if (!next) return next.error();
  std::uint64_t next_id = next.value();
  rocksdb::WriteBatch batch;
  std::uint64_t changed = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::streams)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    proto::StreamRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return kvs::Error{kvs::errc::internal, "stream index: corrupt record " + it->key().ToString()};
    const bool deleting = rec.status() == proto::StreamRecord::DELETING;
    if (rec.stream_id() != 0 && !deleting) continue;
    if (rec.stream_id() == 0) rec.set_stream_id(next_id++);
    if (deleting) {
      batch.Delete(db_->family(Family::streams), it->key());
      batch.Put(db_->family(Family::deleted_streams), id_bytes(rec.stream_id()), rec.SerializeAsString());
    } else {
      batch.Put(db_->family(Family::streams), it->key(), rec.SerializeAsString());
    }
    ++changed;
  }
  if (!it->status().ok()) return storage_error(it->status());
  if (changed == 0) return changed;
  put_counter(*db_, batch, kMetaNextStreamId, next_id);
  auto ok = write(*db_, batch);
  if (!ok) return ok.error();
  return changed;
}

RocksDbStreamStore::~RocksDbStreamStore() = default;

namespace {

kvs::StreamInfo to_info(const proto::StreamRecord& rec, const StreamStoreOptions& o) {
  kvs::StreamInfo info;
  info.device_name = rec.device_name();
  info.stream_name = rec.stream_name();
  info.stream_arn = make_stream_arn(o.region, o.account_id, rec.stream_name(), rec.creation_time_ms());
  info.media_type = rec.media_type();
  info.kms_key_id = rec.kms_key_id();
  info.version = rec.version();
  info.status = from_proto(rec.status());
  info.creation_time_ms = rec.creation_time_ms();
  info.data_retention_in_hours = rec.data_retention_in_hours();
  for (const auto& [k, v] : rec.tags()) info.tags.emplace(k, v);
  info.stream_id = rec.stream_id();
  return info;
}

kvs::Status check_version(const proto::StreamRecord& rec, const std::string& current_version) {
  if (!current_version.empty() && current_version != rec.version())
    return kvs::Error{kvs::errc::version_mismatch,
                      "The stream version " + current_version + " does not match the current version"};
  return kvs::Unit{};
}

}  // namespace

kvs::Result<kvs::StreamInfo> RocksDbStreamStore::create(const kvs::CreateStreamInput& in) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  if (in.tags.size() > kvs::kMaxTagsPerStream)
    return kvs::Error{kvs::errc::tags_per_resource_exceeded, "A stream can have at most 50 tags"};
  const auto existing = load(*db_, kvs::StreamRef{in.stream_name, {}});
  if (existing) return kvs::Error{kvs::errc::resource_in_use, "The stream " + in.stream_name + " already exists"};
  if (existing.error().code != kvs::errc::resource_not_found) return existing.error();
  proto::StreamRecord rec;
  rec.set_format_version(kFormatVersion);
  rec.set_stream_name(in.stream_name);
  rec.set_device_name(in.device_name);
  rec.set_media_type(in.media_type);
  rec.set_kms_key_id(in.kms_key_id);
  rec.set_version(random_version());
  rec.set_status(proto::StreamRecord::ACTIVE);
  rec.set_creation_time_ms(options_.now_ms());
  rec.set_data_retention_in_hours(in.data_retention_in_hours);
  for (const auto& [k, v] : in.tags) (*rec.mutable_tags())[k] = v;
  auto next_id = read_counter(*db_, kMetaNextStreamId);
  if (!next_id) return next_id.error();
  rec.set_stream_id(next_id.value());
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Family::streams), rec.stream_name(), rec.SerializeAsString());
  put_counter(*db_, batch, kMetaNextStreamId, next_id.value() + 1);
  auto saved = write(*db_, batch);
  if (!saved) return saved.error();
  return to_info(rec, options_);
}

kvs::Result<kvs::StreamInfo> RocksDbStreamStore::describe(const kvs::StreamRef& ref) {
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  return to_info(rec.value(), options_);
}

kvs::Result<kvs::ListStreamsOutput> RocksDbStreamStore::list(const kvs::ListStreamsInput& in) {
  const auto pin = db_->pin();
  kvs::ListStreamsOutput out;
  std::string after;  // the last name of the previous page
  if (!in.next_token.empty() && !decode_token(in.next_token, after))
    return kvs::Error{kvs::errc::invalid_argument, "NextToken is not a token ListStreams returned"};
  std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::streams)));
  const std::string& start = after.empty() || after < in.name_prefix ? in.name_prefix : after;
  for (it->Seek(start); it->Valid(); it->Next()) {
    const auto key = it->key().ToString();
    if (!after.empty() && key == after) continue;
    if (key.compare(0, in.name_prefix.size(), in.name_prefix) != 0) {
      if (key > in.name_prefix) break;
      continue;
    }
    proto::StreamRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return kvs::Error{kvs::errc::internal, "stream index: corrupt record " + key};
    if (rec.status() == proto::StreamRecord::DELETING) continue;
    if (out.streams.size() == std::max<std::size_t>(in.max_results, 1)) {
      out.next_token = encode_token(out.streams.back().stream_name);
      break;
    }
    out.streams.push_back(to_info(rec, options_));
  }
  if (!it->status().ok()) return storage_error(it->status());
  return out;
}

kvs::Status RocksDbStreamStore::remove(const kvs::StreamRef& ref, const std::string& current_version) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  auto ok = check_version(rec.value(), current_version);
  if (!ok) return ok;
  rec->set_status(proto::StreamRecord::DELETING);
  rec->set_version(random_version());
  rocksdb::WriteBatch batch;
  batch.Delete(db_->family(Family::streams), rec->stream_name());
  batch.Put(db_->family(Family::deleted_streams), id_bytes(rec->stream_id()), rec->SerializeAsString());
  return write(*db_, batch);
}

kvs::Result<std::vector<kvs::StreamInfo>> RocksDbStreamStore::list_deleting() {
  const auto pin = db_->pin();
  std::vector<kvs::StreamInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::deleted_streams)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    proto::StreamRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return kvs::Error{kvs::errc::internal, "stream index: corrupt deleted record"};
    out.push_back(to_info(rec, options_));
  }
  if (!it->status().ok()) return storage_error(it->status());
  return out;
}

kvs::Status RocksDbStreamStore::purge_deleted(std::uint64_t stream_id) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  rocksdb::WriteBatch batch;
  batch.Delete(db_->family(Family::deleted_streams), id_bytes(stream_id));
  return write(*db_, batch);
}

kvs::Result<kvs::StreamInfo> RocksDbStreamStore::update(const kvs::UpdateStreamInput& in) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, in.ref);
  if (!rec) return rec.error();
  auto ok = check_version(rec.value(), in.current_version);
  if (!ok) return ok.error();
  if (in.device_name) rec->set_device_name(*in.device_name);
  if (in.media_type) rec->set_media_type(*in.media_type);
  rec->set_version(random_version());
  auto saved = save(*db_, rec.value());
  if (!saved) return saved.error();
  return to_info(rec.value(), options_);
}

kvs::Result<kvs::StreamInfo> RocksDbStreamStore::update_retention(const kvs::UpdateRetentionInput& in) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, in.ref);
  if (!rec) return rec.error();
  auto ok = check_version(rec.value(), in.current_version);
  if (!ok) return ok.error();
  const std::int64_t current = rec->data_retention_in_hours();
  const std::int64_t next =
      in.operation == kvs::RetentionOperation::increase ? current + in.change_in_hours : current - in.change_in_hours;
  if (next < 0 || next > kvs::kMaxDataRetentionHours)
    return kvs::Error{kvs::errc::invalid_argument, "The resulting data retention " + std::to_string(next) +
                                                       " hours is outside 0.." +
                                                       std::to_string(kvs::kMaxDataRetentionHours)};
  rec->set_data_retention_in_hours(static_cast<std::int32_t>(next));
  rec->set_version(random_version());
  auto saved = save(*db_, rec.value());
  if (!saved) return saved.error();
  return to_info(rec.value(), options_);
}

kvs::Status RocksDbStreamStore::tag(const kvs::StreamRef& ref, const kvs::Tags& tags) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  auto merged = *rec->mutable_tags();
  for (const auto& [k, v] : tags) merged[k] = v;
  if (merged.size() > kvs::kMaxTagsPerStream)
    return kvs::Error{kvs::errc::tags_per_resource_exceeded, "A stream can have at most 50 tags"};
  *rec->mutable_tags() = std::move(merged);
  rec->set_version(random_version());
  return save(*db_, rec.value());
}

kvs::Status RocksDbStreamStore::untag(const kvs::StreamRef& ref, const std::vector<std::string>& keys) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  for (const auto& k : keys) rec->mutable_tags()->erase(k);
  rec->set_version(random_version());
  return save(*db_, rec.value());
}

kvs::Result<kvs::Tags> RocksDbStreamStore::list_tags(const kvs::StreamRef& ref) {
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  kvs::Tags tags;
  for (const auto& [k, v] : rec->tags()) tags.emplace(k, v);
  return tags;
}

namespace {

kvs::ImageGenerationConfiguration from_proto(const proto::ImageGenerationConfig& p) {
  kvs::ImageGenerationConfiguration c;
  c.status = p.status();
  c.image_selector_type = p.image_selector_type();
  c.destination_uri = p.destination_uri();
  c.destination_region = p.destination_region();
  c.sampling_interval_ms = p.sampling_interval_ms();
  c.format = p.format();
  for (const auto& [k, v] : p.format_config()) c.format_config.emplace(k, v);
  if (p.has_width_pixels()) c.width_pixels = p.width_pixels();
  if (p.has_height_pixels()) c.height_pixels = p.height_pixels();
  return c;
}

void to_proto(const kvs::ImageGenerationConfiguration& c, proto::ImageGenerationConfig& p) {
  p.Clear();
  p.set_status(c.status);
  p.set_image_selector_type(c.image_selector_type);
  p.set_destination_uri(c.destination_uri);
  p.set_destination_region(c.destination_region);
  p.set_sampling_interval_ms(c.sampling_interval_ms);
  p.set_format(c.format);
  for (const auto& [k, v] : c.format_config) (*p.mutable_format_config())[k] = v;
  if (c.width_pixels) p.set_width_pixels(*c.width_pixels);
  if (c.height_pixels) p.set_height_pixels(*c.height_pixels);
}

kvs::Status check_retention(const proto::StreamRecord& rec) {
  if (rec.data_retention_in_hours() == 0)
    return kvs::Error{kvs::errc::no_data_retention,
                      "The stream " + rec.stream_name() + " has no data retention (DataRetentionInHours is 0)"};
  return kvs::Unit{};
}

}  // namespace

kvs::Result<std::optional<kvs::ImageGenerationConfiguration>> RocksDbStreamStore::image_generation_configuration(
    const kvs::StreamRef& ref) {
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  std::optional<kvs::ImageGenerationConfiguration> out;
  if (rec->has_image_generation()) out = from_proto(rec->image_generation());
  return out;
}

kvs::Status RocksDbStreamStore::set_image_generation_configuration(
    const kvs::StreamRef& ref, const std::optional<kvs::ImageGenerationConfiguration>& config) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  if (config) {
    auto ok = check_retention(rec.value());
    if (!ok) return ok;
    to_proto(*config, *rec->mutable_image_generation());
  } else {
    rec->clear_image_generation();
  }
  return save(*db_, rec.value());
}

kvs::Result<std::optional<kvs::NotificationConfiguration>> RocksDbStreamStore::notification_configuration(
    const kvs::StreamRef& ref) {
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  std::optional<kvs::NotificationConfiguration> out;
  if (rec->has_notification()) {
    out.emplace();
    out->status = rec->notification().status();
    out->destination_uri = rec->notification().destination_uri();
  }
  return out;
}

kvs::Status RocksDbStreamStore::set_notification_configuration(
    const kvs::StreamRef& ref, const std::optional<kvs::NotificationConfiguration>& config) {
  std::lock_guard lock(mutex_);
  const auto pin = db_->pin();
  auto rec = load(*db_, ref);
  if (!rec) return rec.error();
  if (config) {
    auto ok = check_retention(rec.value());
    if (!ok) return ok;
    auto* n = rec->mutable_notification();
    n->set_status(config->status);
    n->set_destination_uri(config->destination_uri);
  } else {
    rec->clear_notification();
  }
  return save(*db_, rec.value());
}

}  // namespace kvsd::storage
