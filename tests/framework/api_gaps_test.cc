// What Ray's own C++ API tests showed missing (each failed to compile or
// failed before its fix): the runtime as seen from inside tasks, tasks and
// methods returning void, ObjectRef parameters, errors naming an actor.
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "lumen/api.h"

namespace {

bool InitializedHere() { return lumen::IsInitialized(); }
std::string NamespaceHere() { return lumen::GetNamespace(); }
int GuardedInit(int x) {
  if (!lumen::IsInitialized()) lumen::Init();  // the common guard must not end the worker
  return x + 1;
}
void Touch(std::string path) { std::ofstream(path) << "touched"; }
void VoidFails() { throw std::runtime_error("void went wrong"); }
int Deref(lumen::ObjectRef<int> ref) { return *lumen::Get(ref) * 10; }
std::string RefId(lumen::ObjectRef<int> ref) { return ref.ID(); }

class Account {
 public:
  static Account* Make(int balance) { return new Account{balance}; }
  static Account* Refuse(int) { throw std::invalid_argument("no accounts today"); }
  void Deposit(int x) { balance_ += x; }
  int Balance() const { return balance_; }
  bool Initialized() { return lumen::IsInitialized(); }
  int balance_ = 0;
};

LUMEN_REMOTE(InitializedHere, NamespaceHere, GuardedInit, Touch, VoidFails, Deref, RefId, Account::Make,
             Account::Refuse, &Account::Deposit, &Account::Balance, &Account::Initialized);

class ApiGapsTest : public ClusterTest {};

TEST_F(ApiGapsTest, TasksAndActorsSeeTheRuntimeAsTheDriverDoes) {
  EXPECT_TRUE(*lumen::Get(lumen::Task(InitializedHere).Remote(), 30000));
  EXPECT_EQ(*lumen::Get(lumen::Task(NamespaceHere).Remote(), 30000), lumen::GetNamespace());
  EXPECT_EQ(*lumen::Get(lumen::Task(GuardedInit).Remote(1), 30000), 2);
  auto account = lumen::Actor(Account::Make).Remote(0);
  EXPECT_TRUE(*account.Task(&Account::Initialized).Remote().Get(30000));
}

TEST_F(ApiGapsTest, VoidTasksAndMethods) {
  std::string path = testing::TempDir() + "lumen-void-" + std::to_string(getpid());
  lumen::ObjectRef<void> done = lumen::Task(Touch).Remote(path);
  lumen::Get(done, 30000);
  std::string text;
  std::ifstream(path) >> text;
  EXPECT_EQ(text, "touched");
  std::remove(path.c_str());
  EXPECT_THROW(lumen::Task(VoidFails).Remote().Get(30000), lumen::TaskError);

  auto account = lumen::Actor(Account::Make).Remote(5);
  std::vector<lumen::ObjectRef<void>> deposits;
  for (int i = 0; i < 3; ++i) deposits.push_back(account.Task(&Account::Deposit).Remote(10));
  lumen::Get(deposits, 30000);
  EXPECT_EQ(*account.Task(&Account::Balance).Remote().Get(30000), 35);
}

TEST_F(ApiGapsTest, ObjectRefParametersGetTheReferenceItself) {
  lumen::ObjectRef<int> seven = lumen::Put(7);
  EXPECT_EQ(*lumen::Get(lumen::Task(Deref).Remote(seven), 30000), 70);
  EXPECT_EQ(*lumen::Get(lumen::Task(RefId).Remote(seven), 30000), seven.ID());
  auto computed = lumen::Task(Deref).Remote(seven);
  EXPECT_EQ(*lumen::Get(lumen::Task(Deref).Remote(lumen::Put(*lumen::Get(computed))), 30000), 700);
}

TEST_F(ApiGapsTest, ActorCreationErrorsNameTheActorsFactory) {
  auto refused = lumen::Actor(Account::Refuse).Remote(1);
  try {
    refused.Task(&Account::Balance).Remote().Get(30000);
    ADD_FAILURE() << "a call to an actor whose factory threw returned";
  } catch (const lumen::ActorDiedError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("actor"), std::string::npos) << what;
    EXPECT_NE(what.find("Account::Refuse"), std::string::npos) << what;
    EXPECT_EQ(what.find("task ''"), std::string::npos) << what;
  }
}

}  // namespace
