/*
 * queue_id.c - making, checking and hashing queue IDs.
 *
 * Long IDs use Postfix's 52-character alphabet (digits, then upper-case and
 * lower-case consonants), most significant digit first.
 */
#include <stdio.h>
#include <string.h>

#include "global/queue_id.h"
#include "util/log.h"

static const char long_alphabet[] =
	"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define LONG_BASE 52
#define INODE_BASE 51
#define LONG_SEP 'z'
#define LONG_SEC_MIN 6
#define LONG_USEC_LEN 4
#define LONG_PREFIX_MAX 15 /* seconds and microseconds */
#define LONG_INODE_MAX 12  /* 51^12 > 2^64 */
#define SHORT_USEC_LEN 5
#define SHORT_INODE_MAX 16
#define USEC_LIMIT 1000000

/* Value of one digit in the long alphabet, or -1. */
static int
long_digit(char ch)
{
	const char *p;

	if (ch == 0 || (p = strchr(long_alphabet, ch)) == NULL)
		return -1;
	return (int)(p - long_alphabet);
}

/* Append value in base, at least min_digits digits; returns the count. */
static size_t
encode_base(char *out, unsigned long long value, unsigned base,
	    size_t min_digits)
{
	char rev[72];
	size_t n = 0;

	do {
		rev[n++] = long_alphabet[value % base];
		value /= base;
	} while (value > 0);
	while (n < min_digits)
		rev[n++] = '0';
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

void
queue_id_format(char out[QUEUE_ID_SIZE], bool want_long, long long sec,
		long usec, unsigned long long ino)
{
	size_t n;

	ASSERT(usec >= 0 && usec < USEC_LIMIT && sec >= 0);
	if (!want_long) {
		snprintf(out, QUEUE_ID_SIZE, "%05lX%llX", usec, ino);
		return;
	}
	n = encode_base(out, (unsigned long long)sec, LONG_BASE, LONG_SEC_MIN);
	n += encode_base(out + n, (unsigned long long)usec, LONG_BASE,
			 LONG_USEC_LEN);
	out[n++] = LONG_SEP;
	n += encode_base(out + n, ino, INODE_BASE, 1);
	out[n] = 0;
	ASSERT(n < QUEUE_ID_SIZE);
}

/*
 * Decode len long-alphabet digits of base into *value_out (unsigned, so a
 * huge inode part wraps instead of overflowing); false on a bad digit.
 */
static bool
decode_long(const char *text, size_t len, unsigned base,
	    unsigned long long *value_out)
{
	unsigned long long value = 0;

	for (size_t i = 0; i < len; i++) {
		int d = long_digit(text[i]);

		if (d < 0 || (unsigned)d >= base)
			return false;
		value = value * base + (unsigned)d;
	}
	*value_out = value;
	return true;
}

/* Value of a hex digit 0-9A-F (upper case only), or -1. */
static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool
is_valid_short(const char *text, size_t len)
{
	long usec = 0;

	if (len < SHORT_USEC_LEN + 1 || len > SHORT_USEC_LEN + SHORT_INODE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		int d = hex_digit(text[i]);

		if (d < 0)
			return false;
		if (i < SHORT_USEC_LEN)
			usec = usec * 16 + d;
	}
	return usec < USEC_LIMIT;
}

/* Microseconds of a long ID, or -1 if text is not a valid long ID. */
static long
long_id_usec(const char *text, size_t len)
{
	const char *sep = strrchr(text, LONG_SEP);
	size_t prefix_len;
	size_t inode_len;
	unsigned long long value;

	if (sep == NULL)
		return -1;
	prefix_len = (size_t)(sep - text);
	inode_len = len - prefix_len - 1;
	if (prefix_len < LONG_SEC_MIN + LONG_USEC_LEN ||
	    prefix_len > LONG_PREFIX_MAX || inode_len < 1 ||
	    inode_len > LONG_INODE_MAX)
		return -1;
	if (!decode_long(text, prefix_len - LONG_USEC_LEN, LONG_BASE, &value) ||
	    !decode_long(sep + 1, inode_len, INODE_BASE, &value) ||
	    !decode_long(sep - LONG_USEC_LEN, LONG_USEC_LEN, LONG_BASE, &value))
		return -1;
	return value < USEC_LIMIT ? (long)value : -1;
}

bool
queue_id_is_long(const char *text)
{
	size_t len = strnlen(text, QUEUE_ID_SIZE);

	return len < QUEUE_ID_SIZE && long_id_usec(text, len) >= 0;
}

bool
is_valid_queue_id(const char *text)
{
	size_t len = strnlen(text, QUEUE_ID_SIZE);

	if (len == 0 || len >= QUEUE_ID_SIZE)
		return false;
	return is_valid_short(text, len) || long_id_usec(text, len) >= 0;
}

int
queue_id_hash(const char *id, int depth, struct strbuf *out)
{
	char hex[SHORT_USEC_LEN + 1];
	const char *src = id;
	size_t src_len;

	ASSERT(is_valid_queue_id(id));
	if (queue_id_is_long(id)) {
		snprintf(hex, sizeof(hex), "%05lX",
			 long_id_usec(id, strlen(id)));
		src = hex;
	}
	src_len = strlen(src);
	for (int i = 0; i < depth; i++) {
		char level[2] = { (size_t)i < src_len ? src[i] : '_', '/' };

		if (strbuf_append(out, level, 2) < 0)
			return -1;
	}
	return 0;
}
