#include "tools/kvbench/runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace quorumkv::bench {

std::atomic<bool> g_interrupted{false};

void OpStats::Merge(const OpStats& other) {
  latency.Merge(other.latency);
  errors += other.errors;
  if (first_error.empty()) first_error = other.first_error;
}

double TargetResult::ops_per_second() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  if (seconds <= 0) return 0;
  return static_cast<double>(read.latency.count() + update.latency.count()) / seconds;
}

double TargetResult::server_cpu_us_per_op() const { return MicrosPerOp(server_cpu_seconds); }

double TargetResult::client_cpu_us_per_op() const { return MicrosPerOp(client_cpu_seconds); }

double TargetResult::MicrosPerOp(double seconds) const {
  const uint64_t ops = read.latency.count() + update.latency.count();
  return ops == 0 ? 0 : seconds * 1e6 / static_cast<double>(ops);
}

namespace {

double TotalCpuSeconds(const std::vector<pid_t>& pids) {
  double total = 0;
  for (pid_t pid : pids) total += CpuSeconds(pid);
  return total;
}

// Counters every worker adds to, for the progress line.
struct Progress {
  std::atomic<uint64_t> ops{0};
  std::atomic<uint64_t> errors{0};
};

// Prints a progress line every second until `done`.
class ProgressPrinter {
 public:
  ProgressPrinter(std::string label, const Progress* progress, uint64_t total, bool tty)
      : label_(std::move(label)),
        progress_(progress),
        total_(total),
        tty_(tty),
        start_(absl::Now()),
        thread_([this] { Loop(); }) {}
  ~ProgressPrinter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    uint64_t last_ops = 0;
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
      const uint64_t ops = progress_->ops.load();
      const double elapsed = absl::ToDoubleSeconds(absl::Now() - start_);
      const std::string of = total_ > 0 ? absl::StrCat("/", total_) : "";
      std::fprintf(stderr, "%s  %s %5.0f s  %llu%s ops  %llu ops/s  %llu errors%s",
                   tty_ ? "\r" : "", label_.c_str(), elapsed, static_cast<unsigned long long>(ops),
                   of.c_str(), static_cast<unsigned long long>(ops - last_ops),
                   static_cast<unsigned long long>(progress_->errors.load()), tty_ ? "" : "\n");
      std::fflush(stderr);
      last_ops = ops;
    }
  }

  const std::string label_;
  const Progress* const progress_;
  const uint64_t total_;
  const bool tty_;
  const absl::Time start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string SeededValue(uint64_t seed, size_t bytes) {
  std::string value(bytes, 'x');
  for (size_t i = 0; i < bytes; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    value[i] = static_cast<char>('a' + (seed >> 59) % 26);
  }
  return value;
}

// Runs `work(worker, client)` on `count` threads, each with a client of
// its own. The first client that cannot be made fails the whole run.
template <typename Work>
absl::Status RunWorkers(Target& target, int count, Work work) {
  std::vector<std::unique_ptr<TargetClient>> clients;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::unique_ptr<TargetClient>> c = target.NewClient();
    if (!c.ok()) return c.status();
    clients.push_back(std::move(*c));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] { work(i, *clients[i]); });
  }
  for (std::thread& t : threads) t.join();
  return absl::OkStatus();
}

// Target::LoadDirectly, if the target has it: OK with result.loaded_directly
// set, or UNIMPLEMENTED.
absl::Status LoadDirectly(Target& target, const RunOptions& options, TargetResult& result) {
  Progress progress;
  const absl::Time start = absl::Now();
  absl::Status loaded;
  {
    // Counts writes to each server: no total to show.
    ProgressPrinter printer(absl::StrCat(target.name(), " load"), &progress, 0,
                            options.progress_on_tty);
    loaded = target.LoadDirectly(
        options.keys, [&](uint64_t i) { return SeededValue(i, options.value_bytes); },
        &progress.ops);
  }
  if (absl::IsUnimplemented(loaded)) return loaded;
  result.load_time = absl::Now() - start;
  result.loaded_directly = true;
  if (!loaded.ok()) return absl::Status(loaded.code(), absl::StrCat("load: ", loaded.message()));
  result.loaded = options.keys;
  return absl::OkStatus();
}

absl::Status Load(Target& target, const RunOptions& options, TargetResult& result) {
  if (options.direct_load) {
    absl::Status direct = LoadDirectly(target, options, result);
    if (!absl::IsUnimplemented(direct)) return direct;
  }
  Progress progress;
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  absl::Status first_error;
  const absl::Time start = absl::Now();
  {
    ProgressPrinter printer(absl::StrCat(target.name(), " load"), &progress, options.keys,
                            options.progress_on_tty);
    absl::Status workers = RunWorkers(target, options.concurrency, [&](int, TargetClient& c) {
      for (uint64_t i = next++; i < options.keys && !g_interrupted; i = next++) {
        absl::Status s = c.Update(KeyName(i), SeededValue(i, options.value_bytes));
        ++progress.ops;
        if (s.ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        return;
      }
    });
    if (!workers.ok()) return workers;
  }
  result.load_time = absl::Now() - start;
  result.loaded = std::min<uint64_t>(progress.ops.load(), options.keys);
  if (!first_error.ok()) {
    return absl::Status(first_error.code(), absl::StrCat("load: ", first_error.message()));
  }
  if (g_interrupted) return absl::CancelledError("interrupted");
  return absl::OkStatus();
}

// One worker's operations: which key, read or update, and the value.
class WorkerOps {
 public:
  struct Op {
    bool read = true;
    std::string key;
    std::string value;  // updates only
  };

  WorkerOps(const RunOptions& options, int worker)
      : options_(&options),
        keys_(options.keys, options.zipfian, options.theta, options.seed * 1000 + worker),
        rng_(options.seed * 7919 + worker) {}

  Op Next() {
    Op op;
    op.key = KeyName(keys_.Next());
    op.read = std::uniform_real_distribution<double>(0, 1)(rng_) < options_->workload.read_fraction;
    if (!op.read) op.value = SeededValue(rng_(), options_->value_bytes);
    return op;
  }

 private:
  const RunOptions* options_;
  KeyChooser keys_;
  std::mt19937_64 rng_;
};

// What every worker shares during the measured run, and what each records.
class RunState {
 public:
  RunState(const RunOptions& options, absl::Time start)
      : options(options),
        start(start),
        end(start + options.duration),
        // Open loop: each worker issues at rate / concurrency, and a latency
        // counts from when the operation was due, so that a stall is not
        // hidden.
        interval(options.rate > 0 ? absl::Seconds(options.concurrency / options.rate)
                                  : absl::ZeroDuration()),
        reads(options.concurrency),
        updates(options.concurrency) {}

  // Worker w's first due time (open loop: the workers' slots interleave).
  absl::Time FirstDue(int w) const { return start + interval * w / options.concurrency; }
  // Whether worker w may issue another operation (interrupt, op count).
  bool MayIssue() {
    if (g_interrupted) return false;
    return options.max_ops == 0 || issued++ < options.max_ops;
  }
  void Record(int w, bool read, absl::Time began, const absl::Status& status) {
    OpStats& stats = read ? reads[w] : updates[w];
    ++progress.ops;
    if (status.ok()) {
      stats.latency.Record(absl::Now() - began);
      return;
    }
    ++stats.errors;
    ++progress.errors;
    if (stats.first_error.empty()) stats.first_error = status.ToString();
  }

  const RunOptions& options;
  const absl::Time start, end;
  const absl::Duration interval;
  Progress progress;
  std::atomic<uint64_t> issued{0};
  std::vector<OpStats> reads, updates;
};

// A thread per worker, each with a client of its own.
absl::Status RunThreads(Target& target, RunState& run) {
  const RunOptions& options = run.options;
  return RunWorkers(target, options.concurrency, [&](int w, TargetClient& c) {
    WorkerOps ops(options, w);
    absl::Time due = run.FirstDue(w);
    while (run.MayIssue()) {
      if (options.rate > 0) {
        due += run.interval;
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
      }
      const absl::Time began = options.rate > 0 ? due : absl::Now();
      if (began >= run.end) break;
      const WorkerOps::Op op = ops.Next();
      run.Record(w, op.read, began, op.read ? c.Read(op.key) : c.Update(op.key, op.value));
    }
  });
}

// Every worker on `client`'s one thread: a worker's next operation starts
// from the completion of its last.
class AsyncWorkers {
 public:
  AsyncWorkers(AsyncTargetClient* client, RunState* run) : client_(client), run_(run) {
    for (int w = 0; w < run->options.concurrency; ++w) {
      ops_.emplace_back(run->options, w);
      due_.push_back(run->FirstDue(w));
    }
  }

  void Run() {
    for (int w = 0; w < run_->options.concurrency; ++w) Next(w);
    client_->Run();
  }

 private:
  void Next(int w) {
    if (!run_->MayIssue()) return;
    if (run_->options.rate > 0) {
      due_[w] += run_->interval;
      if (due_[w] >= run_->end) return;  // the run ends before it is due
      if (due_[w] > absl::Now()) {
        client_->At(due_[w], [this, w] { Issue(w, due_[w]); });
        return;
      }
      Issue(w, due_[w]);
      return;
    }
    Issue(w, absl::Now());
  }

  void Issue(int w, absl::Time began) {
    if (began >= run_->end) return;
    WorkerOps::Op op = ops_[w].Next();
    auto done = [this, w, began, read = op.read](absl::Status status) {
      run_->Record(w, read, began, status);
      Next(w);
    };
    if (op.read) {
      client_->Read(w, op.key, std::move(done));
    } else {
      client_->Update(w, op.key, op.value, std::move(done));
    }
  }

  AsyncTargetClient* const client_;
  RunState* const run_;
  std::vector<WorkerOps> ops_;
  std::vector<absl::Time> due_;
};

void Run(Target& target, const RunOptions& options, TargetResult& result) {
  absl::StatusOr<std::unique_ptr<AsyncTargetClient>> async =
      target.NewAsyncClient(options.concurrency);
  if (!async.ok() && !absl::IsUnimplemented(async.status())) {
    result.status = async.status();
    return;
  }
  RunState run(options, absl::Now());
  {
    ProgressPrinter printer(absl::StrCat(target.name(), " run "), &run.progress, options.max_ops,
                            options.progress_on_tty);
    if (async.ok()) {
      AsyncWorkers(async->get(), &run).Run();
    } else if (absl::Status workers = RunThreads(target, run); !workers.ok()) {
      result.status = workers;
      return;
    }
  }
  result.elapsed = absl::Now() - run.start;
  for (int w = 0; w < options.concurrency; ++w) {
    result.read.Merge(run.reads[w]);
    result.update.Merge(run.updates[w]);
  }
}

}  // namespace

TargetResult RunTarget(Target& target, const RunOptions& options, const std::string& dir) {
  TargetResult result;
  result.name = target.name();
  result.description = target.description();
  std::fprintf(stderr, "kvbench: starting %s (%s)\n", result.name.c_str(),
               result.description.c_str());
  result.status = target.Start(dir);
  if (result.status.ok()) result.status = Load(target, options, result);
  if (result.status.ok() && options.measure_repair) {
    for (int round = 0; round < 2 && result.status.ok(); ++round) {
      absl::StatusOr<RepairMeasure> measured = target.MeasureRepairRound();
      if (measured.ok()) {
        result.repairs.push_back(*measured);
      } else {
        result.status = measured.status();
      }
    }
  } else if (result.status.ok()) {
    result.status = target.BeforeRun();
  }
  if (result.status.ok() && !options.measure_repair) {
    const double cpu_before = TotalCpuSeconds(target.Pids());
    const double client_cpu_before = CpuSeconds(getpid());
    Run(target, options, result);
    result.server_cpu_seconds = TotalCpuSeconds(target.Pids()) - cpu_before;
    result.client_cpu_seconds = CpuSeconds(getpid()) - client_cpu_before;
    result.note = target.AfterRun();
  }
  for (pid_t pid : target.Pids()) {
    result.rss_bytes.push_back(RssBytes(pid));
    result.anon_rss_bytes.push_back(AnonRssBytes(pid));
  }
  target.Stop();
  return result;
}

double MeasureFsyncRate(const std::string& dir, absl::Duration duration) {
  const std::string path = dir + "/fsync-probe";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return 0;
  const std::string block(4096, 'f');
  uint64_t syncs = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    if (fdatasync(fd) != 0) break;
    ++syncs;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  close(fd);
  unlink(path.c_str());
  return seconds > 0 ? static_cast<double>(syncs) / seconds : 0;
}

}  // namespace quorumkv::bench
