/* The one C library header wdm.h needs, for checking irqsim's headers in MSVC's dialect with
 * clang -ffreestanding, where no MSVC C library is at hand (clang brings its own stddef.h, stdint.h
 * and intrin.h). Declares what wdm.h's Rtl*Memory macros call. */
#ifndef IRQSIM_TESTS_MSVC_DIALECT_STRING_H
#define IRQSIM_TESTS_MSVC_DIALECT_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *memset(void *destination, int value, size_t size);
void *memcpy(void *destination, const void *source, size_t size);
void *memmove(void *destination, const void *source, size_t size);

#ifdef __cplusplus
}
#endif

#endif
