/* admin.allowed_secret_refs: what a server registered through the admin API
 * may make the gateway read. Contracts in core/config_refs.h. */
#include "core/config_refs.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_MAX 200 /* bytes of a reference named in a message */

static const struct gw_cfgrefs_field fields[] = {
	{ "auth.credential_ref", { "auth", "credential_ref", NULL }, false },
	{ "auth.oauth2.client_secret_ref", { "auth", "oauth2", "client_secret_ref", NULL }, false },
	{ "tls.ca", { "tls", "ca", NULL }, true },
	{ "tls.cert", { "tls", "cert", NULL }, true },
	{ "tls.key", { "tls", "key", NULL }, true },
};

/* Contract in core/config_refs.h. */
const struct gw_cfgrefs_field *gw_cfgrefs_field(size_t i)
{
	return i < sizeof(fields) / sizeof(fields[0]) ? &fields[i] : NULL;
}

/* Is the absolute path p (len bytes) free of empty, "." and ".."
 * components? Refused outright rather than normalised: a glob then means
 * what it says, and "allowed/../../etc/shadow" cannot slip through. */
static bool path_is_plain(const char *p, size_t len)
{
	size_t i = 1, start;

	if (len == 0 || p[0] != '/')
		return false;
	while (i <= len) {
		start = i;
		while (i < len && p[i] != '/')
			i++;
		if (i == start && i < len) /* "//" */
			return false;
		if ((i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return false;
		i++;
	}
	return true;
}

/* Contract in core/config_refs.h. */
int gw_cfgrefs_check_glob(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			  size_t len)
{
	if (strlen(s) != len)
		return gw_yaml_fail(d, v->line, "a NUL byte in a glob");
	if (len > 6 && strncmp(s, "env://", 6) == 0)
		return 0;
	if (len > 7 && strncmp(s, "file://", 7) == 0) {
		if (!path_is_plain(s + 7, len - 7))
			return gw_yaml_fail(d, v->line, "'%s': a file:// glob is an absolute path "
					    "(file:///dir/*) with no empty, '.' or '..' component",
					    gw_yaml_show(d, s, len));
		return 0;
	}
	return gw_yaml_fail(d, v->line, "'%s' is not an env://NAME or file:///path glob",
			    gw_yaml_show(d, s, len));
}

/* ref as a message may show it: printable ASCII, cut at SHOW_MAX. */
static void show(const char *ref, char *out, size_t cap)
{
	size_t n = 0;

	for (; *ref && n + 4 < cap && n < SHOW_MAX; ref++)
		out[n++] = (*ref >= 0x20 && *ref < 0x7f) ? *ref : '?';
	if (*ref && n + 4 < cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Does ref match one of allowed? A file:// glob's '*' stays within one
 * directory (FNM_PATHNAME). */
static bool matches(const struct gw_strv *allowed, const char *ref, bool file)
{
	for (size_t i = 0; i < allowed->n; i++)
		if (fnmatch(allowed->v[i], ref, file ? FNM_PATHNAME : 0) == 0)
			return true;
	return false;
}

/* The file reference ref (file:///path) passes when the path is plain and
 * it matches as written and, if it exists, as resolved: a symlink in an
 * allowed directory must not lead out of it. It is resolved again at each
 * load (the secret is read then). NULL, or the rule broken. */
static const char *file_refusal(const struct gw_strv *allowed, const char *ref)
{
	char resolved[PATH_MAX + 8], *real;
	bool ok;

	if (!path_is_plain(ref + 7, strlen(ref + 7)))
		return "is refused: a path must be absolute, with no empty, '.' or '..' component";
	if (!matches(allowed, ref, true))
		return "matches no glob of admin.allowed_secret_refs";
	real = realpath(ref + 7, NULL);
	if (!real) /* not there (yet): reading it fails the same way */
		return NULL;
	snprintf(resolved, sizeof(resolved), "file://%s", real);
	ok = strlen(real) < PATH_MAX && matches(allowed, resolved, true);
	free(real);
	return ok ? NULL : "resolves (symlinks) to a path no glob of admin.allowed_secret_refs "
			   "matches";
}

/* Contract in core/config_refs.h. */
bool gw_cfgrefs_allowed(const struct gw_strv *allowed, const struct gw_cfgrefs_field *field,
			const char *ref, char *why, size_t cap)
{
	char buf[PATH_MAX + 8], shown[SHOW_MAX + 8];
	const char *rule = NULL;

	if (field->path) {
		snprintf(buf, sizeof(buf), "file://%s", ref);
		ref = buf;
	}
	if (strstr(ref, "${"))
		rule = "is refused: ${VAR} is not expanded for servers registered through the admin API";
	else if (allowed->n == 0)
		rule = "is refused: admin.allowed_secret_refs is empty";
	else if (strncmp(ref, "file://", 7) == 0)
		rule = file_refusal(allowed, ref);
	else if (strncmp(ref, "env://", 6) != 0)
		rule = "is refused: expected env://NAME or file:///path";
	else if (!matches(allowed, ref, false))
		rule = "matches no glob of admin.allowed_secret_refs";
	if (!rule)
		return true;
	show(field->path ? ref + 7 : ref, shown, sizeof(shown));
	snprintf(why, cap, "key '%s': '%s' %s", field->field, shown, rule);
	return false;
}
