/* Validity checks that turn a shape into a finding: a random 16-digit
 * number is a card only if its Luhn digit agrees, a 22-character code an
 * IBAN only if mod-97 gives 1, three dotted base64url runs a JWT only if
 * the first one decodes to a JSON header naming its "alg". */
#include <math.h>
#include <string.h>

#include "core/base64.h"
#include "guard/detect-impl.h"

bool gw_dc_at(const unsigned char *p, size_t n, size_t i, const char *lit, bool nocase)
{
	size_t k;

	for (k = 0; lit[k]; k++) {
		if (i + k >= n)
			return false;
		if (nocase ? gw_dc_lc(p[i + k]) != gw_dc_lc((unsigned char)lit[k])
			   : p[i + k] != (unsigned char)lit[k])
			return false;
	}
	return true;
}

bool gw_detect_luhn(const unsigned char *digits, size_t n)
{
	unsigned sum = 0;
	bool dbl = false;
	size_t k;

	for (k = n; k-- > 0;) {
		unsigned v = digits[k] - '0';

		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

/* Verhoeff's dihedral-group check (Aadhaar): multiplication and
 * permutation tables, the number read from its last digit. */
static const unsigned char verhoeff_d[10][10] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
	{ 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
	{ 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
	{ 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
	{ 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
};
static const unsigned char verhoeff_p[8][10] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
	{ 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
	{ 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
	{ 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
};

bool gw_detect_verhoeff(const unsigned char *digits, size_t n)
{
	unsigned c = 0;
	size_t k;

	for (k = 0; k < n; k++)
		c = verhoeff_d[c][verhoeff_p[k % 8][digits[n - 1 - k] - '0']];
	return c == 0;
}

/* ISO 13616 lengths by country (the SWIFT registry's). */
static const char iban_lens[] =
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27"
	"DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22"
	"IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19"
	"MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31"
	"SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30";

int gw_detect_iban_len(const unsigned char *cc)
{
	const char *e;

	for (e = iban_lens; *e; e += 4)
		if ((unsigned char)e[0] == cc[0] && (unsigned char)e[1] == cc[1])
			return (e[2] - '0') * 10 + (e[3] - '0');
	return 0;
}

/* s: n uppercase letters and digits, spaces already removed. */
bool gw_detect_iban_ok(const unsigned char *s, size_t n)
{
	unsigned rem = 0;
	size_t k;

	if (n < 15 || n > 34)
		return false;
	for (k = 0; k < n; k++) {
		unsigned char c = s[(k + 4) % n];  /* the first four go last */

		if (gw_dc_digit(c))
			rem = (rem * 10 + (c - '0')) % 97;
		else if (gw_dc_upper(c))
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

/* A JOSE header: base64url of a JSON object with an "alg" member. Only
 * segments up to 1 KiB are looked at; real headers are far shorter. The decoding is
 * strict (core/base64.h): what a JOSE library would refuse is no JWT. */
bool gw_detect_jwt_header_ok(const unsigned char *seg, size_t n)
{
	unsigned char out[768];
	long got;
	size_t o, j;

	if (n < 8 || n > 1024)
		return false;
	got = gw_base64url_decode((struct gw_str){ (const char *)seg, n }, out, sizeof(out));
	if (got < 0)
		return false;
	o = (size_t)got;
	for (j = 0; j < o && (out[j] == ' ' || out[j] == '\t' || out[j] == '\r' || out[j] == '\n'); j++)
		;
	if (j == o || out[j] != '{')
		return false;
	for (; j + 5 <= o; j++)
		if (memcmp(out + j, "\"alg\"", 5) == 0)
			return true;
	return false;
}

/* Shannon entropy in bits per byte. */
double gw_detect_entropy(const unsigned char *s, size_t n)
{
	unsigned count[256];
	double h = 0;
	size_t k;

	if (n == 0)
		return 0;
	memset(count, 0, sizeof(count));
	for (k = 0; k < n; k++)
		count[s[k]]++;
	for (k = 0; k < 256; k++) {
		if (count[k]) {
			double q = (double)count[k] / (double)n;

			h -= q * log2(q);
		}
	}
	return h;
}
