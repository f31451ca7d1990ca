/* Where a registered upstream may point (issue 12, "Safe registration"):
 * a server URL given through the admin API or the CLI must not reach the
 * cloud metadata service or link-local addresses, nor loopback or private
 * ranges unless the operator listed them (admin.allowed_upstream_hosts).
 * The check runs twice: on the URL when the server is registered, and on
 * every address libcurl is about to connect to (gw_addr_guard_apply), so a
 * name that resolved to a public address at registration and to
 * 169.254.169.254 later (DNS rebinding) is still refused. The same holds for
 * the OAuth2 token endpoint of such a server (upstream/oauth2.h), which is
 * sent the client secret. Servers from the config file are the operator's
 * own and are not checked. */
#ifndef GW_UPSTREAM_ADDR_GUARD_H
#define GW_UPSTREAM_ADDR_GUARD_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum gw_addr_class {
	GW_ADDR_PUBLIC = 0,
	GW_ADDR_LOOPBACK,       /* 127/8, ::1, 0.0.0.0 and :: (they reach this host) */
	GW_ADDR_PRIVATE,        /* RFC 1918, 100.64/10, fc00::/7, reserved and multicast */
	GW_ADDR_LINK_LOCAL,     /* 169.254/16, fe80::/10: never allowed */
	GW_ADDR_METADATA,       /* 169.254.169.254, fd00:ec2::254: never allowed */
};

/* The class of an IPv4 or IPv6 address (IPv4-mapped and NAT64 IPv6
 * addresses are classed by the IPv4 address they carry). Another family:
 * GW_ADDR_PRIVATE (refused unless allowed). */
enum gw_addr_class gw_addr_classify(const struct sockaddr *sa, socklen_t len);
/* "public", "loopback", "private", "link-local", "cloud metadata". */
const char *gw_addr_class_name(enum gw_addr_class c);

/* Operator's exceptions for loopback and private addresses: host names
 * (matched against the URL's host, case-insensitively), IP addresses and
 * CIDR blocks ("10.1.0.0/16", "fd12::/16"). Not owned: the strings are
 * the config's and must outlive the guard's users. */
struct gw_addr_guard {
	const char *const *allowed;
	size_t n_allowed;
};

/* Is a well-formed entry of allowed_upstream_hosts: a host name, an IP
 * address or a CIDR block with a prefix length in range. */
bool gw_addr_guard_entry_valid(const char *entry);

/* Does g let an upstream whose URL names host connect to address sa? NULL
 * if so, else the rule that refuses it, for the operator ("the cloud
 * metadata address is never allowed", "loopback addresses need
 * admin.allowed_upstream_hosts"): static text. */
const char *gw_addr_guard_check(const struct gw_addr_guard *g, const char *host,
				const struct sockaddr *sa, socklen_t len);

/* Check a URL at registration: its host when it is an IP literal (a name
 * is checked at connect time, once resolved; "localhost" counts as
 * loopback). NULL if allowed, else the rule as above. */
const char *gw_addr_guard_check_url(const struct gw_addr_guard *g, const char *url);

/* One upstream's use of a guard: the guard and the host its URL names
 * (gw_addr_target_init). Embedded in what owns the upstream's transfers. */
struct gw_addr_target {
	const struct gw_addr_guard *guard;
	char host[256];
};

/* Fill t for an upstream at url under g. 0, or GW_EINVAL when url has no
 * host libcurl can parse or one longer than t->host. */
int gw_addr_target_init(struct gw_addr_target *t, const struct gw_addr_guard *g, const char *url);

/* Make libcurl ask t's guard before each connection of e
 * (CURLOPT_OPENSOCKETFUNCTION): a refused address fails the transfer with
 * CURLE_COULDNT_CONNECT and a warning naming the rule. t must outlive e's
 * transfers. */
void gw_addr_guard_apply(CURL *e, const struct gw_addr_target *t);

#endif
