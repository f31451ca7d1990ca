/* Prompt injection and tool poisoning: instruction-override phrases,
 * hidden-instruction tags, chat-template role markers, and (detect_text.c)
 * invisible Unicode. Phrases are matched word by word, ASCII case ignored,
 * any run of up to 8 blanks between words. */
#include <string.h>

#include "guard/detect-impl.h"

struct word {
	size_t b, e;     /* bytes of the word in the text */
	char w[24];      /* lower-cased, "" when too long */
};

static bool cls_wordch(unsigned char c) { return gw_dc_alpha(c) || c == '\''; }

/* The word at i (letters and apostrophes). */
static bool word_at(const struct gw_scan *s, size_t i, struct word *w)
{
	size_t k;

	w->b = i;
	w->e = gw_dc_span(s->p, s->n, i, sizeof(w->w), cls_wordch);
	if (w->e == i)
		return false;
	if (w->e - i >= sizeof(w->w)) {
		w->w[0] = '\0';
		return true;
	}
	for (k = i; k < w->e; k++)
		w->w[k - i] = (char)gw_dc_lc(s->p[k]);
	w->w[w->e - i] = '\0';
	return true;
}

static bool next_word(const struct gw_scan *s, const struct word *prev, struct word *w)
{
	size_t j = prev->e;

	while (j < s->n && j - prev->e < 8 &&
	       (s->p[j] == ' ' || s->p[j] == '\t' || s->p[j] == '\n' || s->p[j] == '\r'))
		j++;
	if (j == prev->e)
		return false;
	return word_at(s, j, w);
}

static bool in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if ((*list)[0] == w[0] && strcmp(w, *list) == 0)
			return true;
	return false;
}

static const char *const fillers[] = { "all", "any", "every", "each", "of", "the", "your",
				       "my", "these", "those", "our", "its", "and", "or",
				       "other", "that", "you", "were", "given", NULL };
static const char *const quals[] = { "previous", "prior", "above", "earlier", "preceding",
				     "foregoing", "former", "original", "initial", "system",
				     "developer", "old", "past", "safety", NULL };
static const char *const nouns[] = {
	"instructions", "instruction", "prompt", "prompts", "directions", "directives", "rules",
	"guidelines", "context", "commands", "constraints", "restrictions", "guardrails",
	"policies", "orders", "programming", "training", NULL
};
static const char *const ends_alone[] = { "above", "before", "previous", "prior", NULL };
static const char *const everything[] = { "everything", "anything", NULL };
static const char *const after_everything[] = { "above", "before", "prior", "previously",
						"else", "you", "that", NULL };

static size_t emit_phrase(struct gw_scan *s, size_t b, size_t e)
{
	gw_detect_emit(s, GW_DETECT_INJECTION, GW_DT_INSTRUCTION_OVERRIDE, b, e - b);
	return e;
}

/* Does the clause end after w: punctuation, the end, "and", "then"? */
static bool clause_ends(const struct gw_scan *s, const struct word *w)
{
	struct word x;

	if (w->e >= s->n || strchr(".,;:!)\"", s->p[w->e]))
		return true;
	if (!next_word(s, w, &x))
		return false;
	return strcmp(x.w, "and") == 0 || strcmp(x.w, "then") == 0;
}

/* "ignore all previous instructions", "disregard the above.", "forget
 * everything you were told". */
static size_t override(struct gw_scan *s, const struct word *v)
{
	struct word w = *v, last;
	int fill = 0;
	bool qual = false;
	size_t k;

	for (k = 0; k < 6; k++) {
		last = w;
		if (!next_word(s, &last, &w))
			break;
		if (in(w.w, nouns) && qual)
			return emit_phrase(s, v->b, w.e);
		if (in(w.w, quals)) {
			qual = true;
			if (in(w.w, ends_alone) && clause_ends(s, &w))
				return emit_phrase(s, v->b, w.e);
			continue;
		}
		if (k == 0 && in(w.w, everything)) {
			struct word x;

			if (next_word(s, &w, &x) && in(x.w, after_everything))
				return emit_phrase(s, v->b, x.e);
			return 0;
		}
		if (!in(w.w, fillers) || ++fill > 3)
			break;
	}
	return 0;
}

static const char *const jail[] = { "dan", "jailbroken", "unrestricted", "unfiltered",
				    "uncensored", "developer", "godmode", "evil", NULL };
static const char *const tell[] = { "tell", "mention", "inform", "reveal", "disclose",
				    "notify", "alert", NULL };
static const char *const user[] = { "user", "users", "human", "humans", NULL };

static size_t you_are_now(struct gw_scan *s, const struct word *v)
{
	struct word a, b, w;
	int k;

	if (!next_word(s, v, &a) || strcmp(a.w, "are") || !next_word(s, &a, &b) ||
	    strcmp(b.w, "now"))
		return 0;
	for (w = b, k = 0; k < 4 && next_word(s, &w, &w); k++)
		if (in(w.w, jail))
			return emit_phrase(s, v->b, w.e);
	return 0;
}

/* "do not tell the user", "never mention this to the user". */
static size_t keep_secret(struct gw_scan *s, const struct word *v)
{
	struct word w = *v;
	int k;

	if (strcmp(v->w, "do") == 0 && (!next_word(s, v, &w) || strcmp(w.w, "not")))
		return 0;
	if (!next_word(s, &w, &w) || !in(w.w, tell))
		return 0;
	for (k = 0; k < 4 && next_word(s, &w, &w); k++)
		if (in(w.w, user))
			return emit_phrase(s, v->b, w.e);
	return 0;
}

/* "new instructions:", "system override". */
static size_t announce(struct gw_scan *s, const struct word *v)
{
	struct word w;

	if (!next_word(s, v, &w))
		return 0;
	if ((strcmp(v->w, "system") == 0 || strcmp(v->w, "admin") == 0) &&
	    strcmp(w.w, "override") == 0)
		return emit_phrase(s, v->b, w.e);
	if (strcmp(v->w, "system") && (strcmp(w.w, "instructions") == 0 ||
	    strcmp(w.w, "instruction") == 0) && w.e < s->n && s->p[w.e] == ':')
		return emit_phrase(s, v->b, w.e + 1);
	return 0;
}

static bool is(const struct word *w, const char *a) { return strcmp(w->w, a) == 0; }

size_t gw_detect_phrase(struct gw_scan *s, size_t i, size_t wend)
{
	struct word v;

	(void)wend;
	switch (gw_dc_lc(s->p[i])) {
	case 'i': case 'd': case 'f': case 'o': case 'b': case 'n': case 's': case 'y':
	case 'u': case 'a': case 'r':
		break;
	default:
		return 0;
	}
	if (!word_at(s, i, &v) || v.e - v.b < 2 || v.e - v.b > 9)
		return 0;
	switch (v.w[0]) {
	case 'i': return is(&v, "ignore") ? override(s, &v) : 0;
	case 'f': return is(&v, "forget") ? override(s, &v) : 0;
	case 'o': return is(&v, "override") ? override(s, &v) : 0;
	case 'b': return is(&v, "bypass") ? override(s, &v) : 0;
	case 'y': return is(&v, "you") ? you_are_now(s, &v) : 0;
	case 'u': return is(&v, "updated") ? announce(s, &v) : 0;
	case 'r': return is(&v, "revised") ? announce(s, &v) : 0;
	case 'a': return is(&v, "admin") ? announce(s, &v) : 0;
	case 'd':
		if (is(&v, "disregard") || is(&v, "discard"))
			return override(s, &v);
		return is(&v, "do") || is(&v, "don't") || is(&v, "dont") ? keep_secret(s, &v) : 0;
	case 'n':
		if (is(&v, "neglect"))
			return override(s, &v);
		if (is(&v, "never"))
			return keep_secret(s, &v);
		return is(&v, "new") ? announce(s, &v) : 0;
	case 's':
		if (is(&v, "skip"))
			return override(s, &v);
		return is(&v, "system") ? announce(s, &v) : 0;
	default:
		return 0;
	}
}

static const char *const hidden_tags[] = {
	"important", "system", "instructions", "instruction", "system_prompt", "system-prompt",
	"systemprompt", "hidden", "secret", "admin", "override", "critical", "sudo", NULL
};

static size_t emit_role(struct gw_scan *s, size_t b, size_t e)
{
	gw_detect_emit(s, GW_DETECT_INJECTION, GW_DT_ROLE_MARKER, b, e - b);
	return e;
}

static bool cls_tagname(unsigned char c) { return gw_dc_alnum(c) || c == '_' || c == '-'; }
static bool cls_template(unsigned char c) { return gw_dc_lower(c) || c == '_'; }

/* At '<': "<IMPORTANT>", "</system>", "<SYSTEM priority=1>"; and the
 * template tokens "<|im_start|>", "<<SYS>>", "<start_of_turn>". */
size_t gw_detect_tag(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	struct word w;
	size_t j = i + 1, e, k;
	char name[24];

	if (j < s->n && p[j] == '|') {
		e = gw_dc_span(p, s->n, j + 1, 33, cls_template);
		if (e > j + 1 && e - j <= 33 && gw_dc_at(p, s->n, e, "|>", false))
			return emit_role(s, i, e + 2);
		return 0;
	}
	if (gw_dc_at(p, s->n, i, "<<SYS>>", false) || gw_dc_at(p, s->n, i, "<</SYS>>", false))
		return emit_role(s, i, i + (p[i + 2] == '/' ? 8 : 7));
	if (gw_dc_at(p, s->n, i, "<start_of_turn>", false) ||
	    gw_dc_at(p, s->n, i, "<end_of_turn>", false))
		return emit_role(s, i, i + (p[i + 1] == 's' ? 15 : 13));
	if (j < s->n && p[j] == '/')
		j++;
	e = gw_dc_span(p, s->n, j, sizeof(name), cls_tagname);
	if (e == j || e - j >= sizeof(name))
		return 0;
	for (k = j; k < e; k++)
		name[k - j] = (char)gw_dc_lc(p[k]);
	name[e - j] = '\0';
	if (!in(name, hidden_tags))
		return 0;
	if (e < s->n && p[e] == ' ')
		while (e < s->n && e - j < 200 && p[e] != '>' && p[e] != '<' && p[e] != '\n')
			e++;
	if (e >= s->n || p[e] != '>')
		return 0;
	(void)w;
	gw_detect_emit(s, GW_DETECT_INJECTION, GW_DT_HIDDEN_TAG, i, e + 1 - i);
	return e + 1;
}

/* At '[': Llama's "[INST]" and "[/INST]". */
size_t gw_detect_inst(struct gw_scan *s, size_t i)
{
	if (gw_dc_at(s->p, s->n, i, "[INST]", false))
		return emit_role(s, i, i + 6);
	if (gw_dc_at(s->p, s->n, i, "[/INST]", false))
		return emit_role(s, i, i + 7);
	return 0;
}

static bool blank_line_before(const struct gw_scan *s, size_t ls)
{
	if (ls >= 2 && s->p[ls - 1] == '\n' && s->p[ls - 2] == '\n')
		return true;
	return ls >= 4 && memcmp(s->p + ls - 4, "\r\n\r\n", 4) == 0;
}

/* Does the rest of the line speak to the model ("You are ...")? */
static bool speaks_to_model(const struct gw_scan *s, size_t from)
{
	static const char *const cue[] = { "you", "assistant", "instructions", "ignore", NULL };
	struct word w;
	size_t j = from;

	while (j < s->n && j - from < 200 && s->p[j] != '\n') {
		if (gw_dc_alpha(s->p[j]) && (j == from || !gw_dc_alpha(s->p[j - 1]))) {
			word_at(s, j, &w);
			if (in(w.w, cue))
				return true;
			j = w.e;
			continue;
		}
		j++;
	}
	return false;
}

/* At a line's first byte ls: "System:" or "Developer:" followed by words
 * for the model, "Human:" or "Assistant:" after a blank line. */
size_t gw_detect_line_role(struct gw_scan *s, size_t ls)
{
	static const char *const roles[] = { "system", "developer", "assistant", "human", NULL };
	struct word w;
	size_t j = ls, c;

	while (j < s->n && j - ls < 4 && strchr(" \t#*>", s->p[j]) && s->p[j])
		j++;
	if (j >= s->n || !strchr("sSdDaAhH", s->p[j]) || !s->p[j])
		return 0;
	if (j >= s->n || !gw_dc_alpha(s->p[j]) || !word_at(s, j, &w) || !in(w.w, roles))
		return 0;
	c = w.e;
	if (c < s->n && s->p[c] == ' ')
		c++;
	if (c >= s->n || s->p[c] != ':')
		return 0;
	if (w.w[0] == 'a' || w.w[0] == 'h' ? !blank_line_before(s, ls)
					   : !speaks_to_model(s, c + 1))
		return 0;
	return emit_role(s, j, c + 1);
}
