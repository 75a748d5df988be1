/*
 * tokens.c - splitting text in place: tokens, brace groups, name=value.
 */
#include <ctype.h>
#include <string.h>

#include "util/tokens.h"

char *
str_token(char **cursor, const char *delims)
{
	char *start = *cursor + strspn(*cursor, delims);
	char *end;

	if (*start == 0) {
		*cursor = start;
		return NULL;
	}
	end = start + strcspn(start, delims);
	if (*end != 0)
		*end++ = 0;
	*cursor = end;
	return start;
}

char *
str_token_braced(char **cursor, const char *delims)
{
	char *start = *cursor + strspn(*cursor, delims);
	char *cp;
	int depth = 0;

	if (*start == 0) {
		*cursor = start;
		return NULL;
	}
	for (cp = start; *cp; cp++) {
		if (*cp == '{')
			depth++;
		else if (*cp == '}' && depth > 0)
			depth--;
		else if (depth == 0 && strchr(delims, *cp) != NULL)
			break;
	}
	if (*cp != 0)
		*cp++ = 0;
	*cursor = cp;
	return start;
}

char *
str_unbrace(char *text, struct err *err)
{
	char *cp;
	int depth = 0;

	text = str_trim(text);
	if (*text != '{')
		return text;
	for (cp = text; *cp; cp++) {
		if (*cp == '{')
			depth++;
		else if (*cp == '}' && --depth == 0)
			break;
	}
	if (*cp == 0) {
		err_set(err, "missing '}' in \"%s\"", text);
		return NULL;
	}
	if (!str_is_blank(cp + 1)) {
		err_set(err, "syntax error after '}' in \"%s\"", text);
		return NULL;
	}
	*cp = 0;
	return str_trim(text + 1);
}

char *
str_trim(char *text)
{
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		*--end = 0;
	return text;
}

char *
str_lowercase(char *text)
{
	for (char *cp = text; *cp; cp++)
		if (*cp >= 'A' && *cp <= 'Z')
			*cp = (char)(*cp - 'A' + 'a');
	return text;
}

int
str_split_nameval(char *text, char **name_out, char **value_out,
		  struct err *err)
{
	char *eq = strchr(text, '=');
	char *name;

	if (eq == NULL) {
		err_set(err, "missing '=' after attribute name");
		return -1;
	}
	*eq = 0;
	name = str_trim(text);
	if (*name == 0) {
		err_set(err, "missing attribute name");
		return -1;
	}
	*name_out = name;
	*value_out = str_trim(eq + 1);
	return 0;
}

bool
str_is_blank(const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	return *text == 0;
}

bool
str_has_prefix(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}
