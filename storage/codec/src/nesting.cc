// How deep values nest: counted while Encode writes them, so that Encode
// refuses what Decode could not read (Decode bounds nesting at kNestingLimit).

#include <capnp/any.h>
#include <lumen/storage/codec.h>

namespace lumen::codec::internal {

namespace {

// Whether everything under `p` can be read by a reader that may still follow
// `limit` levels, counted as Cap'n Proto's readers count them: following a
// struct or list pointer takes one, reading an element of a struct list one
// more. Blobs count as lists (Cap'n Proto cannot tell Data from List(UInt8)),
// so this errs on the safe side by at most one level. Recursion stops at
// `limit`, which is at most kNestingLimit.
bool Fits(capnp::AnyPointer::Reader p, int limit) {
  switch (p.getPointerType()) {
    case capnp::PointerType::NULL_:
    case capnp::PointerType::CAPABILITY:
      return true;
    case capnp::PointerType::STRUCT: {
      if (limit <= 0) return false;
      for (auto child : p.getAs<capnp::AnyStruct>().getPointerSection()) {
        if (!Fits(child, limit - 1)) return false;
      }
      return true;
    }
    case capnp::PointerType::LIST: {
      if (limit <= 0) return false;
      capnp::AnyList::Reader list = p.getAs<capnp::AnyList>();
      if (list.getElementSize() == capnp::ElementSize::POINTER) {
        for (auto child : list.as<capnp::List<capnp::AnyPointer>>()) {
          if (!Fits(child, limit - 1)) return false;
        }
      } else if (list.getElementSize() == capnp::ElementSize::INLINE_COMPOSITE && list.size() > 0) {
        if (limit - 1 <= 0) return false;
        for (auto element : list.as<capnp::List<capnp::AnyStruct>>()) {
          for (auto child : element.getPointerSection()) {
            if (!Fits(child, limit - 2)) return false;
          }
        }
      }
      return true;
    }
  }
  return false;
}

}  // namespace

ListBuilder::ListBuilder(schema::Value::Builder b, size_t n) {
  if (n > kMaxListElements) {
    throw CodecError("object too large: a container of values other than numbers holds at most " +
                     std::to_string(kMaxListElements) + " elements (2^29 - 1 words, " +
                     std::to_string(kValueWords) + " per element; a map counts each key and "
                     "value) in one object, this one has " + std::to_string(n) +
                     "; split it into several objects");
  }
  Encoder* encoder = Encoder::Current();
  if (encoder != nullptr) {
    if (encoder->depth_ >= kMaxDepth) {
      throw CodecError("cannot encode: containers nest " + std::to_string(encoder->depth_ + 1) +
                       " deep here; an object holds at most " + std::to_string(kMaxDepth) +
                       " inside one another (each vector, array, map, pair, tuple, optional "
                       "holding a value and LUMEN_FIELDS struct counts one)");
    }
    ++encoder->depth_;
    counted_ = true;
  }
  list_ = b.initList(static_cast<unsigned>(n));  // noexcept in practice: the size is checked
}

ListBuilder::~ListBuilder() {
  if (counted_) --Encoder::Current()->depth_;
}

void CheckCapnpNesting(schema::Value::Builder b) {
  Encoder* encoder = Encoder::Current();
  const int depth = encoder != nullptr ? encoder->depth() : 0;
  // What a reader of the Value holding the struct may still follow.
  const int left = kNestingLimit - 2 - 2 * depth;
  if (!Fits(b.asReader().getCapnp(), left)) {
    throw CodecError("cannot encode: a Cap'n Proto struct " +
                     (depth > 0 ? "inside " + std::to_string(depth) + " containers " : std::string()) +
                     "nests deeper than an object can be read back: its pointers may nest at most " +
                     std::to_string(left) + " levels here (" + std::to_string(kNestingLimit) +
                     " in all, 2 for the object and 2 per container around it)");
  }
}

}  // namespace lumen::codec::internal
