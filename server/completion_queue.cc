#include "server/completion_queue.h"

namespace quorumkv {

void RunCompletionQueue(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Run(ok);
}

}  // namespace quorumkv
