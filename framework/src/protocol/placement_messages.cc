#include "protocol/placement_messages.h"

#include "protocol/message_fields.h"

namespace lumen::internal::placement {

using namespace fields;

namespace {

using Bundles = std::vector<std::map<std::string, double>>;

void WriteBundles(capnp::List<capnp::List<frames::Resource>>::Builder list, const Bundles& bundles) {
  for (size_t i = 0; i < bundles.size(); ++i)
    WriteResources(list.init(static_cast<unsigned>(i), static_cast<unsigned>(bundles[i].size())), bundles[i]);
}

Bundles ReadBundles(capnp::List<capnp::List<frames::Resource>>::Reader list) {
  Bundles bundles;
  bundles.reserve(list.size());
  for (auto bundle : list) bundles.push_back(ReadResources(bundle));
  return bundles;
}

PlacementStrategy ReadStrategy(frames::PlacementStrategy s) {
  auto value = static_cast<uint16_t>(s);
  if (value > static_cast<uint16_t>(PlacementStrategy::STRICT_SPREAD)) Malformed("unknown placement strategy");
  return static_cast<PlacementStrategy>(value);
}

PlacementGroupState ReadState(frames::PlacementGroupState s) {
  auto value = static_cast<uint16_t>(s);
  if (value > static_cast<uint16_t>(PlacementGroupState::REMOVED)) Malformed("unknown placement group state");
  return static_cast<PlacementGroupState>(value);
}

static_assert(static_cast<int>(frames::PlacementStrategy::STRICT_SPREAD) ==
                  static_cast<int>(PlacementStrategy::STRICT_SPREAD),
              "the wire's strategies are the API's, in the same order");
static_assert(static_cast<int>(frames::PlacementGroupState::REMOVED) == static_cast<int>(PlacementGroupState::REMOVED),
              "the wire's states are the API's, in the same order");

}  // namespace

void Write(frames::Frame::Builder f, const CreatePlacementGroupMsg& m) {
  auto b = f.initCreatePlacementGroup();
  b.setRequest(m.request);
  b.setName(m.options.name);
  WriteBundles(b.initBundles(static_cast<unsigned>(m.options.bundles.size())), m.options.bundles);
  b.setStrategy(static_cast<frames::PlacementStrategy>(m.options.strategy));
}

CreatePlacementGroupMsg Read(frames::CreatePlacementGroup::Reader r) {
  return {r.getRequest(), {ReadText(r.getName()), ReadBundles(r.getBundles()), ReadStrategy(r.getStrategy())}};
}

void Write(frames::Frame::Builder f, const RemovePlacementGroupMsg& m) {
  auto b = f.initRemovePlacementGroup();
  b.setRequest(m.request);
  b.setId(DataOf(m.id));
}

RemovePlacementGroupMsg Read(frames::RemovePlacementGroup::Reader r) {
  return {r.getRequest(), ReadId<TaskID>(r.getId(), "a placement group id")};
}

void Write(frames::Frame::Builder f, const PlacementGroupQueryMsg& m) {
  auto b = f.initPlacementGroupQuery();
  b.setRequest(m.request);
  switch (m.by) {
    case PlacementGroupQueryMsg::kId: b.setId(DataOf(m.id)); break;
    case PlacementGroupQueryMsg::kName: b.setName(m.name); break;
    case PlacementGroupQueryMsg::kAll: b.setAll(); break;
  }
}

PlacementGroupQueryMsg Read(frames::PlacementGroupQuery::Reader r) {
  PlacementGroupQueryMsg m;
  m.request = r.getRequest();
  switch (r.which()) {
    case frames::PlacementGroupQuery::ID:
      m.by = PlacementGroupQueryMsg::kId;
      m.id = ReadId<TaskID>(r.getId(), "a placement group id");
      break;
    case frames::PlacementGroupQuery::NAME:
      m.by = PlacementGroupQueryMsg::kName;
      m.name = ReadText(r.getName());
      break;
    case frames::PlacementGroupQuery::ALL: m.by = PlacementGroupQueryMsg::kAll; break;
    default: Malformed("unknown placement group query");
  }
  return m;
}

void Write(frames::Frame::Builder f, const PlacementGroupReplyMsg& m) {
  auto b = f.initPlacementGroupReply();
  b.setRequest(m.request);
  b.setError(m.error);
  b.setErrorKind(static_cast<uint8_t>(m.kind));
  auto groups = b.initGroups(static_cast<unsigned>(m.groups.size()));
  for (size_t i = 0; i < m.groups.size(); ++i) {
    const PlacementGroupInfo& g = m.groups[i];
    auto out = groups[static_cast<unsigned>(i)];
    out.setId(DataOf(g.id));
    out.setName(g.options.name);
    WriteBundles(out.initBundles(static_cast<unsigned>(g.options.bundles.size())), g.options.bundles);
    out.setStrategy(static_cast<frames::PlacementStrategy>(g.options.strategy));
    out.setState(static_cast<frames::PlacementGroupState>(g.state));
  }
}

PlacementGroupReplyMsg Read(frames::PlacementGroupReply::Reader r) {
  uint8_t kind = r.getErrorKind();
  if (!IsErrorKind(kind)) Malformed("unknown error kind");
  PlacementGroupReplyMsg m{r.getRequest(), ReadText(r.getError()), kind ? static_cast<ErrorKind>(kind) : ErrorKind::kBadCall,
                           {}};
  m.groups.reserve(r.getGroups().size());
  for (auto g : r.getGroups())
    m.groups.push_back({ReadId<TaskID>(g.getId(), "a placement group id"),
                        {ReadText(g.getName()), ReadBundles(g.getBundles()), ReadStrategy(g.getStrategy())},
                        ReadState(g.getState())});
  return m;
}

}  // namespace lumen::internal::placement
