/*
 * mail_params.c - the one table of main.cf parameters Postern implements.
 *
 * One row per parameter, sorted by name (a unit test checks the order, and
 * param_find relies on it). Defaults are Postfix 3.7's, exactly as
 * `postconf -d` prints them, including the compatibility_level expressions;
 * the three defaults Postfix computes at run time point to functions in
 * mail_params_compute.c. Only parameters that Postern reads, or is about to,
 * belong here: the full list of Postfix names is in postfix_names.c.
 */
#include <stdlib.h>
#include <string.h>

#include "global/mail_params.h"

#define STR(n, d, s)                                                           \
	{                                                                      \
		.name = n, .type = PARAM_STR, .default_value = d, .summary = s \
	}
#define LIST(n, d, s)                                                          \
	{                                                                      \
		.name = n, .type = PARAM_LIST, .default_value = d,             \
		.summary = s                                                   \
	}
#define BOOL(n, d, s)                                                          \
	{                                                                      \
		.name = n, .type = PARAM_BOOL, .default_value = d,             \
		.summary = s                                                   \
	}
#define INT(n, d, lo, hi, s)                                                   \
	{                                                                      \
		.name = n, .type = PARAM_INT, .default_value = d, .min = lo,   \
		.max = hi, .summary = s                                        \
	}
#define SIZE(n, d, lo, hi, s)                                                  \
	{                                                                      \
		.name = n, .type = PARAM_SIZE, .default_value = d, .min = lo,  \
		.max = hi, .summary = s                                        \
	}
#define TIME(n, d, u, lo, hi, s)                                               \
	{                                                                      \
		.name = n, .type = PARAM_TIME, .default_value = d,             \
		.time_unit = u, .min = lo, .max = hi, .summary = s             \
	}
#define COMPUTED(n, t, f, s)                                                   \
	{                                                                      \
		.name = n, .type = t, .compute_default = f, .summary = s       \
	}

/* The compatibility_level tests Postfix 3.6+ writes into its defaults. */
/* clang-format off */
#define BELOW_LEVEL(lvl, then, other) \
	"${{$compatibility_level} <level {" lvl "} ? {" then "} : {" other "}}"
/* clang-format on */

static const struct param_def param_defs[] = {
	INT("access_map_defer_code", "450", 0, 0,
	    "reply code of DEFER actions in access tables"),
	INT("access_map_reject_code", "554", 0, 0,
	    "reply code of REJECT actions in access tables"),
	LIST("alias_database", "hash:/etc/aliases",
	     "tables that newaliases rebuilds"),
	LIST("alias_maps", "hash:/etc/aliases, nis:mail.aliases",
	     "alias tables the local delivery agent consults"),
	BOOL("allow_percent_hack", "yes",
	     "rewrite user%domain to user@domain (percent hack)"),
	LIST("alternate_config_directories", "",
	     "config directories a set-gid command may be pointed at"),
	BOOL("always_add_missing_headers", "no",
	     "add missing headers for remote clients too"),
	STR("always_bcc", "",
	    "address that receives a blind copy of every message"),
	BOOL("append_dot_mydomain", BELOW_LEVEL("1", "yes", "no"),
	     "append .$mydomain to domain names without a dot"),
	LIST("authorized_submit_users", "static:anyone",
	     "users allowed to submit mail with sendmail and postdrop"),
	BOOL("biff", "yes", "notify local users of new mail via comsat"),
	LIST("body_checks", "",
	     "tables of actions for message body lines"),
	INT("body_checks_size_limit", "51200", 0, 0,
	    "body bytes per message segment that body_checks inspect"),
	LIST("canonical_classes",
	     "envelope_sender, envelope_recipient, header_sender, "
	     "header_recipient",
	     "addresses that canonical_maps rewrites"),
	LIST("canonical_maps", "",
	     "tables that rewrite sender and recipient addresses"),
	STR("cleanup_service_name", "cleanup",
	    "master.cf name of the cleanup service"),
	STR("command_directory", "/usr/sbin",
	    "where the administrative commands are installed"),
	STR("compatibility_level", "0",
	    "release whose default settings this configuration expects"),
	STR("config_directory", "/etc/postfix", "where main.cf and master.cf live"),
	STR("daemon_directory", "/usr/lib/postfix/sbin",
	    "where the daemon programs are installed"),
	TIME("daemon_timeout", "18000s", 's', 1, 0,
	     "time a daemon may take to handle one request"),
	STR("data_directory", "/var/lib/postfix",
	    "writable directory for caches and random seeds"),
	STR("default_database_type", "hash",
	    "table type used when a command is given no type:"),
	STR("default_privs", "nobody",
	    "account for deliveries to files and commands from aliases"),
	INT("default_process_limit", "100", 1, 0,
	    "process limit of a master.cf service with '-' in maxproc"),
	INT("defer_code", "450", 0, 0,
	    "reply code of the defer restriction"),
	BOOL("disable_vrfy_command", "no",
	     "refuse the SMTP VRFY command"),
	STR("double_bounce_sender", "double-bounce",
	    "sender of postmaster notices about undeliverable bounces"),
	INT("duplicate_filter_limit", "1000", 0, 0,
	    "recipients remembered to drop duplicates"),
	BOOL("enable_long_queue_ids", "no",
	     "use long queue IDs that are unique over time"),
	LIST("export_environment", "TZ MAIL_CONFIG LANG",
	     "environment passed to external commands"),
	INT("hash_queue_depth", "1", 1, 0,
	    "levels of hashed subdirectories in hashed queues"),
	LIST("hash_queue_names", "deferred, defer",
	     "queue directories split into hashed subdirectories"),
	LIST("header_checks", "",
	     "tables of actions for primary message headers"),
	STR("header_from_format", "standard",
	    "form of an added From: header (standard or obsolete)"),
	INT("header_size_limit", "102400", 1, 0,
	    "bytes kept of one message header"),
	INT("hopcount_limit", "50", 1, 0,
	    "Received: headers after which a message is refused"),
	STR("html_directory", "/usr/share/doc/postfix/html",
	    "where the HTML documentation is installed"),
	LIST("import_environment",
	     "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY "
	     "LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME",
	     "environment a daemon keeps from its parent, or sets"),
	LIST("inet_interfaces", "all",
	     "network addresses the SMTP server listens on"),
	LIST("inet_protocols", "all", "address families used for network traffic"),
	INT("invalid_hostname_reject_code", "501", 0, 0,
	    "reply code of reject_invalid_helo_hostname"),
	TIME("ipc_idle", "5s", 's', 1, 0,
	     "idle time after which a client closes an internal connection"),
	TIME("ipc_timeout", "3600s", 's', 1, 0,
	     "time limit for one internal protocol exchange"),
	INT("line_length_limit", "2048", 512, 0,
	    "longest line of message content kept as one record"),
	SIZE("lmdb_map_size", "16777216", 1, 0, "initial size of a new LMDB table"),
	INT("local_destination_concurrency_limit", "2", 0, 0,
	    "parallel local deliveries to one destination, 0 for no limit"),
	INT("local_destination_recipient_limit", "1", 0, 0,
	    "recipients per local delivery request, 0 for no limit"),
	LIST("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps",
	     "tables of local recipients for reject_unlisted_recipient"),
	STR("mail_name", "Postfix",
	    "name of the mail system in banners and bounces"),
	STR("mail_owner", "postfix",
	    "account that owns the queue and runs the daemons"),
	STR("mail_version", "3.7.11", "version of the mail system"),
	STR("maillog_file", "",
	    "file the postlog service writes logs to instead of syslog"),
	STR("maillog_file_compressor", "gzip",
	    "program that compresses a rotated maillog_file"),
	LIST("maillog_file_prefixes", "/var, /dev/stdout",
	     "allowed prefixes of maillog_file"),
	STR("maillog_file_rotate_suffix", "%Y%m%d-%H%M%S",
	    "strftime() suffix of a rotated maillog_file"),
	STR("mailq_path", "/usr/bin/mailq", "where the mailq command is installed"),
	STR("manpage_directory", "/usr/share/man",
	    "where the manual pages are installed"),
	LIST("masquerade_classes",
	     "envelope_sender, header_sender, header_recipient",
	     "addresses that masquerade_domains rewrites"),
	LIST("masquerade_domains", "",
	     "domains whose subdomains are hidden in addresses"),
	LIST("masquerade_exceptions", "",
	     "local parts never masqueraded"),
	LIST("master_service_disable", "",
	     "master.cf services that master does not start"),
	TIME("max_idle", "100s", 's', 1, 0,
	     "idle time after which a daemon process exits"),
	INT("max_use", "100", 1, 0,
	    "clients a daemon process serves before it exits"),
	SIZE("message_size_limit", "10240000", PARAM_NO_MIN, 0,
	     "largest message accepted, in bytes, or 0 for no limit"),
	STR("meta_directory", "/etc/postfix",
	    "where the read-only metadata files live"),
	LIST("mime_header_checks", "$header_checks",
	     "tables of actions for MIME headers"),
	LIST("multi_instance_directories", "",
	     "config directories of the secondary instances"),
	BOOL("multi_instance_enable", "no",
	     "whether the multi-instance manager starts this instance"),
	STR("multi_instance_group", "",
	    "group this instance belongs to for the multi-instance manager"),
	STR("multi_instance_name", "", "name of this instance"),
	STR("multi_instance_wrapper", "",
	    "command that manages multiple instances"),
	LIST("mydestination", "$myhostname, localhost.$mydomain, localhost",
	     "domains delivered locally"),
	COMPUTED("mydomain", PARAM_STR, param_default_mydomain,
		 "internet domain of this mail system"),
	COMPUTED("myhostname", PARAM_STR, param_default_myhostname,
		 "fully-qualified host name of this mail system"),
	COMPUTED("mynetworks", PARAM_LIST, param_default_mynetworks,
		 "trusted client networks"),
	STR("mynetworks_style", BELOW_LEVEL("2", "subnet", "host"),
	    "how the default mynetworks is computed: host, subnet or class"),
	STR("myorigin", "$myhostname",
	    "domain appended to locally posted addresses without one"),
	LIST("nested_header_checks", "$header_checks",
	     "tables of actions for headers of attached messages"),
	STR("newaliases_path", "/usr/bin/newaliases",
	    "where the newaliases command is installed"),
	INT("non_fqdn_reject_code", "504", 0, 0,
	    "reply code of the reject_non_fqdn_* restrictions"),
	LIST("parent_domain_matches_subdomains",
	     "debug_peer_list,fast_flush_domains,mynetworks,"
	     "permit_mx_backup_networks,qmqpd_authorized_clients,"
	     "relay_domains,smtpd_access_maps",
	     "features where a domain name also matches its subdomains"),
	STR("postlog_service_name", "postlog",
	    "name of the postlog service in master.cf"),
	STR("process_id_directory", "pid",
	    "lock and pid files, relative to queue_directory"),
	LIST("propagate_unmatched_extensions", "canonical, virtual",
	     "lookups that keep an address extension in their result"),
	LIST("proxy_interfaces", "",
	     "addresses of NAT or proxy devices that forward to us"),
	STR("queue_directory", "/var/spool/postfix", "root of the mail queue"),
	SIZE("queue_minfree", "0", 0, 0,
	     "free bytes the queue file system must keep to accept mail"),
	STR("readme_directory", "/usr/share/doc/postfix",
	    "where the README files are installed"),
	LIST("recipient_bcc_maps", "",
	     "tables of blind copy addresses by recipient"),
	LIST("recipient_canonical_classes",
	     "envelope_recipient, header_recipient",
	     "addresses that recipient_canonical_maps rewrites"),
	LIST("recipient_canonical_maps", "",
	     "tables that rewrite recipient addresses"),
	STR("recipient_delimiter", "",
	    "characters that separate a localpart from its extension"),
	INT("reject_code", "554", 0, 0,
	    "reply code of the reject restriction"),
	LIST("relay_domains", BELOW_LEVEL("2", "$mydestination", ""),
	     "remote domains this system relays mail to"),
	INT("relay_domains_reject_code", "554", 0, 0,
	    "reply code when reject_unauth_destination refuses relaying"),
	LIST("relay_recipient_maps", "",
	     "tables of valid recipients in relay_domains"),
	STR("remote_header_rewrite_domain", "",
	    "rewrite headers of remote mail too, completing with this domain"),
	BOOL("resolve_dequoted_address", "yes",
	     "resolve an address after its quotes are removed"),
	STR("sample_directory", "/etc/postfix",
	    "where the sample configuration files are installed"),
	LIST("sender_bcc_maps", "",
	     "tables of blind copy addresses by sender"),
	LIST("sender_canonical_classes",
	     "envelope_sender, header_sender",
	     "addresses that sender_canonical_maps rewrites"),
	LIST("sender_canonical_maps", "",
	     "tables that rewrite sender addresses"),
	STR("sendmail_path", "/usr/sbin/sendmail",
	    "where the sendmail command is installed"),
	STR("service_name", "",
	    "master.cf service name of the running process, set at run time"),
	TIME("service_throttle_time", "60s", 's', 1, 0,
	     "pause after a service fails to start before master retries"),
	STR("setgid_group", "postdrop",
	    "group of the set-gid postdrop and postqueue commands"),
	STR("shlib_directory", "/usr/lib/postfix",
	    "where the shared libraries and plug-ins are installed"),
	BOOL("show_user_unknown_table_name", "yes",
	     "name the table in \"User unknown\" replies"),
	STR("smtpd_banner", "$myhostname ESMTP $mail_name",
	    "text after 220 in the SMTP greeting"),
	LIST("smtpd_client_restrictions", "",
	     "restrictions applied to the client address and name"),
	LIST("smtpd_data_restrictions", "",
	     "restrictions applied to the DATA command"),
	BOOL("smtpd_delay_reject", "yes",
	     "evaluate client, helo and sender restrictions at RCPT TO"),
	LIST("smtpd_discard_ehlo_keywords", "",
	     "EHLO keywords the SMTP server does not announce"),
	LIST("smtpd_end_of_data_restrictions", "",
	     "restrictions applied at the end of the message"),
	TIME("smtpd_error_sleep_time", "1s", 's', 0, 0,
	     "delay of an error reply after smtpd_soft_error_limit errors"),
	STR("smtpd_forbid_bare_newline", "normalize",
	    "bare LF handling: normalize, reject or no (Postfix 3.9 default)"),
	INT("smtpd_forbid_bare_newline_reject_code", "550", 0, 0,
	    "reply code for a bare LF with smtpd_forbid_bare_newline=reject"),
	BOOL("smtpd_forbid_unauth_pipelining", "yes",
	     "disconnect clients that pipeline where RFC 2920 does not allow "
	     "it (Postfix 3.9 default)"),
	INT("smtpd_hard_error_limit", "${stress?{1}:{20}}", 1, 0,
	    "errors after which the SMTP server disconnects"),
	BOOL("smtpd_helo_required", "no",
	     "require HELO or EHLO before MAIL, RCPT and DATA"),
	LIST("smtpd_helo_restrictions", "",
	     "restrictions applied to the HELO/EHLO name"),
	INT("smtpd_junk_command_limit", "${stress?{1}:{100}}", 1, 0,
	    "NOOP/VRFY/ETRN/RSET commands before each counts as an error"),
	STR("smtpd_null_access_lookup_key", "<>",
	    "access table key for the null sender address"),
	INT("smtpd_recipient_limit", "1000", 1, 0,
	    "recipients the SMTP server accepts per message"),
	LIST("smtpd_recipient_restrictions", "",
	     "access restrictions applied to RCPT TO after the relay rules"),
	BOOL("smtpd_reject_unlisted_recipient", "yes",
	     "reject recipients unknown to the recipient tables"),
	BOOL("smtpd_reject_unlisted_sender", "no",
	     "reject senders unknown to the recipient tables"),
	LIST("smtpd_relay_restrictions",
	     BELOW_LEVEL("1", "",
			 "permit_mynetworks, permit_sasl_authenticated, "
			 "defer_unauth_destination"),
	     "relay control applied to RCPT TO before the other rules"),
	LIST("smtpd_sender_restrictions", "",
	     "restrictions applied to the MAIL FROM address"),
	INT("smtpd_soft_error_limit", "10", 1, 0,
	    "errors after which each SMTP error reply is delayed"),
	TIME("smtpd_timeout", "${stress?{10}:{300}}s", 's', 1, 0,
	     "time limit to read a command or content line or send a reply"),
	BOOL("smtputf8_enable", BELOW_LEVEL("1", "no", "yes"),
	     "support SMTPUTF8 (RFC 6531) addresses and headers"),
	BOOL("strict_rfc821_envelopes", "no",
	     "require RFC 821 syntax in MAIL FROM and RCPT TO"),
	BOOL("strict_smtputf8", "no",
	     "require SMTPUTF8 for any UTF-8 in an envelope address"),
	BOOL("swap_bangpath", "yes",
	     "rewrite site!user to user@site"),
	STR("syslog_facility", "mail", "syslog facility of log records"),
	STR("syslog_name",
	    "${multi_instance_name?{$multi_instance_name}:{postfix}}",
	    "program name prefix of log records"),
	STR("undisclosed_recipients_header", "",
	    "header added when there is no To, Cc or Bcc"),
	INT("unknown_local_recipient_reject_code", "550", 0, 0,
	    "reply code for an unknown local recipient"),
	INT("unknown_relay_recipient_reject_code", "550", 0, 0,
	    "reply code for an unknown relay recipient"),
	INT("unknown_virtual_alias_reject_code", "550", 0, 0,
	    "reply code for an unknown virtual alias"),
	INT("unknown_virtual_mailbox_reject_code", "550", 0, 0,
	    "reply code for an unknown virtual mailbox"),
	LIST("virtual_alias_domains", "$virtual_alias_maps",
	     "domains served only by virtual_alias_maps"),
	INT("virtual_alias_expansion_limit", "1000", 1, 0,
	    "most addresses one virtual alias expansion may yield"),
	LIST("virtual_alias_maps", "$virtual_maps",
	     "tables of virtual alias addresses"),
	INT("virtual_alias_recursion_limit", "1000", 1, 0,
	    "deepest nesting of virtual alias expansion"),
	LIST("virtual_mailbox_domains", "$virtual_mailbox_maps",
	     "domains of the virtual delivery agent"),
	LIST("virtual_mailbox_maps", "",
	     "tables of virtual mailbox addresses"),
};

#define PARAM_COUNT (sizeof(param_defs) / sizeof(param_defs[0]))

static int
compare_def(const void *key, const void *item)
{
	return strcmp(key, ((const struct param_def *)item)->name);
}

const struct param_def *
param_find(const char *name)
{
	return bsearch(name, param_defs, PARAM_COUNT, sizeof(param_defs[0]),
		       compare_def);
}

const struct param_def *
param_table(size_t *count_out)
{
	*count_out = PARAM_COUNT;
	return param_defs;
}
