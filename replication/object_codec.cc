#include "replication/object_codec.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "replication/ring.h"
#include "replication/status_macros.h"

namespace quorumkv {
namespace {

absl::Status CheckActor(absl::string_view actor) {
  if (actor.empty() || actor.size() > kMaxActorBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor id of ", actor.size(), " bytes (allowed 1..", kMaxActorBytes, ")"));
  }
  return absl::OkStatus();
}

absl::Status WithCode(absl::StatusCode code, absl::string_view prefix, const absl::Status& s) {
  return absl::Status(code, absl::StrCat(prefix, s.message()));
}

}  // namespace

absl::StatusOr<Dot> FromProto(const pb::Dot& proto) {
  RETURN_IF_ERROR(CheckActor(proto.actor()));
  if (proto.counter() == 0) return absl::InvalidArgumentError("dot counter is 0");
  return Dot{proto.actor(), proto.counter()};
}

void ToProto(const Dot& dot, pb::Dot* out) {
  out->set_actor(dot.actor);
  out->set_counter(dot.counter);
}

void ToProto(const VersionVector& vv, pb::VersionVectorProto* out) {
  out->clear_entries();
  for (const auto& [actor, counter] : vv.entries()) {
    pb::VersionVectorEntry* e = out->add_entries();
    e->set_actor(actor);
    e->set_counter(counter);
  }
}

void ToProto(const Sibling& sibling, pb::Sibling* out) {
  ToProto(sibling.dot, out->mutable_dot());
  out->set_hlc(sibling.hlc);
  out->set_tombstone(sibling.tombstone);
  out->set_value(sibling.value);
  out->set_idempotency_key(sibling.idempotency_key);
}

void ToProto(const Object& object, pb::ObjectProto* out) {
  ToProto(object.context, out->mutable_context());
  out->clear_siblings();
  for (const Sibling& s : object.siblings) ToProto(s, out->add_siblings());
}

absl::StatusOr<VersionVector> FromProto(const pb::VersionVectorProto& proto) {
  if (static_cast<size_t>(proto.entries_size()) > kMaxContextEntries) {
    return absl::InvalidArgumentError(absl::StrCat("version vector has ", proto.entries_size(),
                                                   " entries (limit ", kMaxContextEntries, ")"));
  }
  std::vector<VersionVector::Entry> entries;
  entries.reserve(proto.entries_size());
  for (const pb::VersionVectorEntry& e : proto.entries()) {
    RETURN_IF_ERROR(CheckActor(e.actor()));
    if (e.counter() == 0) {
      return absl::InvalidArgumentError(absl::StrCat("entry of ", e.actor(), " is 0"));
    }
    if (!entries.empty() && entries.back().first >= e.actor()) {
      return absl::InvalidArgumentError("entries are not sorted by actor, or repeat one");
    }
    entries.emplace_back(e.actor(), e.counter());
  }
  return VersionVector::FromSortedEntries(std::move(entries));
}

absl::StatusOr<Object> FromProto(const pb::ObjectProto& proto) {
  if (static_cast<size_t>(proto.siblings_size()) > kMaxDecodedSiblings) {
    return absl::InvalidArgumentError(absl::StrCat("object has ", proto.siblings_size(),
                                                   " siblings (limit ", kMaxDecodedSiblings, ")"));
  }
  Object object;
  ASSIGN_OR_RETURN(object.context, FromProto(proto.context()));
  object.siblings.reserve(proto.siblings_size());
  for (const pb::Sibling& s : proto.siblings()) {
    Sibling sibling;
    ASSIGN_OR_RETURN(sibling.dot, FromProto(s.dot()));
    if (!object.siblings.empty() && !(object.siblings.back().dot < sibling.dot)) {
      return absl::InvalidArgumentError("siblings are not sorted by dot, or repeat one");
    }
    if (!object.context.Covers(sibling.dot)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sibling ", DotToString(sibling.dot), " is not covered by the context"));
    }
    if (s.tombstone() && !s.value().empty()) {
      return absl::InvalidArgumentError("a tombstone carries a value");
    }
    if (s.idempotency_key().size() > kMaxIdempotencyKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("an idempotency key of ", s.idempotency_key().size(), " bytes"));
    }
    sibling.hlc = s.hlc();
    sibling.tombstone = s.tombstone();
    sibling.value = s.value();
    sibling.idempotency_key = s.idempotency_key();
    object.siblings.push_back(std::move(sibling));
  }
  return object;
}

std::string EncodeContext(const VersionVector& vv, absl::string_view key) {
  if (vv.empty()) return std::string();
  pb::ContextProto proto;
  ToProto(vv, proto.mutable_seen());
  proto.set_key_hash(StableHash(key));
  return proto.SerializeAsString();
}

absl::StatusOr<VersionVector> DecodeContext(absl::string_view bytes, absl::string_view key) {
  if (bytes.empty()) return VersionVector();
  pb::ContextProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("context is malformed: not a quorumkv context");
  }
  if (proto.key_hash() != StableHash(key)) {
    return absl::InvalidArgumentError(
        "context belongs to another key: pass the context a get of this key returned");
  }
  absl::StatusOr<VersionVector> vv = FromProto(proto.seen());
  if (!vv.ok()) {
    return WithCode(absl::StatusCode::kInvalidArgument, "context is malformed: ", vv.status());
  }
  return vv;
}

absl::Status CheckDecodable(const Object& object) {
  if (object.siblings.size() > kMaxDecodedSiblings) {
    return absl::FailedPreconditionError(absl::StrCat("object would have ", object.siblings.size(),
                                                      " siblings (limit ", kMaxDecodedSiblings,
                                                      "); resolve siblings first"));
  }
  if (object.context.size() > kMaxContextEntries) {
    return absl::FailedPreconditionError(absl::StrCat("object's context would have ",
                                                      object.context.size(), " actors (limit ",
                                                      kMaxContextEntries, ")"));
  }
  return absl::OkStatus();
}

std::string EncodeObject(const Object& object) {
  pb::ObjectProto proto;
  ToProto(object, &proto);
  return proto.SerializeAsString();
}

absl::StatusOr<Object> DecodeObject(absl::string_view bytes) {
  pb::ObjectProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored object does not parse");
  }
  absl::StatusOr<Object> object = FromProto(proto);
  if (!object.ok()) {
    return WithCode(absl::StatusCode::kDataLoss, "stored object is corrupt: ", object.status());
  }
  return object;
}

}  // namespace quorumkv
