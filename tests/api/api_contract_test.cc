// The public API contract, as a user would write it: each test follows one
// section of the contract's examples and checks it behaves as promised.
#include <lumen/api.h>

#include <gtest/gtest.h>

// ---- Registering code ----------------------------------------------------------
int Return1() { return 1; }
int Plus(int x, int y) { return x + y; }
class Counter {
 public:
  static Counter* FactoryCreate() { return new Counter(0); }
  static Counter* FactoryCreate(int init) { return new Counter(init); }
  int Plus1() { return ++count_; }
  int Add(int x) { return count_ += x; }
  explicit Counter(int init) : count_(init) {}

 private:
  int count_;
};
LUMEN_REMOTE(Return1, Plus, &Counter::Plus1, &Counter::Add);
LUMEN_REMOTE(LUMEN_FUNC(Counter::FactoryCreate), LUMEN_FUNC(Counter::FactoryCreate, int));

// ---- User types ----------------------------------------------------------------
struct Person {
  std::string name;
  int age;
  LUMEN_FIELDS(name, age);
};
Person Birthday(Person p) { return {p.name, p.age + 1}; }
LUMEN_REMOTE(Birthday);

// Two functions of one name, registered unqualified: calling either is a clear error.
namespace left {
int Twin(int x) { return x; }
}  // namespace left
namespace right {
int Twin(int x) { return -x; }
}  // namespace right
using left::Twin;
LUMEN_REMOTE(Twin);
namespace right {
LUMEN_REMOTE(Twin);
}  // namespace right

namespace {

// N structs inside one another.
template <int N>
struct Nested {
  Nested<N - 1> inner;
  LUMEN_FIELDS(inner);
};
template <>
struct Nested<1> {
  int leaf = 1;
  LUMEN_FIELDS(leaf);
};

class ApiContract : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lumen::Config config;          // every field optional
    config.address = "";           // an embedded single-node cluster
    config.num_cpus = 2;
    config.resources = {{"GPU", 1}, {"disk_fast", 2}};
    config.ns = "my_namespace";
    lumen::Init(config);
  }
  static void TearDownTestSuite() { lumen::Shutdown(); }
};

TEST_F(ApiContract, StartingAndStopping) {
  EXPECT_TRUE(lumen::IsInitialized());
  EXPECT_EQ(lumen::GetNamespace(), "my_namespace");
}

TEST_F(ApiContract, TasksAndObjects) {
  lumen::ObjectRef<int> r = lumen::Task(Plus).Remote(1, 2);
  auto r2 = lumen::Task(Plus).Remote(r, 10);
  std::shared_ptr<int> v = lumen::Get(r);
  EXPECT_EQ(*v, 3);
  EXPECT_EQ(*r2.Get(), 13);
  std::vector<std::shared_ptr<int>> vs = lumen::Get(std::vector<lumen::ObjectRef<int>>{r, r2});
  EXPECT_EQ(*vs[1], 13);
  auto p = lumen::Get(r, /*timeout_ms=*/500);
  EXPECT_EQ(*p, 3);
  lumen::ObjectRef<std::string> o = lumen::Put(std::string("x"));
  std::vector<lumen::ObjectRef<int>> refs{r, r2, lumen::Task(Return1).Remote()};
  lumen::WaitResult<int> w = lumen::Wait(refs, /*num_objects=*/2, /*timeout_ms=*/1000);
  EXPECT_GE(w.ready.size(), 2u);
  std::string id = r.ID();
  lumen::ObjectRef<int> same = lumen::ObjectRef<int>::FromID(id);
  EXPECT_EQ(*same.Get(), 3);
  auto big_ref = lumen::Put(std::vector<double>(1 << 20, 2.0));
  auto view = lumen::GetView(big_ref);
  EXPECT_EQ(view.span()[12345], 2.0);
  auto options = lumen::Task(Plus).SetName("plus").SetResources({{"CPU", 1}}).SetResource("disk_fast", 1)
                     .SetMaxRetries(-1).SetRetryExceptions(false)
                     .SetSchedulingStrategy(lumen::SchedulingStrategy::Spread());
  EXPECT_EQ(*options.Remote(2, 2).Get(), 4);
  EXPECT_EQ(lumen::Task(Birthday).Remote(Person{"ada", 36}).Get()->age, 37);
}

TEST_F(ApiContract, Actors) {
  lumen::PlacementGroupCreationOptions opts{"pg_name", {{{"CPU", 1}}, {{"CPU", 1}}},
                                            lumen::PlacementStrategy::SPREAD};
  lumen::PlacementGroup pg = lumen::CreatePlacementGroup(opts);
  ASSERT_TRUE(pg.Wait(/*timeout_seconds=*/10));
  lumen::ActorHandle<Counter> a = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate, int))
                                      .SetMaxRestarts(2)
                                      .SetMaxTaskRetries(1)
                                      .SetName("counter")
                                      .SetResources({{"CPU", 1}})
                                      .SetMaxConcurrency(4)
                                      .SetPlacementGroup(pg, 0)
                                      .Remote(10);
  lumen::ObjectRef<int> x = a.Task(&Counter::Add).Remote(5);
  EXPECT_EQ(*x.Get(), 15);
  std::optional<lumen::ActorHandle<Counter>> h = lumen::GetActor<Counter>("counter");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->ID(), a.ID());
  EXPECT_TRUE(lumen::GetActor<Counter>("counter", "my_namespace").has_value());
  auto detached = lumen::Actor(LUMEN_FUNC(Counter::FactoryCreate))
                      .SetLifetime(lumen::ActorLifetime::DETACHED)
                      .Remote();
  EXPECT_EQ(*detached.Task(&Counter::Plus1).Remote().Get(), 1);
  a.Kill();
  EXPECT_THROW(a.Task(&Counter::Add).Remote(1).Get(10000), lumen::ActorDiedError);
  lumen::RemovePlacementGroup(pg.GetID());
  EXPECT_FALSE(lumen::GetPlacementGroup("pg_name").has_value());
  EXPECT_TRUE(lumen::GetPlacementGroupById(pg.GetID()).has_value());
  EXPECT_FALSE(lumen::GetAllPlacementGroups().empty());
}

TEST_F(ApiContract, ErrorsDeriveFromLumenError) {
  static_assert(std::is_base_of_v<lumen::Error, lumen::TaskError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::WorkerCrashedError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::ActorDiedError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::ObjectLostError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::ObjectReconstructionFailedError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::GetTimeoutError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::TaskCancelledError>);
  static_assert(std::is_base_of_v<lumen::Error, lumen::codec::CodecError>);
  static_assert(std::is_base_of_v<std::runtime_error, lumen::Error>);
  EXPECT_THROW(lumen::CreatePlacementGroup({"dup", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK}).GetID();
               lumen::CreatePlacementGroup({"dup", {{{"CPU", 1}}}, lumen::PlacementStrategy::PACK}), lumen::Error);
}

// What Put accepts, Get reads: a value nested past the format's limit is
// refused at Put with a lumen::Error naming the limit, not stored unreadable.
TEST_F(ApiContract, PutRefusesWhatGetCouldNotRead) {
  auto deepest = lumen::Put(Nested<63>{});
  EXPECT_NO_THROW(deepest.Get());
  try {
    lumen::Put(Nested<64>{});
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("at most 63"), std::string::npos) << e.what();
  }
}

TEST_F(ApiContract, AmbiguousNamesAreAClearError) {
  try {
    lumen::Task(left::Twin).Remote(1);
    FAIL() << "expected lumen::Error";
  } catch (const lumen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than one function is registered as 'Twin'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
