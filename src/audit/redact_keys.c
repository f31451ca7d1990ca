/* Which object member names hold a secret by their name alone
 * (gw_audit_key_is_sensitive(), audit/redact.h; the rules are in
 * docs/audit.md "Parameters and redaction"): a name is split into
 * lower-case words (at separators, case changes and digits) and the words
 * are looked up. Pure: any thread. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "audit/redact.h"

/* Key names longer than this are not split into words: they are taken as
 * sensitive (no real argument is named by a kilobyte). */
#define KEY_SCAN_MAX 1024
#define WORD_MAX 32
#define WORDS_MAX 48

/* Whole words (after splitting at separators, case changes and digits). */
static const char *const secret_words[] = {
	"password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token",
	"apikey", "auth", "authorization", "bearer", "cookie", "cookies", "session",
	"credential", "credentials", "creds", "private", "signature", "otp", "pin", "ssn",
	"jwt", "csrf", "xsrf",
};
/* Inside a word written run together ("clientsecret", "accesskey"). */
static const char *const secret_parts[] = {
	"password", "passwd", "passphrase", "secret", "credential", "apikey", "accesskey",
	"privatekey", "secretkey", "signingkey", "sessionkey", "sessionid", "authkey", "cookie",
	"authorization",
};
/* "key" is a secret unless the word after it says the value describes a
 * key rather than holds one (key_id, keyName)... */
static const char *const key_descriptors[] = {
	"id", "ids", "name", "names", "type", "types", "path", "file", "filename", "prefix",
	"count", "size", "len", "length", "format", "field", "fields", "column", "columns",
	"index", "pattern", "alg", "algorithm", "version", "usage", "schema",
};
/* ... or the word before it names a kind of key that is data. */
static const char *const key_kinds[] = {
	"primary", "foreign", "sort", "partition", "group", "cache", "lookup", "shard",
	"routing", "idempotency", "dedup", "dedupe", "row", "object", "map", "dict", "hash",
	"range",
};

struct key_words {
	size_t n;
	char w[WORDS_MAX][WORD_MAX + 1];
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(w, list[i]) == 0)
			return true;
	}
	return false;
}

#define IN_LIST(w, list) in_list((w), (list), sizeof(list) / sizeof((list)[0]))

static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_upper(c) || is_lower(c) || is_digit(c); }

/* Does a new word start at k[i] (an alphanumeric after another one)? At
 * "aB" and "1B" (camelCase), "ABc" (the B of "APIKey"), and between
 * letters and digits. */
static bool word_starts(const char *k, size_t len, size_t i)
{
	char p = k[i - 1], c = k[i];

	if (is_upper(c) && (is_lower(p) || is_digit(p)))
		return true;
	if (is_upper(c) && is_upper(p) && i + 1 < len && is_lower(k[i + 1]))
		return true;
	return is_digit(c) != is_digit(p);
}

/* Split a key into lower-case words; false when it has too many. Words
 * longer than WORD_MAX are kept by their start. */
static bool key_split(const char *k, size_t len, struct key_words *kw)
{
	size_t wl = 0;

	kw->n = 0;
	for (size_t i = 0; i <= len; i++) {
		bool alnum = i < len && is_alnum(k[i]);

		if (wl && (!alnum || word_starts(k, len, i))) {
			kw->w[kw->n++][wl] = '\0';
			wl = 0;
		}
		if (!alnum)
			continue;
		if (wl == 0 && kw->n == WORDS_MAX)
			return false;
		if (wl < WORD_MAX)
			kw->w[kw->n][wl++] = (char)(is_upper(k[i]) ? k[i] - 'A' + 'a' : k[i]);
	}
	return true;
}

static bool word_is_secret(const char *w)
{
	size_t n = strlen(w);

	if (IN_LIST(w, secret_words))
		return true;
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++) {
		if (strstr(w, secret_parts[i]))
			return true;
	}
	/* accesstoken, authtoken, csrftoken; not tokens, tokenizer */
	return n > 5 && strcmp(w + n - 5, "token") == 0;
}

bool gw_audit_key_is_sensitive(const char *key, size_t len)
{
	struct key_words kw;

	if (len > KEY_SCAN_MAX || !key_split(key, len, &kw))
		return true;
	for (size_t i = 0; i < kw.n; i++) {
		if (word_is_secret(kw.w[i]))
			return true;
		if (strcmp(kw.w[i], "key") != 0)
			continue;
		if (i + 1 < kw.n && IN_LIST(kw.w[i + 1], key_descriptors))
			continue;
		if (i > 0 && IN_LIST(kw.w[i - 1], key_kinds))
			continue;
		return true;
	}
	return false;
}
