/* Small helpers: time, randomness, hashing, globbing. */
#ifndef GW_CORE_UTIL_H
#define GW_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in milliseconds. */
uint64_t gw_now_ms(void);
/* "2026-12-06T15:20:35.123Z" for unix milliseconds ms into out (25 bytes
 * and its NUL), as the audit trail and its reports write times. */
void gw_rfc3339_ms(int64_t ms, char out[32]);
/* The same clock in microseconds. */
uint64_t gw_now_us(void);
/* Fill out with n random bytes from the kernel CSPRNG; 0 or GW_EIO. */
int gw_random_bytes(void *out, size_t n);
/* b[0..n) as 2n lower-case hex digits and a NUL into out (2n+1 bytes). */
void gw_hex_encode(const unsigned char *b, size_t n, char *out);
/* The value (0 to 15) of the hex digit c, either case, or -1 when c is not
 * one (a char of any sign may be passed). */
static inline int gw_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
/* A new session/event identifier: 2*nbytes lowercase hex chars + NUL into
 * out (cap >= 2*nbytes+1); visible ASCII, unpredictable. */
int gw_random_hex(char *out, size_t cap, size_t nbytes);
/* First 4 bytes of SHA-256 over data, as 8 lowercase hex chars + NUL. */
void gw_short_hash(const void *data, size_t len, char out[9]);
/* Shell-style glob (fnmatch without flags): does name match pattern? */
bool gw_glob_match(const char *pattern, const char *name);
/* Does name match any of the n patterns? */
bool gw_glob_any(char *const *patterns, size_t n, const char *name);
/* strdup that aborts on allocation failure (configuration-time only). */
char *gw_xstrdup(const char *s);
/* *dst = a copy of src, or NULL when src is NULL: 0, or GW_ENOMEM. */
int gw_strdup_opt(char **dst, const char *src);

/* Make the calling thread a background one: SCHED_BATCH (its wake-ups do
 * not preempt the loop) and the thread's own nice value (Linux). For the
 * threads that write behind the loop (the audit writer, the SQLite sink's
 * checkpointer): on a shared core they run when the loop waits, and take
 * everything queued by then. A failure costs speed, not correctness. */
void gw_thread_background(int nice);

#endif
