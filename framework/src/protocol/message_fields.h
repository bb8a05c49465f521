// The parts several messages share (ids, bytes, payloads, task specs,
// actor options), written and read the one way messages.cc uses them.
// Private to protocol/: include only from messages.cc and message_fields.cc.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lumen/protocol/frames.capnp.h"
#include "protocol/messages.h"

namespace lumen::internal::fields {

using capnp::Data;

template <size_t N>
Data::Reader DataOf(const BinaryID<N>& id) {
  return {id.data(), N};
}
// No bytes (a default Payload, an unset argument) encode as empty ones.
inline Data::Reader DataOf(const BytesPtr& bytes) {
  return bytes ? Data::Reader{bytes->data(), bytes->size()} : Data::Reader{};
}

[[noreturn]] inline void Malformed(const std::string& why) { throw ProtocolError("malformed frame: " + why); }

template <class ID>
ID ReadId(Data::Reader d, const char* what) {
  if (d.size() != ID::kSize)
    Malformed(std::string(what) + " is " + std::to_string(d.size()) + " bytes, not " + std::to_string(ID::kSize));
  return ID::FromBinary(d.begin());
}

inline BytesPtr ReadBytes(Data::Reader d) {
  auto bytes = std::make_shared<Bytes>(d.size());
  if (d.size()) std::memcpy(bytes->data(), d.begin(), d.size());
  return bytes;
}

inline std::string ReadText(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

template <class Builder>
void WriteIds(Builder list, const std::vector<ObjectID>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) list.set(i, DataOf(ids[i]));
}

template <class ID>
std::vector<ID> ReadIds(capnp::List<Data>::Reader list, const char* what) {
  std::vector<ID> ids;
  ids.reserve(list.size());
  for (Data::Reader d : list) ids.push_back(ReadId<ID>(d, what));
  return ids;
}

inline int ReadInt(int64_t v, const char* what) {
  if (v < INT32_MIN || v > INT32_MAX) Malformed(std::string(what) + " out of range");
  return static_cast<int>(v);
}

// Sized by the caller (initResources(n)).
void WriteResources(capnp::List<frames::Resource>::Builder list, const std::map<std::string, double>& resources);
std::map<std::string, double> ReadResources(capnp::List<frames::Resource>::Reader list);
void WritePayload(frames::Payload::Builder b, const Payload& p);
Payload ReadPayload(frames::Payload::Reader r);
void WriteSpec(frames::TaskSpec::Builder b, const TaskSpec& spec);
TaskSpec ReadSpec(frames::TaskSpec::Reader r);
void WriteActorOptions(frames::ActorOptions::Builder b, const ActorOptions& o);
ActorOptions ReadActorOptions(frames::ActorOptions::Reader r);

}  // namespace lumen::internal::fields
