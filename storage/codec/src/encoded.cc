// Building objects: Encoded, the Encoder behind Encode, and WriteBytes, the one
// place that decides whether a payload is copied or referenced.

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <capnp/orphan.h>
#include <capnp/serialize.h>
#include <lumen/storage/codec.h>

namespace lumen::codec {
namespace {

// A small first segment inside Impl: a small object costs one allocation.
constexpr size_t kFirstSegmentWords = 64;
// Below this, copying is cheaper than a segment of its own (a far pointer, a
// segment-table entry, a segment lookup on every read).
constexpr size_t kReferenceMinBytes = 8 * 1024;
// Each referenced payload is a segment; keep the segment table short.
constexpr int kMaxReferences = 128;

thread_local internal::Encoder* current_encoder = nullptr;

}  // namespace

struct Encoded::Impl {
  // First member, so destroyed last: the builder references its payloads.
  std::shared_ptr<const void> keep_alive;
  // Zeroed, as MallocMessageBuilder requires of a caller's first segment.
  alignas(8) uint64_t first_segment[kFirstSegmentWords] = {};
  capnp::MallocMessageBuilder builder{
      kj::arrayPtr(reinterpret_cast<capnp::word*>(first_segment), kFirstSegmentWords)};
  kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments;  // set by Finish
  size_t size = 0;
  int references = 0;
};

Encoded::Encoded(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Encoded::Encoded(Encoded&&) noexcept = default;
Encoded& Encoded::operator=(Encoded&&) noexcept = default;
Encoded::~Encoded() = default;

size_t Encoded::size() const { return impl_->size; }

bool Encoded::borrows() const { return impl_->references > 0; }

namespace {

// Copies a large payload with non-temporal stores. An object is written once
// and read later, often by another process: caching it only evicts what the
// writer needs. Measured on this kind of VM: glibc memcpy into the segment ran
// at 3.4-6 GB/s whenever (dst - src) mod 4096 was small, streaming stores at
// 10-12 GB/s at every offset (benchmarks/RESULTS.md).
void BulkCopy(uint8_t* dst, const uint8_t* src, size_t n) {
#if defined(__SSE2__)
  constexpr size_t kStreamFrom = size_t{1} << 20;
  if (n >= kStreamFrom) {
    size_t head = (16 - reinterpret_cast<uintptr_t>(dst) % 16) % 16;
    std::memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    size_t blocks = n / 64;
    for (size_t i = 0; i < blocks; ++i, dst += 64, src += 64) {
      __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
      __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
      __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32));
      __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst), a);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), b);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), c);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 48), d);
    }
    _mm_sfence();  // streaming stores are weakly ordered: finish them before Seal publishes the object
    n -= blocks * 64;
  }
#endif
  std::memcpy(dst, src, n);
}

}  // namespace

void Encoded::WriteTo(uint8_t* dest) const {
  // The standard flat format: uint32 segment count - 1, uint32 size in words of
  // each segment, padding to a word, then the segments back to back.
  const auto& segments = impl_->segments;
  uint8_t* out = dest;
  auto put = [&out](size_t v) {
    const uint32_t v32 = static_cast<uint32_t>(v);
    std::memcpy(out, &v32, sizeof(v32));
    out += sizeof(v32);
  };
  put(segments.size() - 1);
  for (const auto& segment : segments) put(segment.size());
  if (segments.size() % 2 == 0) put(0);
  for (const auto& segment : segments) {
    BulkCopy(out, reinterpret_cast<const uint8_t*>(segment.begin()), segment.size() * sizeof(capnp::word));
    out += segment.size() * sizeof(capnp::word);
  }
}

namespace internal {

Encoder::Encoder(const std::string& type_name)
    : impl_(std::make_unique<Encoded::Impl>()), previous_(current_encoder) {
  auto root = impl_->builder.initRoot<schema::Object>();
  root.setType(capnp::Text::Reader(type_name.data(), type_name.size()));
  root.initValue();
  current_encoder = this;
}

Encoder::~Encoder() { current_encoder = previous_; }

Encoder* Encoder::Current() { return current_encoder; }

schema::Value::Builder Encoder::Value() {
  return impl_->builder.getRoot<schema::Object>().getValue();
}

Encoded Encoder::Finish(std::shared_ptr<const void> keep_alive) {
  impl_->segments = impl_->builder.getSegmentsForOutput();
  impl_->size = capnp::computeSerializedSizeInWords(impl_->segments) * sizeof(capnp::word);
  if (impl_->references > 0) impl_->keep_alive = std::move(keep_alive);
  return Encoded(std::move(impl_));
}

bool Encoder::TryReference(schema::Value::Builder b, const void* p, size_t n) {
  if (n < kReferenceMinBytes || n % 8 != 0 || reinterpret_cast<uintptr_t>(p) % 8 != 0 ||
      impl_->references >= kMaxReferences) {
    return false;
  }
  auto orphanage = capnp::Orphanage::getForMessageContaining(b);
  b.adoptBytes(orphanage.referenceExternalData(
      capnp::Data::Reader(static_cast<const kj::byte*>(p), n)));
  ++impl_->references;
  return true;
}

void WriteBytes(schema::Value::Builder b, const void* p, size_t n, bool may_reference) {
  if (n > kMaxBlobBytes) {
    throw CodecError("object too large: a string or vector of numbers holds at most 2^29 - 1 "
                     "bytes (512 MiB) in one object, this one has " + std::to_string(n) +
                     " bytes; split it into several objects");
  }
  Encoder* encoder = Encoder::Current();
  if (may_reference && encoder != nullptr && encoder->TryReference(b, p, n)) return;
  capnp::Data::Builder bytes = b.initBytes(static_cast<unsigned>(n));
  if (n != 0) std::memcpy(bytes.begin(), p, n);
}

void ThrowFromKj(const kj::Exception& e, const char* context) {
  throw CodecError(std::string(context) + ": " + e.getDescription().cStr());
}

}  // namespace internal
}  // namespace lumen::codec
