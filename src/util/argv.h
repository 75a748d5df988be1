/*
 * argv.h - growable NULL-terminated vectors of strings.
 *
 * The vector owns copies of everything added. items[count] is always NULL,
 * so items can be passed to execv().
 */
#ifndef POSTERN_UTIL_ARGV_H
#define POSTERN_UTIL_ARGV_H

#include <stddef.h>

struct argv {
	char **items;
	size_t count;
	size_t cap;
};

struct argv *argv_create(void);
void argv_destroy(struct argv **avp);

/* Append a copy of text (or of its first len bytes). */
void argv_add(struct argv *av, const char *text);
void argv_addn(struct argv *av, const char *text, size_t len);

/* Remove every item, keeping the vector. */
void argv_clear(struct argv *av);

/* Split text at any of delims, dropping empty tokens. */
struct argv *argv_split(const char *text, const char *delims);

/* As argv_split, but "{...}" groups stay whole (braces kept). */
struct argv *argv_split_braced(const char *text, const char *delims);

#endif
