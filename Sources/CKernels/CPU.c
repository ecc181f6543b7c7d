// Which instruction-set level the running CPU supports (CKernels.h, `ck_cpu_supports`).
#include "CKernels.h"

int ck_cpu_supports(int path) {
#if defined(__x86_64__)
  // The builtins read CPUID and XGETBV: a feature counts only when the operating system
  // saves its registers too.
  __builtin_cpu_init();
  switch (path) {
    case CK_PATH_REFERENCE: return 1;
    case CK_PATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CK_PATH_AVX512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 0;
  }
#else
  return path == CK_PATH_REFERENCE;
#endif
}
