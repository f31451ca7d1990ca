/* HTTPS on the gateway's own listener. The HTTP server (http/h1.c) makes
 * each accepted connection's bufferevent here, so every byte of every
 * connection goes through OpenSSL; a connection that does not speak TLS
 * fails its handshake and is closed before anything is parsed. The
 * context is built once at start from the files in tls:, and every problem
 * with them stops the start naming the file: a gateway that was asked for
 * HTTPS must never come up serving something else. */
#include "http/tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "core/config-t.h"
#include "core/log.h"
#include "http/h1.h"

/* TLS 1.2 only: forward secrecy and AEAD (Mozilla "intermediate", without
 * finite-field DHE). TLS 1.3's suites are OpenSSL's defaults, all good. */
#define TLS12_CIPHERS                                                                     \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                       \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                       \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_VERIFY_DEPTH 8
#define TLS_SESSION_CONTEXT "mcpgw"

/* OpenSSL's reason for the last failure, into buf; clears its error queue. */
static const char *ssl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Can path be opened for reading? Says why not in err, naming what it is
 * for. */
static bool file_is_readable(const char *path, const char *key, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, cap, "tls.%s: cannot read %s: %s", key, path, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* An encrypted key would make OpenSSL prompt on the terminal; refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return 0;
}

/* Client certificates that fail verification end the handshake; say why. */
static int on_verify(int ok, X509_STORE_CTX *sc)
{
	char subject[256] = "?";
	X509 *cert;

	if (ok)
		return ok;
	cert = X509_STORE_CTX_get_current_cert(sc);
	if (cert)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	GW_WARN("tls", "client certificate refused: %s (depth %d, subject %s)",
		X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)),
		X509_STORE_CTX_get_error_depth(sc), subject);
	return ok;
}

/* The PEM private key in path, or NULL (OpenSSL's error queue says why);
 * read apart from the certificate, so that a key that does not match it is
 * told from one that cannot be read. */
static EVP_PKEY *read_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;

	BIO_free(bio);
	return pkey;
}

static int load_identity(SSL_CTX *ctx, const struct gw_listen_tls *conf, char *err, size_t cap)
{
	EVP_PKEY *pkey;
	char why[256];
	X509 *leaf;
	int rc;

	if (!file_is_readable(conf->cert, "cert", err, cap) || !file_is_readable(conf->key, "key", err, cap))
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert) != 1) {
		snprintf(err, cap, "tls.cert: no usable PEM certificate in %s (%s)", conf->cert,
			 ssl_reason(why, sizeof(why)));
		return -1;
	}
	pkey = read_key(conf->key);
	if (!pkey) {
		snprintf(err, cap, "tls.key: no usable PEM private key in %s (%s; encrypted keys are not supported)",
			 conf->key, ssl_reason(why, sizeof(why)));
		return -1;
	}
	rc = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1 ? 0 : -1;
	EVP_PKEY_free(pkey);
	if (rc) {
		snprintf(err, cap, "tls.key: the key in %s does not match the certificate in %s (%s)",
			 conf->key, conf->cert, ssl_reason(why, sizeof(why)));
		return -1;
	}
	leaf = SSL_CTX_get0_certificate(ctx);
	if (leaf && X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
		GW_WARN("tls", "tls.cert: the certificate in %s has expired; clients will refuse it",
			conf->cert);
	return 0;
}

static int load_client_ca(SSL_CTX *ctx, const struct gw_listen_tls *conf, char *err, size_t cap)
{
	STACK_OF(X509_NAME) *names;
	char why[256];
	int mode = SSL_VERIFY_PEER;

	if (!file_is_readable(conf->client_ca, "client_ca", err, cap))
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, conf->client_ca, NULL) != 1) {
		snprintf(err, cap, "tls.client_ca: no usable PEM certificate in %s (%s)", conf->client_ca,
			 ssl_reason(why, sizeof(why)));
		return -1;
	}
	/* The CA names sent in the CertificateRequest, so that clients with
	 * several certificates pick the right one. */
	names = SSL_load_client_CA_file(conf->client_ca);
	if (!names) {
		snprintf(err, cap, "tls.client_ca: no usable PEM certificate in %s (%s)", conf->client_ca,
			 ssl_reason(why, sizeof(why)));
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (conf->require_client_cert)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, on_verify);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	return 0;
}

/* Contract in http/tls.h. */
SSL_CTX *gw_tls_context_new(const struct gw_listen_tls *conf, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	if (!ctx) {
		snprintf(err, cap, "cannot create a TLS context: %s", ssl_reason(why, sizeof(why)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		snprintf(err, cap, "cannot set the TLS versions and ciphers: %s",
			 ssl_reason(why, sizeof(why)));
		goto out_free;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* idle keep-alive connections should not hold 2 x 16 KiB of buffers */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* resumed sessions keep their verified client certificate */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)TLS_SESSION_CONTEXT,
				       sizeof(TLS_SESSION_CONTEXT) - 1);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (load_identity(ctx, conf, err, cap))
		goto out_free;
	if (conf->client_ca && load_client_ca(ctx, conf, err, cap))
		goto out_free;
	return ctx;
out_free:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Contract in http/tls.h. */
struct bufferevent *gw_tls_bufferevent_new(struct event_base *base, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* a client closing without close_notify has still sent all its request */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static SSL *request_ssl(struct gw_hreq *req)
{
	return gw_hreq_ssl(req);
}

/* Contract in http/tls.h. */
bool gw_tls_request_is_secure(struct gw_hreq *req)
{
	return request_ssl(req) != NULL;
}

/* Contract in http/tls.h. */
X509 *gw_tls_client_cert(struct gw_hreq *req)
{
	SSL *ssl = request_ssl(req);
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

	/* X509_V_OK is also what a connection without a certificate reports */
	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	return cert;
}
