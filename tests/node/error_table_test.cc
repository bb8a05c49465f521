// The error table: which failures retry, which kinds are valid on the wire,
// the public exception each kind becomes, and what user code's exceptions
// become.
#include "protocol/error_table.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "lumen/errors.h"
#include "lumen/remote.h"

namespace testns {
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace testns

namespace lumen::internal {
namespace {

TEST(ErrorTableTest, RetryOfEveryKind) {
  EXPECT_EQ(RetryOf(ErrorKind::kNone), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kTask), Retry::kWhenAsked);
  EXPECT_EQ(RetryOf(ErrorKind::kWorkerCrashed), Retry::kAlways);
  EXPECT_EQ(RetryOf(ErrorKind::kCancelled), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kLost), Retry::kRebuildingFirst);
  EXPECT_EQ(RetryOf(ErrorKind::kBadCall), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kActorDied), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kStoreFull), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kReconstructionFailed), Retry::kNever);
  EXPECT_EQ(RetryOf(ErrorKind::kInfeasible), Retry::kNever);
}

TEST(ErrorTableTest, IsErrorKindAcceptsExactlyTheDefinedRange) {
  for (int v = 0; v <= 9; ++v) EXPECT_TRUE(IsErrorKind(static_cast<uint8_t>(v))) << v;
  EXPECT_FALSE(IsErrorKind(10));
  EXPECT_FALSE(IsErrorKind(100));
  EXPECT_FALSE(IsErrorKind(255));
}

struct Thrown {
  std::type_index type = typeid(void);
  std::string message;
  std::string exception_type;  // TaskError only
};

Thrown Throw(ErrorKind kind, const std::string& message, const std::string& exception_type = "") {
  try {
    ThrowObjectError({kind, message, exception_type});
  } catch (const TaskError& e) {
    return {typeid(e), e.what(), e.exception_type()};
  } catch (const Error& e) {
    return {typeid(e), e.what(), ""};
  } catch (...) {
    ADD_FAILURE() << "ThrowObjectError threw something that is not a lumen::Error";
  }
  return {};
}

TEST(ErrorTableTest, ThrowObjectErrorThrowsThePublicTypeOfEachKind) {
  struct Case {
    ErrorKind kind;
    std::type_index want;
  };
  const std::vector<Case> cases = {
      {ErrorKind::kWorkerCrashed, typeid(WorkerCrashedError)},
      {ErrorKind::kCancelled, typeid(TaskCancelledError)},
      {ErrorKind::kLost, typeid(ObjectLostError)},
      {ErrorKind::kBadCall, typeid(Error)},
      {ErrorKind::kActorDied, typeid(ActorDiedError)},
      {ErrorKind::kStoreFull, typeid(ObjectStoreFullError)},
      {ErrorKind::kReconstructionFailed, typeid(ObjectReconstructionFailedError)},
      {ErrorKind::kInfeasible, typeid(InfeasibleError)},
      {ErrorKind::kNone, typeid(Error)},
  };
  for (const Case& c : cases) {
    const std::string message = "message of kind " + std::to_string(static_cast<int>(c.kind));
    Thrown t = Throw(c.kind, message);
    EXPECT_EQ(t.type, c.want) << "kind " << static_cast<int>(c.kind) << " threw " << t.type.name();
    EXPECT_EQ(t.message, message);
  }
}

TEST(ErrorTableTest, ThrowObjectErrorOfATaskCarriesTheExceptionType) {
  Thrown t = Throw(ErrorKind::kTask, "task 'f' raised testns::ParseError: bad", "testns::ParseError");
  EXPECT_EQ(t.type, std::type_index(typeid(TaskError)));
  EXPECT_EQ(t.message, "task 'f' raised testns::ParseError: bad");
  EXPECT_EQ(t.exception_type, "testns::ParseError");
}

TEST(ErrorTableTest, ReconstructionFailureIsCaughtAsAnObjectLoss) {
  EXPECT_THROW(ThrowObjectError({ErrorKind::kReconstructionFailed, "gone", ""}), ObjectLostError);
}

template <class E>
ObjectError FromThrown(E thrown, const std::string& what_ran = "task 'f'") {
  try {
    throw thrown;
  } catch (...) {
    return ErrorFromException(std::current_exception(), what_ran);
  }
}

TEST(ErrorTableTest, BadCallBecomesKBadCallWithItsMessage) {
  ObjectError e = FromThrown(BadCallError("'f' takes 2 arguments, got 1"));
  EXPECT_EQ(e.kind, ErrorKind::kBadCall);
  EXPECT_EQ(e.message, "'f' takes 2 arguments, got 1");
  EXPECT_EQ(e.exception_type, "");
}

TEST(ErrorTableTest, LostArgumentBecomesKLostSoTheTaskRunsAgain) {
  ObjectError e = FromThrown(ObjectLostError("object abc is not in the object store"));
  EXPECT_EQ(e.kind, ErrorKind::kLost);
  EXPECT_EQ(e.message, "object abc is not in the object store");
  EXPECT_EQ(e.exception_type, "");
  EXPECT_EQ(RetryOf(e.kind), Retry::kRebuildingFirst);
}

TEST(ErrorTableTest, StdExceptionBecomesKTaskNamingTheTaskAndDemangledType) {
  ObjectError e = FromThrown(testns::ParseError("line 3"));
  EXPECT_EQ(e.kind, ErrorKind::kTask);
  EXPECT_EQ(e.exception_type, "testns::ParseError");
  EXPECT_EQ(e.message, "task 'f' raised testns::ParseError: line 3");
  EXPECT_NE(e.message.find("task 'f' raised"), std::string::npos);
}

TEST(ErrorTableTest, MessageNamesWhatRan) {
  ObjectError e = FromThrown(std::out_of_range("index 9"), "actor method 'Counter::Add'");
  EXPECT_EQ(e.kind, ErrorKind::kTask);
  EXPECT_EQ(e.exception_type, "std::out_of_range");
  EXPECT_EQ(e.message, "actor method 'Counter::Add' raised std::out_of_range: index 9");
}

TEST(ErrorTableTest, OtherLumenErrorsThrownByUserCodeAreTaskErrors) {
  // e.g. a nested Get that failed inside the task: the task failed.
  ObjectError e = FromThrown(ActorDiedError("actor x died"));
  EXPECT_EQ(e.kind, ErrorKind::kTask);
  EXPECT_EQ(e.exception_type, "lumen::ActorDiedError");
  EXPECT_EQ(e.message, "task 'f' raised lumen::ActorDiedError: actor x died");
}

TEST(ErrorTableTest, NonStdExceptionBecomesKTaskNamingItsType) {
  ObjectError e = FromThrown(42);
  EXPECT_EQ(e.kind, ErrorKind::kTask);
  EXPECT_EQ(e.exception_type, "int");
  EXPECT_EQ(e.message, "task 'f' raised int");
}

TEST(ErrorTableTest, ErrorFromExceptionRoundTripsThroughThrowObjectError) {
  ObjectError e = FromThrown(testns::ParseError("x"));
  Thrown t = Throw(e.kind, e.message, e.exception_type);
  EXPECT_EQ(t.type, std::type_index(typeid(TaskError)));
  EXPECT_EQ(t.message, e.message);
  EXPECT_EQ(t.exception_type, "testns::ParseError");
}

}  // namespace
}  // namespace lumen::internal
