// hot_paths_bench: Google Benchmark micro-benchmarks of the CPU hot paths of
// the replication core, one function call per iteration, no I/O:
//
//   BM_Sync         DVV merge (Sync) of two replica states of one key, k
//                   siblings each (k = 1, 4, 16), about half of them shared.
//   BM_EncodeObject Object -> ObjectProto -> bytes (ToProto +
//                   SerializeToString), 1 and 8 siblings.
//   BM_DecodeObject bytes -> ObjectProto -> Object (ParseFromString +
//                   FromProto, which validates), 1 and 8 siblings.
//   BM_ApplyWrite   a new write whose context covers every sibling of the
//                   coordinator's replica (the read-modify-write case), on
//                   an object with 1 and 4 siblings.
//   BM_RingForKey   preference list lookup of random keys, 3 and 16 nodes
//                   with kDefaultVnodesPerNode.
//   BM_StableHash   xxHash64 of a 16-byte key.
//
// Every sibling value is 256 bytes. Run from the repository root:
//
//   build/bin/hot_paths_bench --benchmark_min_time=0.2
//
// (add --benchmark_filter=Sync to run one family).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "proto/replica.pb.h"
#include "replication/cluster_config.h"
#include "replication/object.h"
#include "replication/object_codec.h"
#include "replication/ring.h"
#include "replication/version_vector.h"

namespace quorumkv {
namespace {

constexpr size_t kValueBytes = 256;
// Fixed so that every run measures the same keys.
constexpr uint64_t kSeed = 0x5eed;

std::string Actor(char side, int i) { return absl::StrFormat("%c%d.5f3a9c2e", side, i); }

Sibling MakeSibling(Dot dot) {
  return Sibling{
      .dot = std::move(dot), .hlc = 1'700'000'000'000'000, .value = std::string(kValueBytes, 'v')};
}

// An object whose siblings are one write each of `actors` (counter 1), and
// whose context covers exactly those writes.
Object ConcurrentWrites(const std::vector<std::string>& actors) {
  Object object;
  for (const std::string& actor : actors) {
    Dot dot{.actor = actor, .counter = 1};
    object.context.Add(dot);
    object.siblings.push_back(MakeSibling(std::move(dot)));
  }
  std::sort(object.siblings.begin(), object.siblings.end(),
            [](const Sibling& a, const Sibling& b) { return a.dot < b.dot; });
  return object;
}

// `n` concurrent siblings written by actors "<side>0", "<side>1", ...
Object ConcurrentWrites(char side, int n) {
  std::vector<std::string> actors;
  for (int i = 0; i < n; ++i) actors.push_back(Actor(side, i));
  return ConcurrentWrites(actors);
}

// Two states with k siblings each: k/2 writes both have seen (shared) and
// k - k/2 each that the other has not, so Sync keeps all of them.
void BM_Sync(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  const int shared = k / 2;
  std::vector<std::string> a_actors, b_actors;
  for (int i = 0; i < shared; ++i) {
    a_actors.push_back(Actor('s', i));
    b_actors.push_back(Actor('s', i));
  }
  for (int i = shared; i < k; ++i) {
    a_actors.push_back(Actor('a', i));
    b_actors.push_back(Actor('b', i));
  }
  const Object a = ConcurrentWrites(a_actors);
  const Object b = ConcurrentWrites(b_actors);
  const size_t expected = static_cast<size_t>(shared + 2 * (k - shared));
  if (Sync(a, b).siblings.size() != expected) {
    state.SkipWithError("Sync dropped a concurrent sibling");
    return;
  }
  for (auto _ : state) {
    Object merged = Sync(a, b);
    benchmark::DoNotOptimize(merged);
  }
  state.SetItemsProcessed(state.iterations() * 2 * k);  // input siblings
  state.SetBytesProcessed(state.iterations() * 2 * k * kValueBytes);
}
BENCHMARK(BM_Sync)->Arg(1)->Arg(4)->Arg(16);

void BM_EncodeObject(benchmark::State& state) {
  const Object object = ConcurrentWrites('n', static_cast<int>(state.range(0)));
  std::string bytes;
  for (auto _ : state) {
    pb::ObjectProto proto;
    ToProto(object, &proto);
    bytes.clear();
    proto.SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_EncodeObject)->Arg(1)->Arg(8);

void BM_DecodeObject(benchmark::State& state) {
  const Object object = ConcurrentWrites('n', static_cast<int>(state.range(0)));
  pb::ObjectProto encoded;
  ToProto(object, &encoded);
  const std::string bytes = encoded.SerializeAsString();
  absl::StatusOr<Object> round_trip = FromProto(encoded);
  if (!round_trip.ok() || *round_trip != object) {
    state.SkipWithError("the object does not round-trip");
    return;
  }
  for (auto _ : state) {
    pb::ObjectProto proto;
    bool parsed = proto.ParseFromString(bytes);
    absl::StatusOr<Object> decoded = FromProto(proto);
    if (!parsed || !decoded.ok()) {
      state.SkipWithError("decoding failed");
      return;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodeObject)->Arg(1)->Arg(8);

// The local object is not changed, so one fresh dot serves every iteration.
// The sibling is copied each time: ApplyWrite takes it by value, as the put
// path does.
void BM_ApplyWrite(benchmark::State& state) {
  const Object local = ConcurrentWrites('n', static_cast<int>(state.range(0)));
  const VersionVector context = local.context;  // the writer read them all
  const Sibling write = MakeSibling(Dot{.actor = Actor('c', 0), .counter = 7});
  if (!CheckFreshDot(local, context, write.dot).ok() ||
      ApplyWrite(local, context, write).siblings.size() != 1) {
    state.SkipWithError("the write did not replace the siblings it read");
    return;
  }
  for (auto _ : state) {
    Object result = ApplyWrite(local, context, write);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyWrite)->Arg(1)->Arg(4);

std::vector<std::string> RandomKeys(size_t n) {
  std::mt19937_64 rng(kSeed);
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) keys.push_back(absl::StrFormat("user/%016x", rng()));
  return keys;
}

void BM_RingForKey(benchmark::State& state) {
  std::vector<std::string> nodes;
  for (int i = 1; i <= state.range(0); ++i) nodes.push_back(absl::StrFormat("n%d", i));
  absl::StatusOr<Ring> ring =
      Ring::Create(std::move(nodes), kDefaultVnodesPerNode, kDefaultReplicationFactor);
  if (!ring.ok()) {
    state.SkipWithError(ring.status().ToString().c_str());
    return;
  }
  // A power of two, so the index wraps with a mask; large enough that the
  // keys do not all sit in L1 next to the ring.
  const std::vector<std::string> keys = RandomKeys(1 << 12);
  size_t i = 0;
  for (auto _ : state) {
    const PreferenceList& list = ring->ForKey(keys[i++ & (keys.size() - 1)]);
    benchmark::DoNotOptimize(&list);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingForKey)->Arg(3)->Arg(16);

void BM_StableHash(benchmark::State& state) {
  const std::string key = "0123456789abcdef";
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.data());  // stop the hash being hoisted
    uint64_t hash = StableHash(key);
    benchmark::DoNotOptimize(hash);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(key.size()));
}
BENCHMARK(BM_StableHash);

// Merkle tree (anti-entropy) benchmarks belong here, but the store has no
// Merkle tree yet: add them with it.

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
