/* A provider's answer (guard/provider.h): parsed strictly, since it comes
 * from outside, and applied to the value asked about. */
#include "guard/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "guard/walk.h"

void gw_provider_answer_free(struct gw_provider_answer *a)
{
	for (size_t i = 0; i < a->n_red; i++)
		free(a->red[i].text);
	free(a->red);
	memset(a, 0, sizeof(*a));
}

/* The reason as a message may show it: controls become blanks, cut at a
 * character's start within GW_PROVIDER_REASON_MAX bytes (jansson gave us
 * valid UTF-8). */
static void keep_reason(struct gw_provider_answer *a, const char *s, size_t len)
{
	size_t n = len < GW_PROVIDER_REASON_MAX ? len : GW_PROVIDER_REASON_MAX;

	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		a->reason[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	a->reason[n] = '\0';
}

static bool type_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > GW_PROVIDER_TYPE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int parse_redaction(const json_t *o, struct gw_provider_redaction *r)
{
	const json_t *text = json_object_get(o, "text"), *type = json_object_get(o, "type");
	size_t len = json_string_length(text);

	if (!json_is_object(o) || !json_is_string(text) || len == 0 ||
	    len > GW_PROVIDER_MAX_REDACTION)
		return GW_EINVAL;
	if (type && (!json_is_string(type) ||
		     !type_is_valid(json_string_value(type), json_string_length(type))))
		return GW_EINVAL;
	snprintf(r->type, sizeof(r->type), "%s", type ? json_string_value(type) : "provider");
	r->text = malloc(len);
	if (!r->text)
		return GW_ENOMEM;
	memcpy(r->text, json_string_value(text), len);
	r->len = len;
	return 0;
}

static int parse_redactions(const json_t *v, struct gw_provider_answer *a)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n > GW_PROVIDER_MAX_REDACTIONS)
		return GW_EINVAL;
	if (n == 0)
		return 0;
	a->red = calloc(n, sizeof(*a->red));
	if (!a->red)
		return GW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_redaction(json_array_get(v, i), &a->red[i]);

		if (rc)
			return rc;
		a->n_red++;
	}
	return 0;
}

int gw_provider_answer_parse(const char *body, size_t len, struct gw_provider_answer *a)
{
	json_t *doc = NULL;
	const json_t *act, *reason, *red;
	const char *s;
	int rc = GW_EINVAL;

	memset(a, 0, sizeof(*a));
	if (len > GW_PROVIDER_MAX_ANSWER)
		return GW_EINVAL;
	doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	act = json_object_get(doc, "action");
	reason = json_object_get(doc, "reason");
	red = json_object_get(doc, "redactions");
	s = json_string_value(act);
	if (!json_is_object(doc) || !s || (reason && !json_is_string(reason) && !json_is_null(reason)))
		goto out;
	if (strcmp(s, "allow") == 0 && json_string_length(act) == 5)
		a->action = GW_PROVIDER_ALLOW;
	else if (strcmp(s, "block") == 0 && json_string_length(act) == 5)
		a->action = GW_PROVIDER_BLOCK;
	else if (strcmp(s, "redact") == 0 && json_string_length(act) == 6)
		a->action = GW_PROVIDER_REDACT;
	else
		goto out;
	if (json_is_string(reason))
		keep_reason(a, json_string_value(reason), json_string_length(reason));
	/* redactions mean something only with redact; elsewhere they are ignored */
	rc = a->action == GW_PROVIDER_REDACT ? (red ? parse_redactions(red, a) : GW_EINVAL) : 0;
	if (rc == 0 && a->action == GW_PROVIDER_REDACT && a->n_red == 0)
		rc = GW_EINVAL;
out:
	json_decref(doc);
	if (rc)
		gw_provider_answer_free(a);
	return rc;
}

/* ---- applying redactions --------------------------------------------------- */

/* s (len bytes) with every occurrence of r replaced, into out. */
static int replace_all(const struct gw_provider_redaction *r, const char *s, size_t len,
		       struct gw_buf *out, size_t *count)
{
	size_t at = 0;

	while (len - at >= r->len) {
		const char *p = memmem(s + at, len - at, r->text, r->len);
		size_t off;

		if (!p)
			break;
		off = (size_t)(p - s);

		if (gw_buf_append(out, s + at, off - at) ||
		    gw_buf_printf(out, "[REDACTED:%s]", r->type) < 0)
			return GW_ETOOBIG;
		at = off + r->len;
		(*count)++;
	}
	return gw_buf_append(out, s + at, len - at);
}

static int redact_string(const struct gw_provider_answer *a, json_t *v, size_t *count)
{
	for (size_t i = 0; i < a->n_red; i++) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v), before = *count;
		struct gw_buf out;
		int rc;

		if (len < a->red[i].len || !memmem(s, len, a->red[i].text, a->red[i].len))
			continue;
		gw_buf_init(&out, GW_GUARD_WALK_MAX_TEXT);
		rc = replace_all(&a->red[i], s, len, &out, count);
		if (rc == 0 && *count > before && json_string_setn(v, out.ptr, out.len))
			rc = GW_ENOMEM;
		gw_buf_free(&out);
		if (rc)
			return rc;
	}
	return 0;
}

static int redact_value(const struct gw_provider_answer *a, json_t *v, unsigned depth,
			size_t *count)
{
	const char *k;
	json_t *item;
	size_t i;
	int rc = 0;

	if (depth > GW_GUARD_WALK_MAX_DEPTH)
		return GW_ETOOBIG;
	if (json_is_string(v))
		return redact_string(a, v, count);
	if (json_is_object(v)) {
		json_object_foreach(v, k, item) {
			rc = redact_value(a, item, depth + 1, count);
			if (rc)
				return rc;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			rc = redact_value(a, item, depth + 1, count);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int gw_provider_redact(const struct gw_provider_answer *a, json_t *v, size_t *count)
{
	*count = 0;
	return redact_value(a, v, 0, count);
}
