/*
 * queue_id.h - queue IDs: names of queue files and keys of log lines.
 *
 * Two shapes, as in Postfix:
 *   short (enable_long_queue_ids = no): the creation time's microseconds
 *     as 5 upper-case hex digits, then the file's inode number in upper-case
 *     hex: "3F2A1B7C9D". Unique among files that exist at the same time,
 *     since no two of them share an inode.
 *   long (enable_long_queue_ids = yes): the creation time in seconds (6 or
 *     more digits) and microseconds (4 digits) in base 52, a 'z', then the
 *     inode number in base 51: "4jXbdg6Fn5z1bcjX". The alphabet is 0-9,
 *     B-Z and b-z without vowels; base 51 leaves out its last digit 'z', so
 *     the last 'z' always separates the inode. Unique over time.
 * Both are file-name safe (letters and digits only) and never contain a
 * '/' or a '.', which also tells them apart from temporary file names.
 * Hashed queue directories use the microseconds in hex: for short IDs the
 * first characters of the ID, for long IDs those of the converted value,
 * so both shapes of one file land in the same subdirectory.
 */
#ifndef POSTERN_GLOBAL_QUEUE_ID_H
#define POSTERN_GLOBAL_QUEUE_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* Room for any valid queue ID and its NUL. */
#define QUEUE_ID_SIZE 32

/*
 * Format the ID of a file created at sec.usec (0 <= usec < 1000000) with
 * inode number ino into out.
 */
void queue_id_format(char out[QUEUE_ID_SIZE], bool want_long, long long sec,
		     long usec, unsigned long long ino);

/*
 * True if text has the exact shape of a short or a long queue ID (for
 * untrusted input: command arguments, names found in a queue directory).
 * Rejects "", anything with characters outside the alphabet ("../x"),
 * wrong lengths and microsecond fields of 1000000 or more.
 */
bool is_valid_queue_id(const char *text);

/* True if text is a valid long queue ID. */
bool queue_id_is_long(const char *text);

/*
 * Append the hashed subdirectory path of a valid id to out: depth levels
 * of one character each, "D/7/" for depth 2. Characters come from the
 * microseconds in hex; a depth past the 5 hex digits (or past a short ID's
 * end) is padded with '_'. -1 (errno E2BIG) if out's limit is reached.
 */
int queue_id_hash(const char *id, int depth, struct strbuf *out);

#endif
