// Opening objects for reading: alignment, traversal limits, the type check and
// the shared checks codecs use on every Value they read.

#include <cstring>

#include <capnp/serialize.h>
#include <lumen/storage/codec.h>

namespace lumen::codec {
namespace {

// Decode reads each word about once (a Message<S> copy: twice); the slack
// covers small objects. Anything beyond is an amplification attack or a loop.
constexpr uint64_t kDecodeTraversalFactor = 4;
constexpr uint64_t kDecodeTraversalSlackWords = 1024;
// Views are read again and again and every read is charged: no practical limit.
constexpr uint64_t kViewTraversalLimitWords = uint64_t{1} << 60;
// Nesting is bounded by kNestingLimit (codec_core.h), which Encode enforces too.

// A stored name as it appears in an error: shortened, printable.
std::string Printable(capnp::Text::Reader text) {
  if (text.size() == 0) return "no type name";
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

const char* KindName(schema::Value::Which which) {
  using W = schema::Value::Which;
  switch (which) {
    case W::NONE: return "none";
    case W::BOOL: return "bool";
    case W::INT: return "int";
    case W::UINT: return "uint";
    case W::FLOAT64: return "float64";
    case W::FLOAT32: return "float32";
    case W::BYTES: return "bytes";
    case W::LIST: return "list";
    case W::REF: return "ref";
    case W::CAPNP: return "capnp";
  }
  return "an unknown kind";
}

bool Equals(capnp::Text::Reader text, const std::string& s) {
  return text.size() == s.size() && std::memcmp(text.begin(), s.data(), s.size()) == 0;
}

}  // namespace

namespace internal {

ObjectReader::ObjectReader(const void* data, size_t size, Mode mode) {
  if (size % sizeof(capnp::word) != 0) {
    throw CodecError("corrupt object: its size, " + std::to_string(size) +
                     " bytes, is not a multiple of 8");
  }
  if (data == nullptr && size != 0) throw CodecError("corrupt object: null buffer");
  const auto* words = static_cast<const capnp::word*>(data);
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    if (mode == Mode::kView) {
      throw CodecError("cannot view an object in place: its buffer is not 8-byte aligned");
    }
    copy_ = std::make_unique_for_overwrite<capnp::word[]>(size / sizeof(capnp::word));
    std::memcpy(copy_.get(), data, size);
    words = copy_.get();
  }
  const size_t n = size / sizeof(capnp::word);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = mode == Mode::kDecode
                                      ? kDecodeTraversalFactor * n + kDecodeTraversalSlackWords
                                      : kViewTraversalLimitWords;
  options.nestingLimit = kNestingLimit;
  try {
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(kj::arrayPtr(words, n), options);
    root_ = reader_->getRoot<schema::Object>();
  } catch (const kj::Exception& e) {
    ThrowFromKj(e, "corrupt object");
  }
}

ObjectReader::~ObjectReader() = default;

void CheckType(schema::Object::Reader root, const std::string& want) {
  capnp::Text::Reader stored = root.getType();
  if (!Equals(stored, want)) {
    throw CodecError("object holds " + Printable(stored) + ", asked for " + want);
  }
}

void CheckSpanType(schema::Object::Reader root, const std::string& element) {
  capnp::Text::Reader stored = root.getType();
  const std::string_view s(stored.begin(), stored.size());
  if (s == "vector<" + element + ">") return;
  const std::string prefix = "array<" + element + ",";
  if (s.size() > prefix.size() + 1 && s.starts_with(prefix) && s.ends_with(">")) return;
  throw CodecError("object holds " + Printable(stored) + ", asked for a span of " + element +
                   " (a vector<" + element + "> or array<" + element + ",N>)");
}

void CorruptObject(const std::string& what) { throw CodecError("corrupt object: " + what); }

void ExpectWhich(schema::Value::Reader r, schema::Value::Which want) {
  const schema::Value::Which which = r.which();
  if (which != want) {
    CorruptObject(std::string("a value of kind ") + KindName(which) + " where " +
                  KindName(want) + " belongs");
  }
}

capnp::Data::Reader ReadBytes(schema::Value::Reader r, size_t elem_size) {
  ExpectWhich(r, schema::Value::Which::BYTES);
  capnp::Data::Reader bytes = r.getBytes();
  if (bytes.size() % elem_size != 0) {
    CorruptObject(std::to_string(bytes.size()) + " bytes, not a whole number of " +
                  std::to_string(elem_size) + "-byte elements");
  }
  return bytes;
}

capnp::List<schema::Value>::Reader ReadList(schema::Value::Reader r, long size) {
  ExpectWhich(r, schema::Value::Which::LIST);
  capnp::List<schema::Value>::Reader list = r.getList();
  if (size >= 0 && list.size() != static_cast<unsigned long>(size)) {
    CorruptObject("a list of " + std::to_string(list.size()) + " elements where " +
                  std::to_string(size) + " belong");
  }
  return list;
}

}  // namespace internal

std::string StoredTypeName(const void* data, size_t size) {
  internal::ObjectReader object(data, size, internal::ObjectReader::Mode::kDecode);
  try {
    capnp::Text::Reader type = object.Root().getType();
    return std::string(type.begin(), type.size());
  } catch (const kj::Exception& e) {
    internal::ThrowFromKj(e, "corrupt object");
  }
}

}  // namespace lumen::codec
