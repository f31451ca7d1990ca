/* Counting allocations, for the unit tests that show a hot path allocates
 * nothing (test_policy.c, test_ratelimit.c). Under ASan its allocator
 * reports every malloc to a hook; otherwise this program puts its own
 * malloc in front of glibc's. Either way allocations made by the library,
 * libc and PCRE2 are seen while `counting` is on. Call count_setup() first.
 *
 * Without ASan this header defines malloc, calloc, realloc and free: include
 * it from one file of a test binary only (each test is its own binary, see
 * the Makefile). */
#ifndef GW_TESTS_ALLOC_COUNT_TEST_UTIL_H
#define GW_TESTS_ALLOC_COUNT_TEST_UTIL_H

#include <stddef.h>

static volatile int counting;
static volatile size_t allocations;

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_VIA "ASan malloc hook"
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
					      void (*f)(const volatile void *));

static inline void on_malloc(const volatile void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	if (counting)
		allocations++;
}

static inline void on_free(const volatile void *ptr)
{
	(void)ptr;
}

static inline void count_setup(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
#define COUNT_VIA "malloc interposed on glibc"
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

void *malloc(size_t size)
{
	if (counting)
		allocations++;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocations++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (counting)
		allocations++;
	return __libc_realloc(p, size);
}

void free(void *p)
{
	__libc_free(p);
}

static inline void count_setup(void)
{
}
#endif

#endif
