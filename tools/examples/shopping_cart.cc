// An application on quorumkv's client library: a shopping cart that two
// devices update at once, resolved the Dynamo way (union of the siblings).
//
//   build/bin/shopping_cart --cluster HOST:PORT[,...]
//
// Each device reads the cart, adds an item and writes back with the context
// it read. Updates that did not see each other come back as siblings; the
// app merges them (set union) and writes the merge with the context of the
// read that returned them, which replaces every sibling it covers.
//
// Each device keeps a client session (client/session.h), so it may write
// with W=1 and read with R=1 — fast, and available while most replicas are
// unreachable — and still never read a cart without its own last update:
// a reply that lacks it is retried against more replicas, or refused
// (docs/consistency.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/kv_client.h"

namespace {

using quorumkv::KvClient;
using quorumkv::Session;

// A cart is stored as "item,item,...".
std::set<std::string> ParseCart(const std::string& value) {
  std::set<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    items.emplace(item);
  }
  return items;
}

// Reads the cart, merging every sibling. Returns the items and the context.
absl::StatusOr<std::pair<std::set<std::string>, std::string>> ReadCart(KvClient& client,
                                                                       const std::string& key,
                                                                       Session& device,
                                                                       uint32_t r = 1) {
  absl::StatusOr<quorumkv::v1::GetResponse> got = client.Get(key, {.r = r}, &device);
  if (!got.ok()) return got.status();
  if (got->session().attempts() > 1) {
    std::printf("  a replica lacked this device's last update: read again (%u reads)\n",
                got->session().attempts());
  }
  std::set<std::string> items;
  for (const std::string& value : quorumkv::LiveValues(*got)) {
    std::set<std::string> sibling = ParseCart(value);
    items.insert(sibling.begin(), sibling.end());
  }
  if (quorumkv::HasConflict(*got)) {
    std::printf("  read %zu siblings; merged them into {%s}\n", quorumkv::LiveValues(*got).size(),
                absl::StrJoin(items, ",").c_str());
  }
  return std::make_pair(items, got->context());
}

absl::Status AddItem(KvClient& client, const std::string& key, const std::string& item,
                     const std::string& context, std::set<std::string> items, Session& device) {
  items.insert(item);
  return client.Put(key, absl::StrJoin(items, ","), {.w = 1, .context = context}, &device).status();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shopping_cart: concurrent cart updates on quorumkv, merged by the app"};
  std::string cluster;
  app.add_option("--cluster", cluster, "HOST:PORT[,...] of any nodes")->required();
  std::string tls_dir;
  app.add_option("--tls-dir", tls_dir,
                 "ca.pem, client.pem and client-key.pem for mutual TLS, as kvharness writes to "
                 "DIR/tls (default: $KVCTL_TLS_DIR; none: plaintext)")
      ->envname("KVCTL_TLS_DIR");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<std::unique_ptr<KvClient>> client = KvClient::Connect(
      {.endpoints = absl::StrSplit(cluster, ',', absl::SkipEmpty()),
       .tls = tls_dir.empty() ? quorumkv::TlsFiles() : quorumkv::TlsFilesIn(tls_dir, "client")});
  if (!client.ok()) return std::fprintf(stderr, "%s\n", client.status().ToString().c_str()), 1;
  const std::string key = "cart/demo-" + std::to_string(absl::ToUnixMicros(absl::Now()));

  // Both devices read the same (empty) cart, then each adds an item.
  Session phone_session, laptop_session;
  auto phone = ReadCart(**client, key, phone_session);
  auto laptop = ReadCart(**client, key, laptop_session);
  if (!phone.ok() || !laptop.ok()) return std::fprintf(stderr, "read failed\n"), 1;
  std::printf("phone adds 'book', laptop adds 'lamp', both from the same read\n");
  absl::Status a = AddItem(**client, key, "book", phone->second, phone->first, phone_session);
  absl::Status b = AddItem(**client, key, "lamp", laptop->second, laptop->first, laptop_session);
  if (!a.ok() || !b.ok()) return std::fprintf(stderr, "write failed\n"), 1;

  // To merge, the phone reads every replica (R=3: it sees both updates);
  // writing the merge resolves the siblings.
  auto merged = ReadCart(**client, key, phone_session, /*r=*/3);
  if (!merged.ok()) return std::fprintf(stderr, "read failed\n"), 1;
  if (!AddItem(**client, key, "pen", merged->second, merged->first, phone_session).ok()) return 1;
  // A one-replica read in the phone's session reflects that last write,
  // whichever replica answers: the whole merged cart.
  auto final_cart = ReadCart(**client, key, phone_session);
  if (!final_cart.ok()) {
    return std::fprintf(stderr, "read failed: %s\n", final_cart.status().ToString().c_str()), 1;
  }
  std::printf("cart: {%s}\n", absl::StrJoin(final_cart->first, ",").c_str());
  const std::set<std::string> expected = {"book", "lamp", "pen"};
  if (final_cart->first != expected) {
    std::fprintf(stderr, "lost an update: expected {book,lamp,pen}\n");
    return 1;
  }
  return 0;
}
