/*
 * mail_params.h - the one table of main.cf parameters Postern implements.
 *
 * Each parameter is declared once in mail_params.c with its main.cf name,
 * type, Postfix 3.7 default (exactly as `postconf -d` prints it), limits and
 * a one-line summary. postconf -d, the main.cf loader and the typed getters
 * in mail_conf.h all read this table. Defaults that Postfix computes at run
 * time (myhostname, mydomain, mynetworks, ...) have a compute function.
 */
#ifndef POSTERN_GLOBAL_MAIL_PARAMS_H
#define POSTERN_GLOBAL_MAIL_PARAMS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum param_type {
	PARAM_STR,  /* text, may contain $name */
	PARAM_BOOL, /* yes/no */
	PARAM_INT,  /* decimal integer */
	PARAM_SIZE, /* byte count, decimal (long) */
	PARAM_TIME, /* number with optional unit s/m/h/d/w */
	PARAM_LIST, /* comma/space separated list, may contain { } groups */
};

struct mail_conf;

/* param_def.min when a number has no lower bound. */
#define PARAM_NO_MIN LLONG_MIN

/*
 * A computed default: returns a malloc'ed string, or NULL with err set when
 * the inputs it depends on are bad (e.g. an unknown mynetworks_style). It
 * may read other parameters of conf (expanded) but not its own.
 */
typedef char *param_compute_fn(struct mail_conf *conf, struct err *err);

struct param_def {
	const char *name;
	enum param_type type;
	/* Default as postconf -d prints it; NULL when compute_default is set. */
	const char *default_value;
	/* Computed default (myhostname...), or NULL. */
	param_compute_fn *compute_default;
	long long min; /* numbers: smallest allowed value, or PARAM_NO_MIN */
	long long max; /* numbers: largest allowed value, 0 = no limit */
	char time_unit; /* PARAM_TIME: unit of a bare number ('s', 'd', ...) */
	const char *summary;
};

/* The declared parameter called name, or NULL. */
const struct param_def *param_find(const char *name);

/* All declared parameters, sorted by name; *count_out gets the count. */
const struct param_def *param_table(size_t *count_out);

/*
 * True if name is a Postfix 3.7 parameter name (implemented here or not),
 * or one of the older names its defaults still refer to ($virtual_maps):
 * lets the loader tell "not supported yet" from "unknown, did you mean".
 */
bool param_is_postfix_name(const char *name);

/* All Postfix 3.7 parameter names (as postconf -d lists them), sorted;
 * *count_out gets the count. */
const char *const *param_postfix_names(size_t *count_out);

/*
 * The computed defaults (mail_params_compute.c), as Postfix computes them:
 * myhostname is this host's name, with ".$mydomain" (main.cf's mydomain, else
 * "localdomain") appended when it has no dot; mydomain is $myhostname minus
 * its first label, or "localdomain"; mynetworks lists the networks of this
 * machine's interfaces as $mynetworks_style says (host, subnet or class),
 * IPv4 first, IPv6 as "[addr]/len", limited by $inet_protocols.
 */
param_compute_fn param_default_myhostname;
param_compute_fn param_default_mydomain;
param_compute_fn param_default_mynetworks;

/*
 * The mynetworks value for a list of interface addresses (the testable core
 * of param_default_mynetworks). style is "host", "subnet" or "class";
 * want_ipv4/want_ipv6 filter the families. Returns -1 with err for an
 * unknown style.
 */
struct param_iface {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned char mask[16];
};

int param_mynetworks_format(const struct param_iface *ifaces, size_t count,
			    const char *style, bool want_ipv4, bool want_ipv6,
			    char **value_out, struct err *err);

#endif
