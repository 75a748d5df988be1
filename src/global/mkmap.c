/*
 * mkmap.c - what postmap and postalias share: table arguments, queries,
 * deletes, listings, and the rules of a build (see mkmap.h).
 *
 * Everything here is command-line work: trouble is reported with
 * log_fatal in Postfix's words, after a build in progress has been thrown
 * away so the old table stays in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mkmap.h"
#include "util/dict_lmdb.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#define MKMAP_MAX_GROUPS 256

struct mkmap_build {
	const struct mkmap_ctx *ctx;
	struct dict *dict;
	bool has_dropped;
	uid_t saved_euid;
	gid_t saved_egid;
	gid_t saved_groups[MKMAP_MAX_GROUPS];
	int saved_group_count;
	mode_t saved_umask;
	sigset_t saved_sigmask;
	struct strbuf files; /* -F: concatenated file contents */
	struct strbuf coded; /* -F: their base64 */
};

/* ---- Arguments and opening -------------------------------------------- */

void
mkmap_split(const struct mkmap_ctx *ctx, const char *arg, char **type_out,
            char **name_out)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL) {
		*type_out = xstrdup(ctx->default_type);
		*name_out = xstrdup(arg);
	} else {
		*type_out = xstrndup(arg, (size_t)(colon - arg));
		*name_out = xstrdup(colon + 1);
	}
}

bool
mkmap_type_is_writable(const char *type)
{
	return strcmp(type, "lmdb") == 0 || strcmp(type, "hash") == 0 ||
	       strcmp(type, "btree") == 0;
}

/* Postfix folds only fixed-string tables; pattern tables see the key. */
static void
fix_fold_flag(struct dict *dict)
{
	if (dict->flags & DICT_FLAG_PATTERN)
		dict->flags &= ~DICT_FLAG_FOLD_FIX;
}

struct dict *
mkmap_open_existing(const struct mkmap_ctx *ctx, const char *arg,
                    bool want_write)
{
	struct dict *dict;
	struct err err;
	char *type;
	char *name;

	mkmap_split(ctx, arg, &type, &name);
	if (want_write && !mkmap_type_is_writable(type)) {
		if (!dict_type_is_known(type))
			log_fatal("unsupported dictionary type: %s", type);
		log_fatal("%s:%s map requires O_RDONLY access mode", type,
		          name);
	}
	dict = dict_open3(type, name, want_write ? O_RDWR | O_CREAT : O_RDONLY,
	                  ctx->dict_flags, &err);
	if (dict == NULL)
		log_fatal("%s", err.text);
	fix_fold_flag(dict);
	free(type);
	free(name);
	return dict;
}

static struct dict **
open_all(const struct mkmap_ctx *ctx, char *const *maps, int count,
         bool want_write)
{
	struct dict **dicts = xcalloc((size_t)count, sizeof(*dicts));

	for (int i = 0; i < count; i++)
		dicts[i] = mkmap_open_existing(ctx, maps[i], want_write);
	return dicts;
}

static void
close_all(struct dict **dicts, int count)
{
	for (int i = 0; i < count; i++)
		dict_close(&dicts[i]);
	free(dicts);
}

/* ---- Base64 (-F) ------------------------------------------------------ */

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_encode(const unsigned char *in, size_t len, struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t i = 0; i < len; i += 3) {
		unsigned long n = (unsigned long)in[i] << 16;
		char quad[4];

		if (i + 1 < len)
			n |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			n |= in[i + 2];
		quad[0] = b64_chars[(n >> 18) & 63];
		quad[1] = b64_chars[(n >> 12) & 63];
		quad[2] = i + 1 < len ? b64_chars[(n >> 6) & 63] : '=';
		quad[3] = i + 2 < len ? b64_chars[n & 63] : '=';
		if (strbuf_append(out, quad, 4) < 0)
			return -1;
	}
	return 0;
}

static int
b64_value(int ch)
{
	const char *cp = ch != 0 ? strchr(b64_chars, ch) : NULL;

	return cp == NULL ? -1 : (int)(cp - b64_chars);
}

/* Strict decoding: whole quads, '=' only at the end. */
static int
b64_decode(const char *in, struct strbuf *out)
{
	size_t len = strlen(in);

	strbuf_reset(out);
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;

		for (int j = 0; j < 4; j++) {
			v[j] = b64_value(in[i + j]);
			if (in[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (v[j] < 0 || pad > 0) {
				return -1;
			}
		}
		strbuf_append_char(out, (v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			strbuf_append_char(out,
			                   ((v[1] & 15) << 4) | (v[2] >> 2));
		if (pad < 1)
			strbuf_append_char(out, ((v[2] & 3) << 6) | v[3]);
	}
	return 0;
}

/* ---- Queries, deletes, listings ---------------------------------------- */

/*
 * Print "value" or "key<TAB>value" (want_key), the value decoded under -F.
 * Returns -1, printing nothing, for a value that is not base64 (warned).
 */
static int
print_entry(const struct mkmap_ctx *ctx, const struct dict *dict,
            const char *key, const char *value, bool want_key)
{
	struct strbuf decoded;

	strbuf_init(&decoded, STRBUF_UNLIMITED);
	if (ctx->want_base64 && b64_decode(value, &decoded) < 0) {
		log_warning("table %s:%s: key %s: malformed BASE64 value: %s",
		            dict->type, dict->name, key, value);
		strbuf_deinit(&decoded);
		return -1;
	}
	if (want_key) {
		fputs(key, stdout);
		fputs(ctx->want_colon ? ":\t" : "\t", stdout);
	}
	if (ctx->want_base64)
		fwrite(decoded.data, 1, decoded.len, stdout);
	else
		fputs(value, stdout);
	putchar('\n');
	strbuf_deinit(&decoded);
	return 0;
}

/* Look key up in each table in turn; fatal on a table error. */
static int
lookup_first(struct dict **dicts, int count, const char *key,
             const char **value_out, struct dict **dict_out)
{
	struct err err;

	for (int i = 0; i < count; i++) {
		int ret = dict_lookup(dicts[i], key, value_out, &err);

		if (ret == DICT_ERROR) {
			log_warning("%s", err.text);
			log_fatal("table %s:%s: query error", dicts[i]->type,
			          dicts[i]->name);
		}
		if (ret == DICT_FOUND) {
			*dict_out = dicts[i];
			return DICT_FOUND;
		}
	}
	return DICT_NOTFOUND;
}

int
mkmap_query(const struct mkmap_ctx *ctx, const char *key, char *const *maps,
            int count)
{
	struct dict *found = NULL;
	const char *value;
	int ret = 1;

	for (int i = 0; i < count && ret != 0; i++) {
		struct dict *dict = mkmap_open_existing(ctx, maps[i], false);

		if (lookup_first(&dict, 1, key, &value, &found) == DICT_FOUND) {
			if (print_entry(ctx, dict, key, value, false) < 0)
				log_fatal("table %s:%s: query error",
				          dict->type, dict->name);
			ret = 0;
		}
		dict_close(&dict);
	}
	fflush(stdout);
	return ret;
}

/*
 * Read one line of fp into line without its newline; 0 at EOF. A line
 * longer than any key can be is skipped with a warning.
 */
static int
read_key_line(FILE *fp, struct strbuf *line)
{
	bool is_too_long = false;
	int ch;

	strbuf_reset(line);
	while ((ch = getc(fp)) != EOF && ch != '\n')
		if (strbuf_append_char(line, ch) < 0)
			is_too_long = true;
	if (ch == EOF && strbuf_len(line) == 0 && !is_too_long)
		return 0;
	if (is_too_long) {
		log_warning("standard input: skipping a line longer than %d "
		            "bytes",
		            DICT_MAX_KEY_LEN);
		strbuf_reset(line);
		return 2;
	}
	return 1;
}

/* A header line starts with a field name and a colon. */
static bool
is_header_start(const char *line)
{
	const char *cp = line;

	while (*cp > 32 && *cp < 127 && *cp != ':')
		cp++;
	return cp > line && *cp == ':';
}

struct key_walk {
	const struct mkmap_ctx *ctx;
	struct dict **dicts;
	int count;
	bool has_found;
};

static void
query_one(struct key_walk *walk, const char *key)
{
	struct dict *dict;
	const char *value;

	if (lookup_first(walk->dicts, walk->count, key, &value, &dict) ==
	    DICT_FOUND) {
		if (print_entry(walk->ctx, dict, key, value, true) < 0)
			log_fatal("table %s:%s: query error", dict->type,
			          dict->name);
		walk->has_found = true;
	}
}

/* -h/-b: turn a message into header keys and body-line keys. */
static void
query_message(struct key_walk *walk, FILE *fp, int key_mode)
{
	struct strbuf line;
	struct strbuf header;
	bool in_headers = true;
	int ret;

	strbuf_init(&line, DICT_MAX_KEY_LEN);
	strbuf_init(&header, DICT_MAX_KEY_LEN);
	while ((ret = read_key_line(fp, &line)) != 0) {
		if (in_headers && strbuf_len(&header) > 0 &&
		    (line.data[0] == ' ' || line.data[0] == '\t')) {
			if (strbuf_append_char(&header, '\n') < 0 ||
			    strbuf_append(&header, line.data, line.len) < 0)
				log_warning("standard input: header too long");
			continue;
		}
		if (in_headers && strbuf_len(&header) > 0) {
			if (key_mode & MKMAP_KEYS_HEADERS)
				query_one(walk, strbuf_text(&header));
			strbuf_reset(&header);
		}
		if (in_headers && is_header_start(line.data)) {
			strbuf_append(&header, line.data, line.len);
			continue;
		}
		if (in_headers) {
			/* Like Postfix, the body starts with an empty line,
			 * the separator or one put in where it is missing. */
			in_headers = false;
			if (key_mode & MKMAP_KEYS_BODY)
				query_one(walk, "");
			if (line.len == 0)
				continue;
		}
		if (key_mode & MKMAP_KEYS_BODY)
			query_one(walk, strbuf_text(&line));
	}
	if (strbuf_len(&header) > 0 && (key_mode & MKMAP_KEYS_HEADERS))
		query_one(walk, strbuf_text(&header));
	strbuf_deinit(&line);
	strbuf_deinit(&header);
}

int
mkmap_query_stream(const struct mkmap_ctx *ctx, FILE *fp, int key_mode,
                   char *const *maps, int count)
{
	struct key_walk walk = {ctx, open_all(ctx, maps, count, false), count,
	                        false};
	struct strbuf line;

	if (key_mode != 0) {
		query_message(&walk, fp, key_mode);
	} else {
		int ret;

		strbuf_init(&line, DICT_MAX_KEY_LEN);
		while ((ret = read_key_line(fp, &line)) != 0)
			if (ret == 1)
				query_one(&walk, strbuf_text(&line));
		strbuf_deinit(&line);
	}
	close_all(walk.dicts, count);
	fflush(stdout);
	return walk.has_found ? 0 : 1;
}

static bool
delete_in(struct dict **dicts, int count, const char *key)
{
	bool has_found = false;
	struct err err;

	for (int i = 0; i < count; i++) {
		int ret = dict_remove(dicts[i], key, &err);

		if (ret == DICT_ERROR)
			log_fatal("%s", err.text);
		has_found |= ret == DICT_FOUND;
	}
	return has_found;
}

int
mkmap_delete(const struct mkmap_ctx *ctx, const char *key, char *const *maps,
             int count)
{
	bool has_found = false;

	for (int i = 0; i < count; i++) {
		struct dict *dict = mkmap_open_existing(ctx, maps[i], true);

		has_found |= delete_in(&dict, 1, key);
		dict_close(&dict);
	}
	return has_found ? 0 : 1;
}

int
mkmap_delete_stream(const struct mkmap_ctx *ctx, FILE *fp, char *const *maps,
                    int count)
{
	struct dict **dicts = open_all(ctx, maps, count, true);
	bool has_found = false;
	struct strbuf line;
	int ret;

	strbuf_init(&line, DICT_MAX_KEY_LEN);
	while ((ret = read_key_line(fp, &line)) != 0)
		if (ret == 1)
			has_found |=
			    delete_in(dicts, count, strbuf_text(&line));
	strbuf_deinit(&line);
	close_all(dicts, count);
	return has_found ? 0 : 1;
}

int
mkmap_dump(const struct mkmap_ctx *ctx, const char *map)
{
	struct dict *dict = mkmap_open_existing(ctx, map, false);
	const char *key;
	const char *value;
	struct err err;
	int how = DICT_SEQ_FIRST;
	int ret;

	if (dict->sequence == NULL)
		log_fatal("table %s:%s: sequence operation is not supported",
		          dict->type, dict->name);
	while ((ret = dict_sequence(dict, how, &key, &value, &err)) ==
	       DICT_FOUND) {
		how = DICT_SEQ_NEXT;
		(void)print_entry(ctx, dict, key, value,
		                  true); /* bad ones skipped */
	}
	if (ret == DICT_ERROR) {
		log_warning("%s", err.text);
		log_fatal("table %s:%s: sequence error", dict->type,
		          dict->name);
	}
	dict_close(&dict);
	fflush(stdout);
	return 0;
}

/* ---- Builds ------------------------------------------------------------ */

static void
drop_to_owner(struct mkmap_build *build, const struct stat *st)
{
	build->saved_euid = geteuid();
	build->saved_egid = getegid();
	build->saved_group_count =
	    getgroups(MKMAP_MAX_GROUPS, build->saved_groups);
	if (setgroups(1, &st->st_gid) < 0 || setegid(st->st_gid) < 0 ||
	    seteuid(st->st_uid) < 0)
		log_fatal("set effective uid %ld gid %ld: %s", (long)st->st_uid,
		          (long)st->st_gid, strerror(errno));
	build->has_dropped = true;
}

static void
restore_privileges(struct mkmap_build *build)
{
	if (!build->has_dropped)
		return;
	if (seteuid(build->saved_euid) < 0 || setegid(build->saved_egid) < 0 ||
	    (build->saved_group_count >= 0 &&
	     setgroups((size_t)build->saved_group_count, build->saved_groups) <
	         0))
		log_fatal("restore privileges: %s", strerror(errno));
	build->has_dropped = false;
}

static void
build_setup(struct mkmap_build *build, const struct stat *source_st)
{
	const struct mkmap_ctx *ctx = build->ctx;
	sigset_t block;

	if (source_st != NULL && getuid() == 0 && !ctx->keep_privileges &&
	    source_st->st_uid != 0)
		drop_to_owner(build, source_st);
	if (source_st != NULL && !ctx->keep_default_mode)
		build->saved_umask =
		    umask(0777 & ~(0600 | (source_st->st_mode & 044)));
	else
		build->saved_umask = umask(022);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &build->saved_sigmask);
}

static void
build_end(struct mkmap_build **buildp)
{
	struct mkmap_build *build = *buildp;

	dict_close(&build->dict);
	restore_privileges(build);
	umask(build->saved_umask);
	sigprocmask(SIG_SETMASK, &build->saved_sigmask, NULL);
	strbuf_deinit(&build->files);
	strbuf_deinit(&build->coded);
	free(build);
	*buildp = NULL;
}

struct mkmap_build *
mkmap_build_begin(const struct mkmap_ctx *ctx, const char *type,
                  const char *name, const struct stat *source_st,
                  bool incremental)
{
	struct mkmap_build *build;
	struct err err;
	int open_flags = O_RDWR | O_CREAT | (incremental ? 0 : O_TRUNC);

	if (!mkmap_type_is_writable(type)) {
		if (!dict_type_is_known(type))
			log_fatal("unsupported dictionary type: %s", type);
		if (incremental)
			log_fatal("%s:%s map requires O_RDONLY access mode",
			          type, name);
		log_fatal("unsupported dictionary type: %s does not support "
		          "bulk-mode creation.",
		          type);
	}
	build = xmalloc(sizeof(*build));
	build->ctx = ctx;
	strbuf_init(&build->files, DICT_MAX_VALUE_LEN / 4 * 3);
	strbuf_init(&build->coded, DICT_MAX_VALUE_LEN);
	build_setup(build, source_st);
	build->dict = dict_open3(type, name, open_flags,
	                         ctx->dict_flags | DICT_FLAG_BULK_UPDATE, &err);
	if (build->dict == NULL ||
	    dict_lmdb_set_map_size(build->dict, ctx->map_size, &err) < 0)
		mkmap_build_fail(&build, &err);
	return build;
}

/* Append the content of one -F file; -1 with err. */
static int
append_file(struct strbuf *files, const char *path, struct err *err)
{
	char buf[8192];
	size_t n;
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		err_set(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (strbuf_append(files, buf, n) < 0) {
			err_set(err, "%s: file content too large", path);
			fclose(fp);
			return -1;
		}
	}
	if (ferror(fp)) {
		err_set(err, "read %s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* -F: the base64 of the named files, joined with newlines. */
static const char *
encode_files(struct mkmap_build *build, const char *list, struct err *err)
{
	char *copy = xstrdup(list);
	char *cursor = copy;
	const char *path;
	int ret = 0;

	strbuf_reset(&build->files);
	for (int count = 0;
	     ret == 0 && (path = str_token(&cursor, TOKENS_LIST_DELIMS));
	     count++) {
		if (count > 0 && strbuf_append_char(&build->files, '\n') < 0) {
			err_set(err, "%s: file content too large", path);
			ret = -1;
		} else {
			ret = append_file(&build->files, path, err);
		}
	}
	free(copy);
	if (ret == 0 && b64_encode((const unsigned char *)build->files.data,
	                           build->files.len, &build->coded) < 0) {
		err_set(err, "file content too large");
		ret = -1;
	}
	return ret < 0 ? NULL : strbuf_text(&build->coded);
}

int
mkmap_put(struct mkmap_build *build, const char *source_name, int lineno,
          const char *key, const char *value, struct err *err)
{
	if (build->ctx->want_base64 &&
	    (value = encode_files(build, value, err)) == NULL) {
		log_warning("%s, line %d: %s: skipping this entry", source_name,
		            lineno, err->text);
		return 0;
	}
	return dict_update(build->dict, key, value, err) == 0 ? 0 : -1;
}

int
mkmap_put_exact(struct mkmap_build *build, const char *key, const char *value,
                struct err *err)
{
	struct dict *dict = build->dict;
	int saved_flags = dict->flags;
	int ret;

	dict->flags &= ~(DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_WARN |
	                 DICT_FLAG_DUP_IGNORE | DICT_FLAG_DUP_REPLACE);
	dict->flags |= DICT_FLAG_DUP_REPLACE;
	ret = dict_update(dict, key, value, err);
	dict->flags = saved_flags;
	return ret == 0 ? 0 : -1;
}

void
mkmap_build_commit(struct mkmap_build **buildp)
{
	struct err err;

	if (dict_sync((*buildp)->dict, &err) != 0)
		mkmap_build_fail(buildp, &err);
	build_end(buildp);
}

void
mkmap_build_fail(struct mkmap_build **buildp, const struct err *err)
{
	char text[ERR_TEXT_MAX];

	snprintf(text, sizeof(text), "%s", err->text);
	build_end(buildp); /* a truncating build is thrown away */
	log_fatal("%s", text);
}
