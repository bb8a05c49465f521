// Who may delete: a socket client only what it created or holds a pin on;
// the server's own LocalClient (the node manager, which keeps the cluster's
// reference counts) anything. A refused delete deletes nothing.
#include <cstring>

#include "store_test_util.h"

namespace lumen::storage::testing {
namespace {

TEST(ObjectStoreDeleteRights, ClientsDeleteOnlyWhatTheyCreatedOrHold) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = StartServer(config);
  auto local = server->LocalClient();
  std::shared_ptr<ObjectStore> a, b;
  ASSERT_TRUE(ConnectToStore(config.socket_path, &a).ok());
  ASSERT_TRUE(ConnectToStore(config.socket_path, &b).ok());

  const ObjectID id = ObjectID::ForPut();
  ASSERT_TRUE(a->Put(id, "abc", 3, false).ok());
  Status s = b->Delete(id);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find(id.Hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("created"), std::string::npos) << s.message();
  // Nothing was deleted: everyone still reads it.
  EXPECT_TRUE(b->Contains(id));
  ObjectBuffer buf;
  ASSERT_TRUE(a->Get(id, &buf).ok());
  EXPECT_EQ(std::memcmp(buf.data, "abc", 3), 0);
  ASSERT_TRUE(a->Release(id).ok());

  // Its creator may.
  EXPECT_TRUE(a->Delete(id).ok());
  EXPECT_FALSE(local->Contains(id));

  // So may a client holding a pin, and only while it holds it.
  const ObjectID held = ObjectID::ForPut();
  ASSERT_TRUE(a->Put(held, "xyz", 3, false).ok());
  ASSERT_TRUE(b->Get(held, &buf).ok());
  ASSERT_TRUE(b->Release(held).ok());
  EXPECT_EQ(b->Delete(held).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(b->Get(held, &buf).ok());
  EXPECT_TRUE(b->Delete(held).ok());
  EXPECT_FALSE(a->Contains(held));
  ASSERT_TRUE(b->Release(held).ok());
  EXPECT_EQ(local->Stats().used_bytes, 0u);

  // The LocalClient may delete what a client made, and a client may not
  // delete what the LocalClient made.
  const ObjectID result = ObjectID::ForPut();
  ASSERT_TRUE(a->Put(result, "42", 2, false).ok());
  EXPECT_TRUE(local->Delete(result).ok());
  EXPECT_FALSE(a->Contains(result));
  const ObjectID owned = ObjectID::ForPut();
  ASSERT_TRUE(local->Put(owned, "n", 1, false).ok());
  EXPECT_EQ(a->Delete(owned).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(local->Contains(owned));
  EXPECT_TRUE(local->Delete(owned).ok());

  // The creator keeps its right while another client pins the object; the
  // bytes are freed with the last pin.
  const ObjectID kept = ObjectID::ForPut();
  ASSERT_TRUE(a->Put(kept, "k", 1, false).ok());
  ASSERT_TRUE(b->Get(kept, &buf).ok());
  EXPECT_TRUE(a->Delete(kept).ok());
  EXPECT_FALSE(local->Contains(kept));
  ASSERT_TRUE(b->Release(kept).ok());
}

TEST(ObjectStoreDeleteRights, RightsDieWithTheConnection) {
  StoreConfig config = MakeConfig(4 << 20);
  auto server = StartServer(config);
  auto local = server->LocalClient();
  const ObjectID id = ObjectID::ForPut();
  {
    auto shell = Shell::Client(config.socket_path);
    EXPECT_EQ(shell->Call("put " + Hex(id) + " 10 0 1"), "ok");
  }  // killed: its sealed object stays, owned by no one but the node
  ASSERT_TRUE(WaitFor([&] { return local->Stats().num_clients == 0; }));
  auto other = Shell::Client(config.socket_path);
  EXPECT_TRUE(StartsWith(other->Call("delete " + Hex(id)), Err(StatusCode::kPermissionDenied)));
  EXPECT_TRUE(local->Contains(id));
  EXPECT_TRUE(local->Delete(id).ok());
}

}  // namespace
}  // namespace lumen::storage::testing
