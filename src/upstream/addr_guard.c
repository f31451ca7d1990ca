/* Where a registered upstream may point; contract in upstream/addr_guard.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "upstream/addr_guard.h"

/* An address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and whether it is v4. */
struct addr16 {
	uint8_t b[16];
	bool v4;
};

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
/* RFC 6052's well-known NAT64 prefix 64:ff9b::/96: a NAT64 gateway turns
 * 64:ff9b::a9fe:a9fe into 169.254.169.254 (and a 6to4 relay 2002:a9fe:a9fe::) */
static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

static bool to_addr16(const struct sockaddr *sa, socklen_t len, struct addr16 *a)
{
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memcpy(a->b, v4_mapped, 12);
		memcpy(a->b + 12, &in->sin_addr, 4);
		a->v4 = true;
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(a->b, &in6->sin6_addr, 16);
		/* what an IPv6 address carries is what it reaches */
		a->v4 = memcmp(a->b, v4_mapped, 12) == 0 || memcmp(a->b, nat64, 12) == 0;
		if (!a->v4 && a->b[0] == 0x20 && a->b[1] == 0x02) { /* 6to4: 2002:AABB:CCDD::/48 */
			memmove(a->b + 12, a->b + 2, 4);
			a->v4 = true;
		}
		if (a->v4)
			memcpy(a->b, v4_mapped, 12);
		return true;
	}
	return false;
}

/* Is a within prefix/bits (prefix in the same 16-byte form)? */
static bool in_block(const struct addr16 *a, const uint8_t *prefix, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a->b, prefix, whole) != 0)
		return false;
	return rest == 0 || ((a->b[whole] ^ prefix[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static enum gw_addr_class classify_v4(const uint8_t *p)
{
	if (p[0] == 169 && p[1] == 254)
		return p[2] == 169 && p[3] == 254 ? GW_ADDR_METADATA : GW_ADDR_LINK_LOCAL;
	if (p[0] == 127 || p[0] == 0) /* 0.0.0.0/8 connects to this host on Linux */
		return GW_ADDR_LOOPBACK;
	if (p[0] == 10 || (p[0] == 172 && (p[1] & 0xf0) == 16) || (p[0] == 192 && p[1] == 168) ||
	    (p[0] == 100 && (p[1] & 0xc0) == 64) || p[0] >= 224)
		return GW_ADDR_PRIVATE; /* RFC 1918, carrier-grade NAT, multicast, reserved */
	return GW_ADDR_PUBLIC;
}

static enum gw_addr_class classify16(const struct addr16 *a)
{
	static const uint8_t ec2[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	static const uint8_t loop6[16] = { [15] = 1 }, any6[16] = { 0 };

	if (a->v4)
		return classify_v4(a->b + 12);
	if (memcmp(a->b, ec2, 16) == 0)
		return GW_ADDR_METADATA;
	if (memcmp(a->b, loop6, 16) == 0 || memcmp(a->b, any6, 16) == 0)
		return GW_ADDR_LOOPBACK;
	if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
		return GW_ADDR_LINK_LOCAL;
	if ((a->b[0] & 0xfe) == 0xfc || a->b[0] == 0xff || (a->b[0] & 0xe0) != 0x20)
		return GW_ADDR_PRIVATE; /* unique local, multicast, outside global unicast */
	return GW_ADDR_PUBLIC;
}

enum gw_addr_class gw_addr_classify(const struct sockaddr *sa, socklen_t len)
{
	struct addr16 a;

	return to_addr16(sa, len, &a) ? classify16(&a) : GW_ADDR_PRIVATE;
}

const char *gw_addr_class_name(enum gw_addr_class c)
{
	switch (c) {
	case GW_ADDR_PUBLIC:
		return "public";
	case GW_ADDR_LOOPBACK:
		return "loopback";
	case GW_ADDR_PRIVATE:
		return "private";
	case GW_ADDR_LINK_LOCAL:
		return "link-local";
	case GW_ADDR_METADATA:
		return "cloud metadata";
	}
	return "private";
}

/* text as an address in 16-byte form; false if it is not an IP literal */
static bool parse_ip(const char *text, struct addr16 *a)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	char buf[64];
	size_t n = strlen(text);

	if (n >= 2 && text[0] == '[' && text[n - 1] == ']') { /* a URL's IPv6 host */
		if (n - 2 >= sizeof(buf))
			return false;
		memcpy(buf, text + 1, n - 2);
		buf[n - 2] = '\0';
		text = buf;
	}
	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		return to_addr16((struct sockaddr *)&in, sizeof(in), a);
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1)
		return to_addr16((struct sockaddr *)&in6, sizeof(in6), a);
	return false;
}

/* entry as an address block: "10.0.0.0/8", "fd12::/16" or one address */
static bool parse_block(const char *entry, struct addr16 *prefix, unsigned *bits)
{
	const char *slash = strchr(entry, '/');
	char ip[64], *end;
	unsigned long n;

	if (!slash) {
		*bits = 128;
		return parse_ip(entry, prefix);
	}
	if ((size_t)(slash - entry) >= sizeof(ip) || !slash[1])
		return false;
	memcpy(ip, entry, (size_t)(slash - entry));
	ip[slash - entry] = '\0';
	if (!parse_ip(ip, prefix))
		return false;
	n = strtoul(slash + 1, &end, 10);
	if (*end || slash[1] < '0' || slash[1] > '9' || n > (prefix->v4 ? 32u : 128u))
		return false;
	*bits = (unsigned)n + (prefix->v4 ? 96u : 0u);
	return true;
}

static bool host_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

bool gw_addr_guard_entry_valid(const char *entry)
{
	struct addr16 a;
	unsigned bits;

	return parse_block(entry, &a, &bits) || (!strchr(entry, '/') && host_name_valid(entry));
}

static bool listed(const struct gw_addr_guard *g, const char *host, const struct addr16 *a)
{
	for (size_t i = 0; g && i < g->n_allowed; i++) {
		struct addr16 prefix;
		unsigned bits;

		if (parse_block(g->allowed[i], &prefix, &bits)) {
			if (in_block(a, prefix.b, bits))
				return true;
		} else if (host && strcasecmp(g->allowed[i], host) == 0) {
			return true;
		}
	}
	return false;
}

static const char *rule(const struct gw_addr_guard *g, const char *host, const struct addr16 *a)
{
	switch (classify16(a)) {
	case GW_ADDR_METADATA:
		return "the cloud metadata address is never allowed";
	case GW_ADDR_LINK_LOCAL:
		return "link-local addresses are never allowed";
	case GW_ADDR_LOOPBACK:
		return listed(g, host, a) ? NULL
					  : "loopback addresses need admin.allowed_upstream_hosts";
	case GW_ADDR_PRIVATE:
		return listed(g, host, a) ? NULL
					  : "private addresses need admin.allowed_upstream_hosts";
	case GW_ADDR_PUBLIC:
		break;
	}
	return NULL;
}

const char *gw_addr_guard_check(const struct gw_addr_guard *g, const char *host,
				const struct sockaddr *sa, socklen_t len)
{
	struct addr16 a;

	if (!to_addr16(sa, len, &a))
		return "only IPv4 and IPv6 addresses are allowed";
	return rule(g, host, &a);
}

/* The host of url, into out (cap bytes). false if none. */
static bool url_host(const char *url, char *out, size_t cap)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool ok = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strlen(host) < cap) {
		memcpy(out, host, strlen(host) + 1);
		ok = true;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

const char *gw_addr_guard_check_url(const struct gw_addr_guard *g, const char *url)
{
	char host[256];
	struct addr16 a;

	if (!url_host(url, host, sizeof(host)))
		return "the URL has no host";
	if (parse_ip(host, &a))
		return rule(g, host, &a);
	if (strcasecmp(host, "localhost") == 0 ||
	    (strlen(host) > 10 && strcasecmp(host + strlen(host) - 10, ".localhost") == 0)) {
		parse_ip("127.0.0.1", &a); /* RFC 6761: always loopback */
		return rule(g, host, &a);
	}
	return NULL; /* a name: its addresses are checked when connecting */
}

int gw_addr_target_init(struct gw_addr_target *t, const struct gw_addr_guard *g, const char *url)
{
	t->guard = g;
	return url_host(url, t->host, sizeof(t->host)) ? 0 : GW_EINVAL;
}

static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	const struct gw_addr_target *t = arg;
	const char *why;

	(void)purpose;
	why = gw_addr_guard_check(t->guard, t->host, &addr->addr, addr->addrlen);
	if (why) {
		char ip[INET6_ADDRSTRLEN] = "?";
		struct addr16 a;

		if (to_addr16(&addr->addr, addr->addrlen, &a))
			inet_ntop(a.v4 ? AF_INET : AF_INET6, a.v4 ? a.b + 12 : a.b, ip, sizeof(ip));
		GW_WARN("upstream", "refused to connect to %s (%s): %s", t->host, ip, why);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

void gw_addr_guard_apply(CURL *e, const struct gw_addr_target *t)
{
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)t);
}
