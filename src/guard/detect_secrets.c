/* Secrets: vendor tokens recognised by their documented prefixes and
 * lengths, PEM private keys, JWTs, passwords in URLs and high-entropy values
 * assigned to key-like names. */
#include <string.h>

#include "guard/detect-impl.h"

static bool cls_upnum(unsigned char c) { return gw_dc_upper(c) || gw_dc_digit(c); }
static bool cls_alnum(unsigned char c) { return gw_dc_alnum(c); }
static bool cls_b64url(unsigned char c) { return gw_dc_b64url(c); }
static bool cls_word(unsigned char c) { return gw_dc_word(c); }
static bool cls_gitlab(unsigned char c) { return gw_dc_b64url(c) || c == '.'; }
static bool cls_azure(unsigned char c) { return gw_dc_b64url(c) || c == '.' || c == '~'; }
static bool cls_b64(unsigned char c) { return gw_dc_alnum(c) || c == '+' || c == '/'; }

/* A token of class cls from i + plen that is min..max long and not
 * followed by another byte of its class: its end, else 0. */
static size_t token(const struct gw_scan *s, size_t i, size_t plen, size_t min, size_t max,
		    bool (*cls)(unsigned char))
{
	size_t j = i + plen, e;

	if (j > s->n)
		return 0;
	e = gw_dc_span(s->p, s->n, j, max + 1, cls);
	if (e - j < min || e - j > max)
		return 0;
	return e;
}

static size_t emit_token(struct gw_scan *s, enum gw_detect_type t, size_t i, size_t e)
{
	if (e)
		gw_detect_emit(s, GW_DETECT_SECRETS, t, i, e - i);
	return e;
}

static const char *const aws_prefixes[] = { "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA",
					    "AROA", "AIPA", "ANPA", "ANVA", "APKA" };

static size_t word_a(struct gw_scan *s, size_t i)
{
	size_t k;

	for (k = 0; k < sizeof(aws_prefixes) / sizeof(aws_prefixes[0]); k++)
		if (gw_dc_at(s->p, s->n, i, aws_prefixes[k], false))
			return emit_token(s, GW_DT_AWS_ACCESS_KEY, i,
					  token(s, i, 4, 16, 16, cls_upnum));
	if (gw_dc_at(s->p, s->n, i, "AIza", false))
		return emit_token(s, GW_DT_GCP_API_KEY, i, token(s, i, 4, 35, 35, cls_b64url));
	return 0;
}

static const char *const gitlab_prefixes[] = { "glpat-", "gldt-", "glrt-", "glptt-",
					       "glsoat-", "glcbt-", "gloas-", "glft-" };

static size_t word_g(struct gw_scan *s, size_t i)
{
	size_t k;

	if (gw_dc_at(s->p, s->n, i, "gh", false) && i + 3 < s->n && s->p[i + 3] == '_' &&
	    strchr("pousr", s->p[i + 2]) && s->p[i + 2])
		return emit_token(s, GW_DT_GITHUB_TOKEN, i, token(s, i, 4, 36, 251, cls_alnum));
	if (gw_dc_at(s->p, s->n, i, "github_pat_", false))
		return emit_token(s, GW_DT_GITHUB_TOKEN, i, token(s, i, 11, 50, 244, cls_word));
	for (k = 0; k < sizeof(gitlab_prefixes) / sizeof(gitlab_prefixes[0]); k++)
		if (gw_dc_at(s->p, s->n, i, gitlab_prefixes[k], false))
			return emit_token(s, GW_DT_GITLAB_TOKEN, i,
					  token(s, i, strlen(gitlab_prefixes[k]), 20, 200,
						cls_gitlab));
	return 0;
}

/* "sk-..." keys: Anthropic's "sk-ant-", else OpenAI's ("sk-proj-", ...),
 * with letters and digits mixed in the random part. */
static size_t word_sk_dash(struct gw_scan *s, size_t i)
{
	size_t e, k;
	bool digit = false, alpha = false;

	if (gw_dc_at(s->p, s->n, i, "sk-ant-", false))
		return emit_token(s, GW_DT_ANTHROPIC_KEY, i, token(s, i, 7, 32, 300, cls_b64url));
	e = token(s, i, 3, 32, 300, cls_b64url);
	for (k = i + 3; e && k < e; k++) {
		digit |= gw_dc_digit(s->p[k]);
		alpha |= gw_dc_alpha(s->p[k]);
	}
	return emit_token(s, GW_DT_OPENAI_KEY, i, digit && alpha ? e : 0);
}

static size_t word_s(struct gw_scan *s, size_t i)
{
	if (gw_dc_at(s->p, s->n, i, "sk_live_", false) || gw_dc_at(s->p, s->n, i, "sk_test_", false) ||
	    gw_dc_at(s->p, s->n, i, "rk_live_", false) || gw_dc_at(s->p, s->n, i, "rk_test_", false))
		return emit_token(s, GW_DT_STRIPE_KEY, i, token(s, i, 8, 16, 247, cls_alnum));
	if (gw_dc_at(s->p, s->n, i, "whsec_", false))
		return emit_token(s, GW_DT_STRIPE_KEY, i, token(s, i, 6, 24, 100, cls_b64));
	if (gw_dc_at(s->p, s->n, i, "sk-", false))
		return word_sk_dash(s, i);
	return 0;
}

static size_t word_x(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;

	if (gw_dc_at(p, s->n, i, "xox", false) && i + 4 < s->n && strchr("abposre", p[i + 3]) &&
	    p[i + 3] && p[i + 4] == '-')
		return emit_token(s, GW_DT_SLACK_TOKEN, i, token(s, i, 5, 10, 250, cls_b64url));
	if (gw_dc_at(p, s->n, i, "xapp-", false))
		return emit_token(s, GW_DT_SLACK_TOKEN, i, token(s, i, 5, 10, 250, cls_b64url));
	return 0;
}

/* header.payload.signature, each base64url; the header must decode. */
static size_t word_jwt(struct gw_scan *s, size_t i)
{
	size_t h, pl, sig;

	if (!gw_dc_at(s->p, s->n, i, "eyJ", false))
		return 0;
	h = gw_dc_span(s->p, s->n, i, 1024, cls_b64url);
	if (h >= s->n || s->p[h] != '.')
		return 0;
	pl = gw_dc_span(s->p, s->n, h + 1, 16384, cls_b64url);
	if (pl == h + 1 || pl >= s->n || s->p[pl] != '.')
		return 0;
	sig = gw_dc_span(s->p, s->n, pl + 1, 2048, cls_b64url);
	if (sig < s->n && gw_dc_b64url(s->p[sig]))
		return 0;  /* too long */
	if (sig + 1 < s->n && s->p[sig] == '.' && gw_dc_b64url(s->p[sig + 1]))
		return 0;  /* five parts: a JWE, encrypted */
	if (!gw_detect_jwt_header_ok(s->p + i, h - i))
		return 0;
	return emit_token(s, GW_DT_JWT, i, sig);
}

/* Azure AD client secrets: 3 bytes, a digit, "Q~", then 31-34 more. */
static size_t word_azure(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;

	if (i + 6 > s->n || !gw_dc_digit(p[i + 3]) || p[i + 4] != 'Q' || p[i + 5] != '~')
		return 0;
	if (!cls_azure(p[i + 1]) || !cls_azure(p[i + 2]))
		return 0;
	return emit_token(s, GW_DT_AZURE_CLIENT_SECRET, i, token(s, i, 6, 31, 34, cls_azure));
}

size_t gw_detect_secret_word(struct gw_scan *s, size_t i, size_t wend)
{
	size_t r = 0;

	(void)wend;
	unsigned char c1 = i + 1 < s->n ? s->p[i + 1] : 0;

	switch (s->p[i]) {
	case 'A': r = gw_dc_upper(c1) ? word_a(s, i) : 0; break;
	case 'g': r = c1 == 'h' || c1 == 'i' || c1 == 'l' ? word_g(s, i) : 0; break;
	case 's': case 'r': r = c1 == 'k' ? word_s(s, i) : 0; break;
	case 'w': r = c1 == 'h' ? word_s(s, i) : 0; break;
	case 'x': r = c1 == 'o' || c1 == 'a' ? word_x(s, i) : 0; break;
	case 'e': r = c1 == 'y' ? word_jwt(s, i) : 0; break;
	default: break;
	}
	return r ? r : word_azure(s, i);
}

/* The next "-----END " at or after from (s->n: none), searched once for a
 * run of BEGIN lines. */
static size_t pem_end_after(struct gw_scan *s, size_t from)
{
	const unsigned char *f;

	if (from >= s->pem_from && s->pem_end >= from)
		return s->pem_end;
	f = memmem(s->p + from, s->n - from, "-----END ", 9);
	s->pem_from = from;
	s->pem_end = f ? (size_t)(f - s->p) : s->n;
	return s->pem_end;
}

static bool cls_pem_body(unsigned char c)
{
	return cls_b64(c) || c == '=' || c == '\\' || c == '\n' || c == '\r' || c == ' ' ||
	       c == '\t' || c == ':' || c == '-' || c == ',';
}

/* "-----BEGIN ... PRIVATE KEY-----" through its END line; with no END
 * within 64 KiB, through the base64 body that follows (JSON-escaped line
 * breaks included). */
size_t gw_detect_pem(struct gw_scan *s, size_t i)
{
	const size_t max_block = 65536;
	size_t j = i + 11, lab, e, end;

	if (!gw_dc_at(s->p, s->n, i, "-----BEGIN ", false))
		return 0;
	lab = j;
	while (j < s->n && j - lab < 40 && (gw_dc_upper(s->p[j]) || s->p[j] == ' '))
		j++;
	if (!gw_dc_at(s->p, s->n, j, "-----", false) || j - lab < 11 ||
	    !memmem(s->p + lab, j - lab, "PRIVATE KEY", 11))
		return 0;
	j += 5;
	e = pem_end_after(s, j);
	if (e < s->n && e - j <= max_block) {
		end = e + 9;
		while (end < s->n && end - e < 64 && s->p[end] != '-')
			end++;
		end = gw_dc_at(s->p, s->n, end, "-----", false) ? end + 5 : end;
	} else {
		end = gw_dc_span(s->p, s->n, j, max_block, cls_pem_body);
	}
	gw_detect_emit(s, GW_DETECT_SECRETS, GW_DT_PRIVATE_KEY, i, end - i);
	return end;
}
