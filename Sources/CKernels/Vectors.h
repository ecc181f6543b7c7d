// Vector types shared by the kernels (GCC/clang vector extensions). The `u` types are
// for loads and stores at any 8-byte-aligned address; `may_alias` lets them read and
// write memory that Swift holds as Double.
#ifndef CKERNELS_VECTORS_H
#define CKERNELS_VECTORS_H

#include <stdint.h>

typedef double ck_d4 __attribute__((vector_size(32)));
typedef double ck_d4u __attribute__((vector_size(32), aligned(8), may_alias));
typedef int64_t ck_i4 __attribute__((vector_size(32)));
typedef double ck_d8 __attribute__((vector_size(64)));
typedef double ck_d8u __attribute__((vector_size(64), aligned(8), may_alias));
typedef int64_t ck_i8 __attribute__((vector_size(64)));

#define CK_AVX2 __attribute__((target("avx2,fma")))
#define CK_AVX512 __attribute__((target("avx512f,avx2,fma")))

#endif
