/*
 * submit_acl.h - who may submit mail locally, and with which main.cf.
 *
 * Shared by sendmail and postdrop (postdrop runs set-gid, so both checks
 * are its security boundary). Wording follows Postfix:
 *   "User NAME(UID) is not allowed to submit mail"
 *   "unauthorized configuration directory name: DIR", followed by
 *   "specify \"alternate_config_directories = DIR\" or
 *   \"multi_instance_directories = DIR\" in DEFAULT/main.cf"
 */
#ifndef POSTERN_GLOBAL_SUBMIT_ACL_H
#define POSTERN_GLOBAL_SUBMIT_ACL_H

#include <sys/types.h>

#include "global/mail_conf.h"
#include "util/err.h"

/*
 * Check uid against authorized_submit_users (a STRING match_list of login
 * names; a uid without a passwd entry is matched as its number). Returns
 * 1 if allowed; 0 if not, with err "User NAME(UID) is not allowed to
 * submit mail"; -1 if the list is malformed or a table failed (err says
 * why; the caller must not submit).
 */
int submit_acl_check(struct mail_conf *conf, uid_t uid, struct err *err);

/*
 * May an unprivileged user point a privileged command at config_dir?
 * Yes for NULL, "" and default_dir itself; otherwise config_dir must be
 * listed in alternate_config_directories or multi_instance_directories of
 * default_dir/main.cf (exact names, after $name expansion). Returns 1 if
 * allowed; 0 if not, with err_first "unauthorized configuration
 * directory name: DIR" and err the "specify ..." advice; -1 if
 * default_dir/main.cf cannot be read (err says why).
 */
int submit_config_dir_check(const char *config_dir, const char *default_dir,
			    struct err *err_first, struct err *err);

#endif
