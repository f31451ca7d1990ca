/* Ed25519 checkpoints (checkpoint.h): key loading and creation, the
 * signed line, and its check. The signed bytes and the line's layout are
 * docs/audit.md's, which other implementations follow too. */
#include "audit/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "core/file.h"
#include "core/log.h"

#define SIG_LEN 64                  /* Ed25519 */
#define SIG_B64_MAX 96              /* base64 of 64 bytes is 88 */
#define SIGNED_MAX 192              /* the signed message */
#define SIGNED_PREFIX "mcpgw-audit-checkpoint\n"

struct gw_audit_pubkey {
	EVP_PKEY *pkey;             /* a private key works for verifying too */
	char key_id[GW_AUDIT_KEY_ID_HEX + 1];
};

struct gw_audit_signer {
	struct gw_audit_pubkey pub;  /* pub.pkey holds the private key */
};

bool gw_audit_signer_derive(const struct gw_audit_signer *s, const char *label,
			    unsigned char out[32])
{
	unsigned char raw[64];
	size_t len = sizeof(raw);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_PKEY_get_raw_private_key(s->pub.pkey, raw, &len) == 1 &&
		  EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, label, strlen(label)) == 1 &&
		  EVP_DigestUpdate(md, "\n", 1) == 1 && EVP_DigestUpdate(md, raw, len) == 1 &&
		  EVP_DigestFinal_ex(md, out, NULL) == 1;

	OPENSSL_cleanse(raw, sizeof(raw));
	EVP_MD_CTX_free(md);
	return ok;
}

/* ---- time -------------------------------------------------------------- */

int gw_audit_rfc3339_format(int64_t ts_ms, char buf[GW_AUDIT_TS_MAX])
{
	time_t secs;
	struct tm tm;
	char day[24];

	if (ts_ms < 0 || ts_ms > INT64_C(253402300799999))
		return -1;
	secs = (time_t)(ts_ms / 1000);
	if (!gmtime_r(&secs, &tm) || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	snprintf(buf, GW_AUDIT_TS_MAX, "%s.%03dZ", day, (int)(ts_ms % 1000));
	return 0;
}

/* n decimal digits at s into *v; false if any is not a digit. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* The part after the seconds: ".123", then "Z" or "+HH:MM"/"-HH:MM". */
static int parse_tail(const char *p, int *ms, int *offset_min)
{
	int h, m, scale = 100;

	*ms = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*ms += (*p - '0') * scale;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*offset_min = 0;
		return 0;
	}
	if ((*p != '+' && *p != '-') || !digits(p + 1, 2, &h) || p[3] != ':' ||
	    !digits(p + 4, 2, &m) || p[6] != '\0' || h > 23 || m > 59)
		return -1;
	*offset_min = (*p == '-' ? -1 : 1) * (h * 60 + m);
	return 0;
}

int gw_audit_rfc3339_parse(const char *s, int64_t *ts_ms)
{
	int y, mo, d, h, mi, sec, ms, off;
	struct tm tm = { 0 };
	time_t t;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec) || parse_tail(s + 19, &ms, &off) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ts_ms = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
	return 0;
}

/* ---- keys -------------------------------------------------------------- */

/* Take pkey (owned now) into k: check it is Ed25519 and compute its key
 * id, the hex of the first 16 bytes of SHA-256 over the raw 32-byte
 * public key. */
static int pubkey_set(struct gw_audit_pubkey *k, EVP_PKEY *pkey, const char *path, char *err,
		      size_t errlen)
{
	unsigned char raw[32], digest[SHA256_DIGEST_LENGTH];
	size_t rawlen = sizeof(raw);

	k->pkey = pkey;
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		gw_file_fail(err, errlen, path, "not an Ed25519 key");
		return -1;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != sizeof(raw)) {
		gw_file_fail(err, errlen, path, "cannot read the public key");
		return -1;
	}
	SHA256(raw, rawlen, digest);
	gw_hex_encode(digest, GW_AUDIT_KEY_ID_HEX / 2, k->key_id);
	return 0;
}

static const char *spec_path(const char *spec)
{
	return strncmp(spec, "file://", 7) == 0 ? spec + 7 : spec;
}

/* A new key written to path, which must not exist (O_EXCL: a key another
 * process wrote meanwhile is never replaced). */
static EVP_PKEY *key_create(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = NULL;
	int fd, ok = 0;

	if (!pkey) {
		gw_file_fail(err, errlen, path, "cannot make a new Ed25519 key");
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		gw_file_fail(err, errlen, path, "cannot create the signing key: %s",
			     strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		gw_file_fail(err, errlen, path, "cannot write the signing key: %s", strerror(errno));
		goto out;
	}
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
	     fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		gw_file_fail(err, errlen, path, "cannot write the signing key");
		unlink(path);
	}
out:
	if (!ok) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* The PEM key at path: private (PKCS#8) if want_private, else either a
 * public or a private one. NULL with err; *missing says the file is not there. */
static EVP_PKEY *key_read(const char *path, bool want_private, bool *missing, char *err,
			  size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	FILE *f = fopen(path, "re");

	*missing = false;
	if (!f) {
		*missing = errno == ENOENT;
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	if (!pkey && !want_private) {
		rewind(f);
		pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!pkey)
		gw_file_fail(err, errlen, path, "not a PEM %s key",
			     want_private ? "PKCS#8 private" : "public or private");
	return pkey;
}

struct gw_audit_signer *gw_audit_signer_load(const char *spec, char *err, size_t errlen)
{
	const char *path = spec ? spec_path(spec) : "";
	struct gw_audit_signer *s;
	bool missing = false, created = false;
	EVP_PKEY *pkey;

	if (!*path) {
		gw_file_fail(err, errlen, "audit.chain.signing_key", "the path is empty");
		return NULL;
	}
	pkey = key_read(path, true, &missing, err, errlen);
	if (!pkey && missing) {
		pkey = key_create(path, err, errlen);
		created = pkey != NULL;
	}
	if (!pkey)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		EVP_PKEY_free(pkey);
		gw_file_fail(err, errlen, path, "out of memory");
		return NULL;
	}
	if (pubkey_set(&s->pub, pkey, path, err, errlen)) {
		gw_audit_signer_free(s);
		return NULL;
	}
	if (created)
		GW_INFO("audit", "created a new audit signing key at %s (key id %s)", path,
			s->pub.key_id);
	return s;
}

void gw_audit_signer_free(struct gw_audit_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pub.pkey);
	free(s);
}

const char *gw_audit_signer_key_id(const struct gw_audit_signer *s)
{
	return s->pub.key_id;
}

const struct gw_audit_pubkey *gw_audit_signer_pubkey(const struct gw_audit_signer *s)
{
	return &s->pub;
}

struct gw_audit_pubkey *gw_audit_pubkey_load(const char *path, char *err, size_t errlen)
{
	struct gw_audit_pubkey *k;
	bool missing;
	EVP_PKEY *pkey = key_read(spec_path(path), false, &missing, err, errlen);

	if (!pkey)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		gw_file_fail(err, errlen, path, "out of memory");
		return NULL;
	}
	if (pubkey_set(k, pkey, path, err, errlen)) {
		gw_audit_pubkey_free(k);
		return NULL;
	}
	return k;
}

void gw_audit_pubkey_free(struct gw_audit_pubkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *gw_audit_pubkey_key_id(const struct gw_audit_pubkey *k)
{
	return k->key_id;
}

int gw_audit_pubkey_pem(const struct gw_audit_pubkey *k, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int out = -1;

	if (!b)
		return -1;
	if (PEM_write_bio_PUBKEY(b, k->pkey) == 1) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0 && (size_t)n < cap) {
			memcpy(buf, data, (size_t)n);
			buf[n] = '\0';
			out = (int)n;
		}
	}
	BIO_free(b);
	return out;
}

/* ---- the line ---------------------------------------------------------- */

static bool is_hash(const char *h)
{
	size_t i = 0;

	for (; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == GW_AUDIT_HASH_HEX;
}

/* The bytes a checkpoint signs (docs/audit.md); their length or -1. */
static int signed_bytes(uint64_t seq, const char *hash, const char *timestamp, char *buf,
			size_t cap)
{
	int n = snprintf(buf, cap, SIGNED_PREFIX "%" PRIu64 "\n%s\n%s", seq, hash, timestamp);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int gw_audit_checkpoint_line(const struct gw_audit_signer *s, uint64_t seq, const char *hash,
			     int64_t ts_ms, char *buf, size_t cap)
{
	char ts[GW_AUDIT_TS_MAX], msg[SIGNED_MAX], b64[SIG_B64_MAX];
	unsigned char sig[SIG_LEN];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx;
	int n, ok;

	if (!s || !hash || !is_hash(hash) || gw_audit_rfc3339_format(ts_ms, ts) != 0)
		return -1;
	n = signed_bytes(seq, hash, ts, msg, sizeof(msg));
	if (n < 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pub.pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, (size_t)n) == 1 &&
	     siglen == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, sig, SIG_LEN);
	n = snprintf(buf, cap,
		     "{\"seq\":%" PRIu64 ",\"timestamp\":\"%s\",\"hash\":\"%s\",\"key_id\":\"%s\","
		     "\"signature\":\"%s\"}",
		     seq, ts, hash, s->pub.key_id, b64);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Copy the string member name of o into out (cap bytes); false if it is
 * absent, not a string, or too long. */
static bool member_str(json_t *o, const char *name, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, name));

	if (!v || strlen(v) >= cap)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

int gw_audit_checkpoint_parse(const char *line, size_t len, struct gw_audit_cp_info *out,
			      char *err, size_t errlen)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *seq = json_object_get(o, "seq");
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		snprintf(err, errlen, "not a JSON object");
	else if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		snprintf(err, errlen, "no seq");
	else if (!member_str(o, "timestamp", out->timestamp, sizeof(out->timestamp)) ||
		 gw_audit_rfc3339_parse(out->timestamp, &out->ts_ms) != 0)
		snprintf(err, errlen, "no timestamp");
	else if (!member_str(o, "hash", out->hash, sizeof(out->hash)) || !is_hash(out->hash))
		snprintf(err, errlen, "no hash");
	else if (!member_str(o, "key_id", out->key_id, sizeof(out->key_id)))
		snprintf(err, errlen, "no key_id");
	else if (!json_is_string(json_object_get(o, "signature")))
		snprintf(err, errlen, "no signature");
	else
		rc = 0;
	if (rc == 0)
		out->seq = (uint64_t)json_integer_value(seq);
	json_decref(o);
	return rc;
}

/* Decode the standard base64 of a 64-byte signature; false if it is not one. */
static bool sig_decode(const char *b64, unsigned char sig[SIG_LEN])
{
	unsigned char raw[SIG_B64_MAX];
	size_t n = strlen(b64);

	if (n != 88 || b64[86] != '=' || b64[87] != '=')
		return false;
	return EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) == 66 &&
	       (memcpy(sig, raw, SIG_LEN), true);
}

static int sig_verify(const struct gw_audit_pubkey *k, const struct gw_audit_cp_info *cp,
		      const unsigned char sig[SIG_LEN])
{
	char msg[SIGNED_MAX];
	int n = signed_bytes(cp->seq, cp->hash, cp->timestamp, msg, sizeof(msg)), ok;
	EVP_MD_CTX *ctx;

	if (n < 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, SIG_LEN, (const unsigned char *)msg, (size_t)n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int gw_audit_checkpoint_check(const struct gw_audit_pubkey *k, const char *line, size_t len,
			      struct gw_audit_cp_info *out, char *err, size_t errlen)
{
	unsigned char sig[SIG_LEN];
	json_t *o;
	bool sig_ok;

	if (gw_audit_checkpoint_parse(line, len, out, err, errlen))
		return -1;
	if (!k)
		return 0;
	if (strcmp(out->key_id, k->key_id) != 0) {
		snprintf(err, errlen, "signed by another key (key id %s, not %s)", out->key_id,
			 k->key_id);
		return -1;
	}
	o = json_loadb(line, len, 0, NULL);
	sig_ok = sig_decode(json_string_value(json_object_get(o, "signature")), sig);
	json_decref(o);
	if (!sig_ok || sig_verify(k, out, sig) != 0) {
		snprintf(err, errlen, "signature does not verify (forged or altered)");
		return -1;
	}
	return 0;
}
