/* Secrets by context: a value assigned to a key-like name ("password: ...",
 * "API_KEY=...", "\"client_secret\": \"...\""), and the password in a URL's
 * user info. Also the URL rules of the injection family (data carried out
 * in a query string) and Slack's webhook URLs, since they share the parse. */
#include <string.h>

#include "guard/detect-impl.h"

static bool cls_value(unsigned char c)
{
	return gw_dc_alnum(c) || (c && strchr("+/_-.~!#%^&*@", c));
}

/* Names that hold credentials, and names that merely mention one. */
static const char *const key_names[] = {
	"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "api_key",
	"api-key", "accesskey", "access_key", "privatekey", "private_key", "credential",
	"authkey", "auth_key", "accountkey", "signing_key", "encryption_key", "master_key",
	"session_key", "client_key", "_key", "-key", "_pass", "authorization",
};
/* Every key name holds one of these: most names are turned down here. */
static const char *const key_roots[] = { "pass", "pwd", "secret", "token", "key", "credential",
					 "auth" };
static const char *const not_key_names[] = {
	"page", "cursor", "next", "count", "limit", "max", "min", "type", "usage", "length",
	"expir", "ttl", "url", "uri", "endpoint", "path", "file", "name", "hash", "sha",
	"digest", "policy", "format", "prefix", "hint", "field", "header", "env", "ref",
	"partition", "primary", "sort", "cache", "foreign", "idempot", "public", "object",
	"_id", "_at", "kind", "mode", "scope", "index", "version",
};

static bool contains_any(const char *s, const char *const *list, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strstr(s, list[k]))
			return true;
	return false;
}

/* The lower-cased name before the separator at sep, or false. */
static bool name_before(const struct gw_scan *s, size_t sep, char *name, size_t cap)
{
	size_t j = sep, end, b, k;

	while (j > 0 && sep - j < 4 && (s->p[j - 1] == ' ' || s->p[j - 1] == '\t'))
		j--;
	if (j > 0 && (s->p[j - 1] == '"' || s->p[j - 1] == '\''))
		j--;
	if (j > 0 && s->p[j - 1] == '\\')
		j--;
	end = j;
	while (j > 0 && end - j < cap - 1 &&
	       (gw_dc_word(s->p[j - 1]) || s->p[j - 1] == '-' || s->p[j - 1] == '.'))
		j--;
	b = j;
	if (end - b < 3 || end - b >= cap - 1)
		return false;
	for (k = b; k < end; k++)
		name[k - b] = (char)gw_dc_lc(s->p[k]);
	name[end - b] = '\0';
	return true;
}

static bool is_placeholder(const unsigned char *v, size_t n)
{
	size_t k, same = 0;

	for (k = 1; k < n; k++)
		same += v[k] == v[0];
	return same == n - 1 || v[0] == '*' || v[0] == '<' || v[0] == '$' || v[0] == '{' ||
	       v[0] == '%';
}

/* Is the value a credential for this name? */
static bool value_is_secret(const char *name, const unsigned char *v, size_t n)
{
	bool lo = false, up = false, dig = false, sym = false;
	size_t k;
	int classes;

	if (is_placeholder(v, n))
		return false;
	for (k = 0; k < n; k++) {
		lo |= gw_dc_lower(v[k]);
		up |= gw_dc_upper(v[k]);
		dig |= gw_dc_digit(v[k]);
		sym |= !gw_dc_alnum(v[k]);
	}
	classes = lo + up + dig + sym;
	if ((strstr(name, "pass") && !strstr(name, "passphrase_hint")) || strstr(name, "pwd"))
		return n >= 12 || (n >= 8 && classes >= 2);
	/* a generated key has digits; words and paths ("io.example/task") don't */
	if (n < 16 || classes < 2 || !(lo || up) || !dig)
		return false;
	return gw_detect_entropy(v, n) >= 3.0;
}

/* The value that follows sep: [*vb, return) with quotes, spaces and an
 * authorization scheme skipped; *quoted says whether a quote opened it. */
static size_t value_after(const struct gw_scan *s, size_t sep, size_t *vb, bool *quoted)
{
	size_t j = sep + 1, e;

	while (j < s->n && j - sep < 5 && (s->p[j] == ' ' || s->p[j] == '\t'))
		j++;
	if (j < s->n && s->p[j] == '\\')
		j++;
	*quoted = j < s->n && (s->p[j] == '"' || s->p[j] == '\'');
	if (*quoted)
		j++;
	if (gw_dc_at(s->p, s->n, j, "bearer ", true))
		j += 7;
	else if (gw_dc_at(s->p, s->n, j, "basic ", true))
		j += 6;
	*vb = j;
	e = gw_dc_span(s->p, s->n, j, 512, cls_value);
	while (e < s->n && e - j < 514 && s->p[e] == '=')
		e++;
	return e;
}

/* An unquoted identifier (dotted, snake_case or camelCase) is code reading
 * a setting ("password = settings.DB_PASSWORD", "privateKey:
 * pemEncodedPrivateKey"), not the setting; a plain word may be a password
 * ("PASSWORD=correcthorsebatterystaple" in an env file). */
static bool is_code_reference(const unsigned char *v, size_t n)
{
	bool marks = false;
	size_t k;

	for (k = 0; k < n; k++) {
		if (!gw_dc_alpha(v[k]) && v[k] != '_' && v[k] != '.')
			return false;
		marks |= v[k] == '_' || v[k] == '.' ||
			 (k > 0 && gw_dc_lower(v[k - 1]) && gw_dc_upper(v[k]));
	}
	return marks;
}

size_t gw_detect_assignment(struct gw_scan *s, size_t i)
{
	char name[65];
	size_t vb, ve;
	bool quoted;
	enum gw_detect_type t = GW_DT_GENERIC_SECRET;

	ve = value_after(s, i, &vb, &quoted);
	if (ve - vb < 8 || ve - vb > 512 || (ve < s->n && (s->p[ve] == '(' || s->p[ve] == '[')))
		return 0;
	if (!quoted && is_code_reference(s->p + vb, ve - vb))
		return 0;
	if (!name_before(s, i, name, sizeof(name)))
		return 0;
	if (!contains_any(name, key_roots, sizeof(key_roots) / sizeof(key_roots[0])) ||
	    !contains_any(name, key_names, sizeof(key_names) / sizeof(key_names[0])) ||
	    contains_any(name, not_key_names, sizeof(not_key_names) / sizeof(not_key_names[0])))
		return 0;
	if (!value_is_secret(name, s->p + vb, ve - vb))
		return 0;
	if (strstr(name, "aws") && strstr(name, "secret"))
		t = GW_DT_AWS_SECRET_KEY;
	else if (strcmp(name, "accountkey") == 0)
		t = GW_DT_AZURE_STORAGE_KEY;
	gw_detect_emit(s, GW_DETECT_SECRETS, t, vb, ve - vb);
	return 0;  /* the value may hold a token the word rules name better */
}

static const char *const db_schemes[] = {
	"postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis",
	"rediss", "amqp", "amqps", "mssql", "sqlserver", "oracle", "cockroachdb", "clickhouse",
	"cassandra", "couchdb", "neo4j", "db2", "snowflake",
};

static bool url_byte(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("\"'<>`\\", c);
}

/* user:password@ in the authority [a, b): the password's range. */
static void url_password(struct gw_scan *s, const char *scheme, size_t a, size_t b)
{
	size_t at = 0, colon = 0, k;
	enum gw_detect_type t = GW_DT_URL_PASSWORD;

	for (k = a; k < b; k++)
		if (s->p[k] == '@')
			at = k;
	if (!at)
		return;
	for (k = a; k < at && !colon; k++)
		if (s->p[k] == ':')
			colon = k;
	if (!colon || at - colon < 2 || is_placeholder(s->p + colon + 1, at - colon - 1))
		return;
	for (k = 0; k < sizeof(db_schemes) / sizeof(db_schemes[0]); k++)
		if (strcmp(scheme, db_schemes[k]) == 0)
			t = GW_DT_DB_URL_PASSWORD;
	if (t == GW_DT_URL_PASSWORD && at - colon - 1 < 3)
		return;
	gw_detect_emit(s, GW_DETECT_SECRETS, t, colon + 1, at - colon - 1);
}

static const char *const exfil_params[] = {
	"data", "d", "payload", "p", "content", "c", "q", "x", "secret", "secrets", "info",
	"msg", "message", "body", "text", "v", "value", "leak", "exfil", "dump", "env", "file",
	"b64", "encoded", "output", "result", "log", "s", "pw", "pass", "password", "creds",
	"credentials", "conversation", "chat", "history", "context", "memory", "prompt", "m",
	"k", "key", "keys", "cookie", "cookies", "session", "sidenote", "notes", "note",
};

/* Does a query value carry data: a template for the agent to fill in, or
 * a long base64/hex blob under a parameter named for data? */
static bool exfil_value(const unsigned char *nm, size_t nl, const unsigned char *v, size_t vl)
{
	char name[16];
	size_t k;
	bool dig = false, alpha = false;

	for (k = 0; k + 1 < vl; k++)
		if ((v[k] == '$' && v[k + 1] == '(') || (v[k] == '%' && k + 5 < vl &&
		    gw_dc_at(v, vl, k, "%7B%7B", true)) || (v[k] == '{' && v[k + 1] == '{') ||
		    (v[k] == '$' && v[k + 1] == '{'))
			return true;
	if (vl < 32 || nl == 0 || nl >= sizeof(name))
		return false;
	for (k = 0; k < vl; k++) {
		/* '+' is a space in a query: "q=how+to+..." is words */
		if (!gw_dc_b64url(v[k]) && v[k] != '=' && v[k] != '/')
			return false;
		dig |= gw_dc_digit(v[k]);
		alpha |= gw_dc_alpha(v[k]);
	}
	for (k = 0; k < nl; k++)
		name[k] = (char)gw_dc_lc(nm[k]);
	name[nl] = '\0';
	for (k = 0; k < sizeof(exfil_params) / sizeof(exfil_params[0]); k++)
		if (strcmp(name, exfil_params[k]) == 0)
			return dig && alpha && gw_detect_entropy(v, vl > 4096 ? 4096 : vl) >= 3.5;
	return false;
}

static bool query_carries_data(const struct gw_scan *s, size_t q, size_t end)
{
	size_t k = q, pb, eq, pe;

	while (k < end) {
		pb = k;
		while (k < end && s->p[k] != '&' && s->p[k] != '#')
			k++;
		pe = k;
		for (eq = pb; eq < pe && s->p[eq] != '='; eq++)
			;
		if (eq < pe && exfil_value(s->p + pb, eq - pb, s->p + eq + 1, pe - eq - 1))
			return true;
		if (k < end && s->p[k] == '#')
			break;
		k++;
	}
	return false;
}

/* At "://" (i is its ':'): user-info passwords, Slack webhooks, and URLs
 * whose query carries data out. Returns 0: the URL's bytes are still
 * scanned by the other detectors (a token in a query is still a token). */
size_t gw_detect_url(struct gw_scan *s, size_t i)
{
	char scheme[24];
	size_t b = i, end, auth_end, q, k;

	if (i < s->url_end)
		return 0;
	while (b > 0 && i - b < sizeof(scheme) - 1 &&
	       (gw_dc_alnum(s->p[b - 1]) || s->p[b - 1] == '+' || s->p[b - 1] == '.'))
		b--;
	if (b == i || i - b >= sizeof(scheme) - 1)
		return 0;
	for (k = b; k < i; k++)
		scheme[k - b] = (char)gw_dc_lc(s->p[k]);
	scheme[i - b] = '\0';
	end = gw_dc_span(s->p, s->n, i + 3, 8192, url_byte);
	s->url_end = end;
	for (auth_end = i + 3; auth_end < end && !strchr("/?#", s->p[auth_end]); auth_end++)
		;
	if (s->kinds & GW_DETECT_SECRETS)
		url_password(s, scheme, i + 3, auth_end);
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		return 0;
	if ((s->kinds & GW_DETECT_SECRETS) &&
	    gw_dc_at(s->p, s->n, i + 3, "hooks.slack.com/services/", false) && end - i > 40)
		gw_detect_emit(s, GW_DETECT_SECRETS, GW_DT_SLACK_WEBHOOK, b, end - b);
	if (!(s->kinds & GW_DETECT_INJECTION))
		return 0;
	for (q = auth_end; q < end && s->p[q] != '?' && s->p[q] != '#'; q++)
		;
	while (end > q && strchr(".,;:)]", s->p[end - 1]))
		end--;
	if (q < end && s->p[q] == '?' && query_carries_data(s, q + 1, end))
		gw_detect_emit(s, GW_DETECT_INJECTION, GW_DT_EXFIL_URL, b, end - b);
	return 0;
}
