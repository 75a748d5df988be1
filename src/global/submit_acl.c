/*
 * submit_acl.c - authorized_submit_users and the alternate config
 * directory rule for sendmail and postdrop (see submit_acl.h).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/match_list.h"
#include "global/submit_acl.h"
#include "util/argv.h"
#include "util/mymalloc.h"

int
submit_acl_check(struct mail_conf *conf, uid_t uid, struct err *err)
{
	const char *text = mail_conf_str(conf, "authorized_submit_users");
	struct passwd *pw = getpwuid(uid);
	char num[32]; /* the uid as text, for a user without a name */
	char *name;
	struct match_list *list;
	int ret = MATCH_LIST_ERROR;

	snprintf(num, sizeof(num), "%ld", (long)uid);
	/* A copy: a table lookup may reuse getpwuid's storage. */
	name = xstrdup(pw != NULL ? pw->pw_name : num);
	list = match_list_create("authorized_submit_users", MATCH_LIST_STRING,
				 0, text, err);
	if (list != NULL)
		ret = match_list_match_string(list, name, err);
	match_list_destroy(&list);
	if (ret == MATCH_LIST_NO_MATCH)
		err_set(err, "User %s(%ld) is not allowed to submit mail", name,
			(long)uid);
	free(name);
	return ret == MATCH_LIST_ERROR ? -1 : ret;
}

static bool
is_listed(struct mail_conf *conf, const char *pname, const char *dir)
{
	struct argv *dirs = mail_conf_list(conf, pname);
	bool found = false;

	for (size_t i = 0; i < dirs->count && !found; i++)
		found = strcmp(dirs->items[i], dir) == 0;
	argv_destroy(&dirs);
	return found;
}

int
submit_config_dir_check(const char *config_dir, const char *default_dir,
			struct err *err_first, struct err *err)
{
	struct mail_conf *conf;
	bool found;

	if (config_dir == NULL || *config_dir == '\0' ||
	    strcmp(config_dir, default_dir) == 0)
		return 1;
	if ((conf = mail_conf_load(default_dir, err)) == NULL)
		return -1;
	found = is_listed(conf, "alternate_config_directories", config_dir) ||
		is_listed(conf, "multi_instance_directories", config_dir);
	mail_conf_destroy(&conf);
	if (found)
		return 1;
	err_set(err_first, "unauthorized configuration directory name: %s",
		config_dir);
	err_set(err,
		"specify \"alternate_config_directories = %s\" or "
		"\"multi_instance_directories = %s\" in %s/main.cf",
		config_dir, config_dir, default_dir);
	return 0;
}
