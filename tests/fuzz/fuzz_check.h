// What the fuzz targets share: a property that does not hold is a crash libFuzzer reports, with
// the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define OSB_FUZZ_CHECK(condition)                                                      \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
