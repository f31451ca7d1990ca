/* Recall and false-positive rate of the guardrail detectors on the labelled
 * corpus of tests/guardrails/ (README there). Shared, as static functions,
 * by the unit test (tests/unit/test_guard_detect.c, which gates on the
 * targets) and the runner that prints the table (tests/guardrails/
 * quality.c). */
#ifndef GW_TESTS_GUARDRAILS_EVAL_H
#define GW_TESTS_GUARDRAILS_EVAL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/detect.h"

struct gq_result {
	size_t pos[GW_DT__COUNT];     /* positive samples of the type */
	size_t found[GW_DT__COUNT];   /* ... where the type was reported */
	size_t fp[GW_DT__COUNT];      /* benign samples where the type was reported */
	size_t kind_fp[4];            /* benign samples where the kind was reported */
	size_t benign;                /* benign samples */
};

/* Types with a fixed shape or a checksum: recall must be >= 95%. */
static const enum gw_detect_type gq_fixed[] = {
	GW_DT_AWS_ACCESS_KEY, GW_DT_GCP_API_KEY, GW_DT_AZURE_CLIENT_SECRET, GW_DT_GITHUB_TOKEN,
	GW_DT_GITLAB_TOKEN, GW_DT_SLACK_TOKEN, GW_DT_STRIPE_KEY, GW_DT_OPENAI_KEY,
	GW_DT_ANTHROPIC_KEY, GW_DT_PRIVATE_KEY, GW_DT_JWT, GW_DT_DB_URL_PASSWORD, GW_DT_EMAIL,
	GW_DT_PAYMENT_CARD, GW_DT_IBAN, GW_DT_US_SSN, GW_DT_ES_DNI, GW_DT_CA_SIN, GW_DT_IN_AADHAAR,
	GW_DT_FR_NIR, GW_DT_IPV4, GW_DT_IPV6,
	GW_DT_HIDDEN_TAG, GW_DT_ROLE_MARKER, GW_DT_INVISIBLE_UNICODE,
};

static bool gq_is_fixed(enum gw_detect_type t)
{
	size_t k;

	for (k = 0; k < sizeof(gq_fixed) / sizeof(gq_fixed[0]); k++)
		if (gq_fixed[k] == t)
			return true;
	return false;
}

struct gq_seen {
	bool type[GW_DT__COUNT];
	const char *text;
	FILE *log;        /* where to show each match (NULL: nowhere) */
};

static int gq_note(const struct gw_detect_match *m, void *arg)
{
	struct gq_seen *s = arg;

	s->type[m->type] = true;
	if (s->log)
		fprintf(s->log, "    %s: %.*s\n", gw_detect_type_name(m->type),
			(int)(m->len > 80 ? 80 : m->len), s->text + m->off);
	return 0;
}

static char *gq_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static int gq_type_of(const char *file)
{
	size_t n = strcspn(file, ".");
	int t;

	for (t = 0; t < GW_DT__COUNT; t++)
		if (strlen(gw_detect_type_name(t)) == n &&
		    strncmp(gw_detect_type_name(t), file, n) == 0)
			return t;
	return -1;
}

static int gq_kind_index(unsigned kind)
{
	return kind == GW_DETECT_SECRETS ? 0 : kind == GW_DETECT_PII ? 1 :
	       kind == GW_DETECT_INJECTION ? 2 : 3;
}

/* One sample: positive of type t (t >= 0) or benign (t < 0). log gets
 * the misses and false positives. */
static int gq_sample(const struct gw_detectors *d, const char *s, size_t n, int t,
		     struct gq_result *r, FILE *log, const char *file)
{
	struct gq_seen seen;
	bool kind[4] = { false, false, false, false };
	int k;

	memset(&seen, 0, sizeof(seen));
	seen.text = s;
	if (gw_detect_scan(d, (struct gw_str){ s, n }, GW_DETECT_ALL, gq_note, &seen) != 0)
		return -1;
	if (t >= 0) {
		r->pos[t]++;
		if (seen.type[t]) {
			r->found[t]++;
		} else if (log) {
			fprintf(log, "MISS %s (%s): %.*s\n", gw_detect_type_name(t), file,
				(int)(n > 200 ? 200 : n), s);
			seen.log = log;
			gw_detect_scan(d, (struct gw_str){ s, n }, GW_DETECT_ALL, gq_note, &seen);
		}
		return 0;
	}
	r->benign++;
	for (k = 0; k < GW_DT__COUNT; k++) {
		if (!seen.type[k])
			continue;
		r->fp[k]++;
		kind[gq_kind_index(gw_detect_type_kind(k))] = true;
	}
	for (k = 0; k < 4; k++)
		r->kind_fp[k] += kind[k];
	for (k = 0; k < GW_DT__COUNT && log; k++) {
		if (seen.type[k]) {
			fprintf(log, "FP (%s): %.*s\n", file, (int)(n > 200 ? 200 : n), s);
			seen.log = log;
			gw_detect_scan(d, (struct gw_str){ s, n }, GW_DETECT_ALL, gq_note, &seen);
			break;
		}
	}
	return 0;
}

/* Every sample of every file of dir/positive and dir/benign. Returns 0, or
 * -1 naming the problem on stderr. */
static int gq_evaluate(const char *dir, struct gq_result *r, FILE *log)
{
	static const char *const sub[] = { "positive", "benign" };
	struct gw_detectors *d;
	char err[256], path[512];
	int rc = 0, si;

	memset(r, 0, sizeof(*r));
	d = gw_detectors_new(NULL, err, sizeof(err));
	if (!d)
		return -1;
	for (si = 0; si < 2 && !rc; si++) {
		struct dirent *e;
		DIR *dd;

		snprintf(path, sizeof(path), "%s/%s", dir, sub[si]);
		dd = opendir(path);
		if (!dd) {
			fprintf(stderr, "guardrails corpus: cannot open %s\n", path);
			rc = -1;
			break;
		}
		while (!rc && (e = readdir(dd)) != NULL) {
			char *buf, *p, *sep;
			size_t len;
			int t = -1;

			if (e->d_name[0] == '.' || !strstr(e->d_name, ".txt"))
				continue;
			if (si == 0 && (t = gq_type_of(e->d_name)) < 0) {
				fprintf(stderr, "guardrails corpus: %s is no type\n", e->d_name);
				rc = -1;
				break;
			}
			snprintf(path, sizeof(path), "%s/%s/%s", dir, sub[si], e->d_name);
			buf = gq_read(path, &len);
			if (!buf) {
				rc = -1;
				break;
			}
			for (p = buf; p && !rc; p = sep ? sep + 4 : NULL) {
				sep = strstr(p, "\n%%\n");
				len = sep ? (size_t)(sep - p) : strlen(p);
				if (len && p[len - 1] == '\n' && !sep)
					len--;
				if (len)
					rc = gq_sample(d, p, len, t, r, log, e->d_name);
			}
			free(buf);
		}
		closedir(dd);
	}
	gw_detectors_free(d);
	return rc;
}

#endif
