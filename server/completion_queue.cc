#include "server/completion_queue.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QKV_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define QKV_TSAN 1
#endif

#ifdef QKV_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace quorumkv {

void* QueueTag(CqTag* tag) {
#ifdef QKV_TSAN
  __tsan_release(tag);
#endif
  return tag;
}

void RunCompletionQueue(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
#ifdef QKV_TSAN
    __tsan_acquire(tag);
#endif
    static_cast<CqTag*>(tag)->Run(ok);
  }
}

}  // namespace quorumkv
