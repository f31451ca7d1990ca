/* alloccount.so: an LD_PRELOAD shim that counts a process's heap allocations
 * (and its jansson parses, dumps and deep copies) into a file that another
 * process reads while it runs: tests/integration/allocs.test.mjs counts what
 * one tools/call costs the gateway.
 *
 *   ALLOCCOUNT_FILE=/path   a file of at least ALLOCCOUNT_BYTES bytes, zeroed by
 *                           the reader, mapped MAP_SHARED here; the slots are
 *                           little-endian uint64 (enum slot below)
 *   ALLOCCOUNT_TRACE=/path  optional: while the TRACE slot is non-zero, append
 *                           the call stack of every allocation to this file
 *                           (backtrace_symbols_fd), to find where they come from
 *
 * Only the first process that maps the file counts (it writes its pid in the
 * OWNER slot): children that inherit LD_PRELOAD, such as stdio upstream
 * servers, are not the gateway. A fork's child stops counting at once.
 *
 * Allocations of every thread count. The real allocator is reached through
 * glibc's __libc_* entry points rather than dlsym(RTLD_NEXT): dlsym itself
 * allocates, and would need a bootstrap buffer; jansson's functions, looked
 * up once the allocator works, go through dlsym. Built by `make alloc-shim`
 * without sanitizers; meant for the release build (build/mcpgw). */
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum slot {
	SLOT_OWNER,     /* pid of the counting process */
	SLOT_TRACE,     /* reader sets it non-zero to trace call stacks */
	SLOT_MALLOC,
	SLOT_CALLOC,
	SLOT_REALLOC,
	SLOT_MEMALIGN,  /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
	SLOT_JSON_LOAD, /* json_loads, json_loadb, json_loadf, json_loadfd, json_load_file, json_load_callback */
	SLOT_JSON_DUMP, /* json_dumps, json_dumpb, json_dumpf, json_dumpfd, json_dump_file, json_dump_callback */
	SLOT_JSON_DEEP_COPY,
	SLOT_N
};

#define ALLOCCOUNT_BYTES (SLOT_N * sizeof(uint64_t))

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

static uint64_t *slots;       /* NULL: not counting */
static int trace_fd = -1;
static __thread int in_trace; /* a trace under way on this thread */
static __thread int in_json;  /* depth of wrapped jansson calls on this thread */

static void bump(enum slot s)
{
	if (slots)
		__atomic_fetch_add(&slots[s], 1, __ATOMIC_RELAXED);
}

/* Write the caller's stack to the trace file: a line "=" then one frame a
 * line. backtrace() allocates the first time it loads the unwinder. */
static void trace(void)
{
	void *frames[32];
	int n;

	if (trace_fd < 0 || !slots || !__atomic_load_n(&slots[SLOT_TRACE], __ATOMIC_RELAXED) ||
	    in_trace)
		return;
	in_trace = 1;
	n = backtrace(frames, 32);
	if (write(trace_fd, "=\n", 2) == 2)
		backtrace_symbols_fd(frames + 2, n > 2 ? n - 2 : 0, trace_fd);
	in_trace = 0;
}

static void counted(enum slot s)
{
	bump(s);
	trace();
}

/* The allocator behind the counters: glibc's, or jemalloc's when the
 * binary links it (the release build does). jemalloc's non-standard entry
 * points are weak references, resolved when the process loads: with them
 * every allocation and every free (the shim has no free(), so it is
 * jemalloc's) meet the same allocator. */
void *mallocx(size_t size, int flags) __attribute__((weak));
void *rallocx(void *p, size_t size, int flags) __attribute__((weak));
#define JE_ZERO 0x40                   /* MALLOCX_ZERO */
#define JE_ALIGN(a) (__builtin_ctzl(a)) /* MALLOCX_LG_ALIGN */

static void *real_malloc(size_t size)
{
	return mallocx ? mallocx(size ? size : 1, 0) : __libc_malloc(size);
}

static void *real_memalign(size_t align, size_t size)
{
	if (!mallocx)
		return __libc_memalign(align, size);
	if (align < sizeof(void *) || (align & (align - 1)))
		return NULL;
	return mallocx(size ? size : 1, JE_ALIGN(align));
}

void *malloc(size_t size)
{
	counted(SLOT_MALLOC);
	return real_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	counted(SLOT_CALLOC);
	if (!mallocx)
		return __libc_calloc(n, size);
	if (size && n > SIZE_MAX / size)
		return NULL;
	return mallocx(n && size ? n * size : 1, JE_ZERO);
}

void *realloc(void *p, size_t size)
{
	counted(SLOT_REALLOC);
	if (!mallocx)
		return __libc_realloc(p, size);
	if (!p)
		return real_malloc(size);
	return rallocx(p, size ? size : 1, 0);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return 22; /* EINVAL */
	counted(SLOT_MEMALIGN);
	p = real_memalign(align, size);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	counted(SLOT_MEMALIGN);
	return real_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
	counted(SLOT_MEMALIGN);
	return real_memalign(align, size);
}

void *valloc(size_t size)
{
	counted(SLOT_MEMALIGN);
	return mallocx ? real_memalign((size_t)sysconf(_SC_PAGESIZE), size) : __libc_valloc(size);
}

void *pvalloc(size_t size)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	counted(SLOT_MEMALIGN);
	return mallocx ? real_memalign(pg, (size + pg - 1) / pg * pg) : __libc_pvalloc(size);
}

/* ---- jansson: count the outermost call only (json_dumps may call
 * json_dump_callback through the PLT). The prototypes use void * for
 * jansson's types: this file does not need jansson.h. */

#define JSON_WRAP(ret, name, slot, params, args)                       \
	ret name params;                                               \
	ret name params                                                \
	{                                                              \
		static ret (*real) params;                             \
		ret r;                                                 \
                                                                       \
		if (!real)                                             \
			*(void **)&real = dlsym(RTLD_NEXT, #name);     \
		if (!real)                                             \
			abort();                                       \
		if (!in_json)                                          \
			bump(slot);                                    \
		in_json++;                                             \
		r = real args;                                         \
		in_json--;                                             \
		return r;                                              \
	}

typedef size_t (*load_cb)(void *buf, size_t n, void *arg);
typedef int (*dump_cb)(const char *buf, size_t n, void *arg);

JSON_WRAP(void *, json_loads, SLOT_JSON_LOAD, (const char *s, size_t f, void *e), (s, f, e))
JSON_WRAP(void *, json_loadb, SLOT_JSON_LOAD, (const char *b, size_t n, size_t f, void *e), (b, n, f, e))
JSON_WRAP(void *, json_loadf, SLOT_JSON_LOAD, (void *fp, size_t f, void *e), (fp, f, e))
JSON_WRAP(void *, json_loadfd, SLOT_JSON_LOAD, (int fd, size_t f, void *e), (fd, f, e))
JSON_WRAP(void *, json_load_file, SLOT_JSON_LOAD, (const char *p, size_t f, void *e), (p, f, e))
JSON_WRAP(void *, json_load_callback, SLOT_JSON_LOAD, (load_cb cb, void *a, size_t f, void *e), (cb, a, f, e))
JSON_WRAP(char *, json_dumps, SLOT_JSON_DUMP, (const void *j, size_t f), (j, f))
JSON_WRAP(size_t, json_dumpb, SLOT_JSON_DUMP, (const void *j, char *b, size_t n, size_t f), (j, b, n, f))
JSON_WRAP(int, json_dumpf, SLOT_JSON_DUMP, (const void *j, void *fp, size_t f), (j, fp, f))
JSON_WRAP(int, json_dumpfd, SLOT_JSON_DUMP, (const void *j, int fd, size_t f), (j, fd, f))
JSON_WRAP(int, json_dump_file, SLOT_JSON_DUMP, (const void *j, const char *p, size_t f), (j, p, f))
JSON_WRAP(int, json_dump_callback, SLOT_JSON_DUMP, (const void *j, dump_cb cb, void *a, size_t f), (j, cb, a, f))
JSON_WRAP(void *, json_deep_copy, SLOT_JSON_DEEP_COPY, (const void *j), (j))

/* ---- setup ---- */

static void child_stops(void)
{
	slots = NULL;
	trace_fd = -1;
}

__attribute__((constructor)) static void alloccount_init(void)
{
	const char *path = getenv("ALLOCCOUNT_FILE");
	const char *tpath = getenv("ALLOCCOUNT_TRACE");
	uint64_t *m, me = (uint64_t)getpid(), zero = 0;
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	m = mmap(NULL, ALLOCCOUNT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	/* The first process to map the file owns it. */
	if (!__atomic_compare_exchange_n(&m[SLOT_OWNER], &zero, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST) && zero != me) {
		munmap(m, ALLOCCOUNT_BYTES);
		return;
	}
	pthread_atfork(NULL, NULL, child_stops);
	if (tpath) {
		void *warm[1];

		backtrace(warm, 1); /* load the unwinder now, not inside a traced call */
		trace_fd = open(tpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	}
	slots = m;
}
