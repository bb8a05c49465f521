// lumen::Error: the one base of every exception lumen throws to its users.
//
// It lives down here, in the lowest layer, so that storage's own exceptions
// (codec::CodecError) derive from it too, and `catch (const lumen::Error&)`
// catches everything lumen throws. Users include <lumen/errors.h>, which has
// this class and the framework's errors derived from it.
#pragma once

#include <stdexcept>

namespace lumen {

// Bad use: an unregistered function, a type mismatch, a call before Init, bad
// config; and the base of every more specific lumen error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace lumen
