#include "tests/sim/recorder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace quorumkv::sim {

void Recorder::DotIssued(const Dot& dot) {
  uint64_t& last = last_counter[dot.actor];
  ++dots_checked;
  if (dot.counter <= last) {
    dot_violations.push_back(
        absl::StrCat("actor ", dot.actor, " issued counter ", dot.counter, " after ", last));
  }
  last = std::max(last, dot.counter);
  if (current_op >= 0) {
    dot_of_op[current_op] = dot;
    op_of_dot[dot] = current_op;
  }
}

void Recorder::Stored(const Object& object) {
  for (const Sibling& s : object.siblings) stored.insert(s.dot);
}

}  // namespace quorumkv::sim
