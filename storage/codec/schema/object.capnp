@0xc7d1a1f0e5b2a901;
# The format of every lumen object: one `Object` as the root of a Cap'n Proto
# message. C++ values map onto the generic `Value` tree by the codecs in
# storage/codec/include/lumen/storage/ (codec_std.h lists the mapping).
# Additions must stay backward compatible: new union members and fields only.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("lumen::schema");

struct Value {
  union {
    none @0 :Void;        # std::nullopt
    bool @1 :Bool;        # bool
    int @2 :Int64;        # signed integers and char (when signed)
    uint @3 :UInt64;      # unsigned integers
    float64 @4 :Float64;  # double
    float32 @5 :Float32;  # float (kept as float: NaN payloads survive bit for bit)
    bytes @6 :Data;       # std::string; vector/array of arithmetic elements, raw and
                          # native-endian (bool as one 0/1 byte each). A blob starts
                          # on a word boundary, so a span over it is aligned.
    list @7 :List(Value); # vector/array of other elements; pair, tuple, LUMEN_FIELDS
                          # struct (fields in order); optional holding a value (one
                          # element); map/unordered_map (key, value, key, value, ...)
    ref @8 :Data;         # an ObjectRef nested in a value: written by the runtime's codec
    capnp @9 :AnyPointer; # a user's Cap'n Proto struct, stored as itself
  }
}

struct Object {
  type @0 :Text;    # TypeName<T>() of the C++ type written, checked on decode
  value @1 :Value;
}
