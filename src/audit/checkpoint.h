/* Signed checkpoints of the audit chain (docs/audit.md, "Checkpoints"):
 * Ed25519 through OpenSSL's EVP interface.
 *
 * A signer holds the gateway's private key; it makes checkpoint lines on
 * the audit writer's thread. A public key (from a public or a private PEM
 * file) checks them, in `mcpgw audit verify` and for an outside witness.
 * Everything here is synchronous and touches the disk only when loading. */
#ifndef GW_AUDIT_CHECKPOINT_H
#define GW_AUDIT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/sink.h"

#define GW_AUDIT_KEY_ID_HEX 32      /* hex of the first 16 bytes of SHA-256(public key) */
#define GW_AUDIT_TS_MAX 32          /* "2026-12-06T15:20:35.123Z" and its NUL */
#define GW_AUDIT_CHECKPOINT_MAX 512 /* bytes of one checkpoint line */

struct gw_audit_signer;
struct gw_audit_pubkey;

/* Load the signing key named by spec, "file://PATH" or a plain PATH to a
 * PEM PKCS#8 Ed25519 private key. When the file does not exist, make a
 * new key and write it there (mode 0600, never overwriting a file that
 * appears meanwhile) and log its key id. NULL with "PATH: what is wrong"
 * in err for a key that cannot be read, is not Ed25519, or cannot be
 * written. The caller owns the result (gw_audit_signer_free). */
struct gw_audit_signer *gw_audit_signer_load(const char *spec, char *err, size_t errlen);
void gw_audit_signer_free(struct gw_audit_signer *s);
/* A 32-byte secret derived from the signing key for another use (label
 * names it): SHA-256 of label, a newline and the raw private key. false
 * when the key cannot give its raw bytes. */
bool gw_audit_signer_derive(const struct gw_audit_signer *s, const char *label,
			    unsigned char out[32]);
/* The key id of the signer's public key (GW_AUDIT_KEY_ID_HEX hex digits). */
const char *gw_audit_signer_key_id(const struct gw_audit_signer *s);
/* The signer's public half, to check what it signed; borrowed from s. */
const struct gw_audit_pubkey *gw_audit_signer_pubkey(const struct gw_audit_signer *s);

/* The checkpoint line (no newline) for record seq whose hash is hash (64
 * lower-case hex digits), signed at ts_ms (unix ms), into buf (cap bytes,
 * GW_AUDIT_CHECKPOINT_MAX is enough). Returns its length, or -1 for a
 * malformed hash, a buffer too small or a signing failure. */
int gw_audit_checkpoint_line(const struct gw_audit_signer *s, uint64_t seq, const char *hash,
			     int64_t ts_ms, char *buf, size_t cap);

/* Load the public key to check checkpoints with from a PEM file holding an
 * Ed25519 public key (SubjectPublicKeyInfo) or private key (PKCS#8; only
 * its public half is used). NULL with "PATH: what is wrong" in err. */
struct gw_audit_pubkey *gw_audit_pubkey_load(const char *path, char *err, size_t errlen);
void gw_audit_pubkey_free(struct gw_audit_pubkey *k);
const char *gw_audit_pubkey_key_id(const struct gw_audit_pubkey *k);
/* The public key as PEM (SubjectPublicKeyInfo) into buf (cap bytes);
 * its length, or -1 if it does not fit. */
int gw_audit_pubkey_pem(const struct gw_audit_pubkey *k, char *buf, size_t cap);

/* What a checkpoint line says. */
struct gw_audit_cp_info {
	uint64_t seq;
	int64_t ts_ms;
	char timestamp[GW_AUDIT_TS_MAX];
	char hash[GW_AUDIT_HASH_HEX + 1];
	char key_id[GW_AUDIT_KEY_ID_HEX + 1];
};

/* Parse the checkpoint line (len bytes, no newline) into out, without
 * checking its signature. 0, or -1 with what is wrong in err. */
int gw_audit_checkpoint_parse(const char *line, size_t len, struct gw_audit_cp_info *out,
			      char *err, size_t errlen);
/* Parse the line and check its signature against k (k may be NULL: then
 * only parsed). 0 when it parses and, with k, its key id is k's and the
 * signature verifies; -1 with what is wrong in err ("signed by another
 * key", "signature does not verify", ...). out is filled when it parses. */
int gw_audit_checkpoint_check(const struct gw_audit_pubkey *k, const char *line, size_t len,
			      struct gw_audit_cp_info *out, char *err, size_t errlen);

/* "2026-12-06T15:20:35.123Z" for unix ms ts_ms into buf (GW_AUDIT_TS_MAX
 * bytes); -1 when the time cannot be shown (before 1970, past 9999). */
int gw_audit_rfc3339_format(int64_t ts_ms, char buf[GW_AUDIT_TS_MAX]);
/* The unix ms of an RFC 3339 time ("2026-12-06T15:20:35.123Z",
 * "...T15:20:35Z", "...T17:20:35+02:00"); fractions past ms are dropped.
 * 0 or -1 for text that is not one. */
int gw_audit_rfc3339_parse(const char *s, int64_t *ts_ms);

#endif
