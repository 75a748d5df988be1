/*
 * postfix.h - what the postfix command's files share.
 */
#ifndef POSTERN_POSTFIX_POSTFIX_H
#define POSTERN_POSTFIX_POSTFIX_H

#include <stdbool.h>

#include "global/mail_conf.h"

/*
 * postfix_check.c: create missing queue directories (and fix their
 * ownership and modes when want_fix_all, as set-permissions does), then
 * check main.cf and master.cf, warning about problems. Returns 0 when all
 * is well, 1 after logging problems master can live with (a bad master.cf
 * entry costs only that service), -1 after a problem that must stop a
 * start (the queue directory cannot be prepared).
 */
int postfix_check(struct mail_conf *conf, bool want_fix_all);

#endif
