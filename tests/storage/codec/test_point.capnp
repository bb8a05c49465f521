@0xd4e1b2c3a4f50617;
# A user's own Cap'n Proto types, for the codec tests.

struct Point {
  x @0 :Float64;
  y @1 :Float64;
  label @2 :Text;
  samples @3 :List(Int32);
}

struct Polyline {
  name @0 :Text;
  points @1 :List(Point);
}

# Nests as deep as it is long: for the nesting limit's tests.
struct Chain {
  value @0 :Int32;
  next @1 :Chain;
}
