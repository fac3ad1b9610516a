// Linked into every executable of the TSan build (CMakeLists.txt): C11 thrd_create and thrd_join
// over pthread_create and pthread_join, so that TSan sees librdkafka's threads.
//
// librdkafka 2.0 (Debian) starts its threads with C11 thrd_create. glibc implements that without
// going through pthread_create's public symbol, and the TSan runtimes in bookworm (g++ 12's
// libtsan, clang 14's) do not intercept thrd_create (interceptors for it came with LLVM 15). A
// thread TSan never saw being created has no TSan state: its first malloc crashes inside the
// sanitizer allocator (SIGSEGV in SizeClassAllocator64LocalCache::Allocate, thread "rdk:mock").
// Definitions in the executable take precedence over glibc's for librdkafka, as TSan's own
// interceptors do, and pthread_create here is TSan's. Only thrd_create, thrd_join (and
// thrd_detach, for completeness) are needed: thrd_current is pthread_self, and glibc's thrd_exit
// is pthread_exit with the result cast as thrd_join below expects.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct thread_start {
  thrd_start_t func;
  void* arg;
};

void* run(void* p) {
  const thread_start start = *static_cast<thread_start*>(p);
  delete static_cast<thread_start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.func(start.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* start = new (std::nothrow) thread_start{func, arg};
  if (start == nullptr) return thrd_nomem;
  const int rc = pthread_create(thr, nullptr, run, start);
  if (rc == 0) return thrd_success;
  delete start;
  return rc == EAGAIN ? thrd_nomem : thrd_error;
}

extern "C" int thrd_join(thrd_t thr, int* res) {
  void* result = nullptr;
  if (pthread_join(thr, &result) != 0) return thrd_error;
  if (res != nullptr) *res = static_cast<int>(reinterpret_cast<intptr_t>(result));
  return thrd_success;
}

extern "C" int thrd_detach(thrd_t thr) { return pthread_detach(thr) == 0 ? thrd_success : thrd_error; }
