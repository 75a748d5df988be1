/*
 * test_mail_params.c - unit tests for the parameter table and its defaults.
 *
 * The table must be sorted and unique, every name must be a Postfix name,
 * every default must expand and parse as its type, and the static defaults
 * must be Postfix 3.7.11's (golden values from `postconf -d`). Computed
 * defaults are checked against made-up interfaces and host names set in
 * the configuration, never against this machine's name.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/mymalloc.h"
#include "util/tokens.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

static void
test_table_sorted_and_unique(void **state)
{
	size_t count;
	const struct param_def *table = param_table(&count);

	(void)state;
	assert_true(count > 50);
	for (size_t i = 1; i < count; i++)
		if (strcmp(table[i - 1].name, table[i].name) >= 0)
			fail_msg("%s is not before %s", table[i - 1].name,
				 table[i].name);
	for (size_t i = 0; i < count; i++) {
		assert_ptr_equal(param_find(table[i].name), &table[i]);
		assert_non_null(table[i].summary);
		assert_true(strlen(table[i].summary) > 10);
		assert_true((table[i].default_value == NULL) !=
			    (table[i].compute_default == NULL));
		if (table[i].type == PARAM_TIME)
			assert_non_null(strchr("smhdw", table[i].time_unit));
	}
	assert_null(param_find("nosuch"));
	assert_null(param_find(""));
	assert_null(param_find("myhostnam"));
}

/* Parameters Postern declares that Postfix 3.7 does not have. */
static const char *const postern_only[] = {
	"dns_resolver_conf",
};

static bool
is_postern_only(const char *name)
{
	for (size_t i = 0; i < sizeof(postern_only) / sizeof(postern_only[0]);
	     i++)
		if (strcmp(postern_only[i], name) == 0)
			return true;
	return false;
}

static void
test_postfix_names(void **state)
{
	size_t count;
	const struct param_def *table = param_table(&count);
	const char *const *names;

	(void)state;
	for (size_t i = 0; i < count; i++)
		if (!param_is_postfix_name(table[i].name) &&
		    !is_postern_only(table[i].name))
			fail_msg("%s is not a Postfix name", table[i].name);
	for (size_t i = 0; i < sizeof(postern_only) / sizeof(postern_only[0]);
	     i++) {
		assert_non_null(param_find(postern_only[i]));
		assert_false(param_is_postfix_name(postern_only[i]));
	}
	names = param_postfix_names(&count);
	assert_int_equal(count, 831);
	for (size_t i = 1; i < count; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	for (size_t i = 0; i < count; i++)
		assert_true(param_is_postfix_name(names[i]));
	assert_true(param_is_postfix_name("smtpd_tls_cert_file"));
	assert_true(param_is_postfix_name("2bounce_notice_recipient"));
	assert_true(param_is_postfix_name("virtual_maps"));
	assert_true(param_is_postfix_name("fallback_relay"));
	assert_false(param_is_postfix_name("relay_destination_rate_delay"));
	assert_false(param_is_postfix_name("myhostnam"));
	assert_false(param_is_postfix_name(""));
}

/* A configuration that does not depend on this machine's name. */
static struct mail_conf *
fixed_conf(void)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");

	mail_conf_set(conf, "myhostname", "mail.example.com");
	return conf;
}

static void
check_default_parses(struct mail_conf *conf, const struct param_def *def)
{
	const char *value;
	struct err err;
	long long number;
	bool flag;
	struct argv *list;
	int ret = 0;

	if (mail_conf_get(conf, def->name, &value, &err) < 0)
		fail_msg("%s: %s", def->name, err.text);
	switch (def->type) {
	case PARAM_BOOL:
		ret = mail_conf_get_bool(conf, def->name, &flag, &err);
		break;
	case PARAM_INT:
		ret = mail_conf_get_int(conf, def->name, &number, &err);
		break;
	case PARAM_SIZE:
		ret = mail_conf_get_size(conf, def->name, &number, &err);
		break;
	case PARAM_TIME:
		ret = mail_conf_get_time(conf, def->name, &number, &err);
		break;
	case PARAM_LIST:
		list = mail_conf_list(conf, def->name);
		argv_destroy(&list);
		break;
	case PARAM_STR:
		break;
	}
	if (ret < 0)
		fail_msg("%s: %s", def->name, err.text);
}

static void
test_every_default_parses(void **state)
{
	static const char *const levels[] = {"0", "1", "2", "3.6", "3.7"};
	size_t count;
	const struct param_def *table = param_table(&count);

	(void)state;
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		struct mail_conf *conf = fixed_conf();

		mail_conf_set(conf, "compatibility_level", levels[l]);
		for (size_t i = 0; i < count; i++)
			check_default_parses(conf, &table[i]);
		mail_conf_destroy(&conf);
	}
}

struct golden {
	const char *name;
	const char *value;
};

/* Postfix 3.7.11 `postconf -d`, for every static default we declare. */
static const struct golden golden_defaults[] = {
	{"2bounce_notice_recipient", "postmaster"},
	{"access_map_defer_code", "450"},
	{"access_map_reject_code", "554"},
	{"alias_database", "hash:/etc/aliases"},
	{"alias_maps", "hash:/etc/aliases, nis:mail.aliases"},
	{"allow_mail_to_commands", "alias, forward"},
	{"allow_mail_to_files", "alias, forward"},
	{"allow_min_user", "no"},
	{"allow_percent_hack", "yes"},
	{"alternate_config_directories", ""},
	{"always_add_missing_headers", "no"},
	{"always_bcc", ""},
	{"append_at_myorigin", "yes"},
	{"append_dot_mydomain",
	 "${{$compatibility_level} <level {1} ? {yes} : {no}}"},
	{"authorized_flush_users", "static:anyone"},
	{"authorized_mailq_users", "static:anyone"},
	{"authorized_submit_users", "static:anyone"},
	{"backwards_bounce_logfile_compatibility", "yes"},
	{"biff", "yes"},
	{"body_checks", ""},
	{"body_checks_size_limit", "51200"},
	{"bounce_notice_recipient", "postmaster"},
	{"bounce_queue_lifetime", "5d"},
	{"bounce_service_name", "bounce"},
	{"bounce_size_limit", "50000"},
	{"bounce_template_file", ""},
	{"canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient"},
	{"canonical_maps", ""},
	{"cleanup_service_name", "cleanup"},
	{"command_directory", "/usr/sbin"},
	{"command_execution_directory", ""},
	{"command_expansion_filter", "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"command_time_limit", "1000s"},
	{"compatibility_level", "0"},
	{"config_directory", "/etc/postfix"},
	{"confirm_delay_cleared", "no"},
	{"connection_cache_protocol_timeout", "5s"},
	{"connection_cache_service_name", "scache"},
	{"connection_cache_status_update_time", "600s"},
	{"connection_cache_ttl_limit", "2s"},
	{"daemon_directory", "/usr/lib/postfix/sbin"},
	{"daemon_timeout", "18000s"},
	{"data_directory", "/var/lib/postfix"},
	{"default_database_type", "hash"},
	{"default_delivery_slot_cost", "5"},
	{"default_delivery_slot_discount", "50"},
	{"default_delivery_slot_loan", "3"},
	{"default_destination_concurrency_failed_cohort_limit", "1"},
	{"default_destination_concurrency_limit", "20"},
	{"default_destination_concurrency_negative_feedback", "1"},
	{"default_destination_concurrency_positive_feedback", "1"},
	{"default_destination_rate_delay", "0s"},
	{"default_destination_recipient_limit", "50"},
	{"default_extra_recipient_limit", "1000"},
	{"default_minimum_delivery_slots", "3"},
	{"default_privs", "nobody"},
	{"default_process_limit", "100"},
	{"default_rbl_reply", "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}"},
	{"default_recipient_limit", "20000"},
	{"default_recipient_refill_delay", "5s"},
	{"default_recipient_refill_limit", "100"},
	{"default_transport", "smtp"},
	{"defer_code", "450"},
	{"defer_service_name", "defer"},
	{"defer_transports", ""},
	{"delay_logging_resolution_limit", "2"},
	{"delay_notice_recipient", "postmaster"},
	{"delay_warning_time", "0h"},
	{"deliver_lock_attempts", "20"},
	{"deliver_lock_delay", "1s"},
	{"destination_concurrency_feedback_debug", "no"},
	{"detect_8bit_encoding_header", "yes"},
	{"disable_dns_lookups", "no"},
	{"disable_mime_output_conversion", "no"},
	{"disable_vrfy_command", "no"},
	{"dns_resolver_conf", ""}, /* Postern's own */
	{"double_bounce_sender", "double-bounce"},
	{"duplicate_filter_limit", "1000"},
	{"empty_address_recipient", "MAILER-DAEMON"},
	{"enable_long_queue_ids", "no"},
	{"enable_original_recipient", "yes"},
	{"error_notice_recipient", "postmaster"},
	{"execution_directory_expansion_filter", "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"expand_owner_alias", "no"},
	{"export_environment", "TZ MAIL_CONFIG LANG"},
	{"fallback_transport", ""},
	{"fallback_transport_maps", ""},
	{"fast_flush_domains", "$relay_domains"},
	{"forward_expansion_filter", "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward"},
	{"frozen_delivered_to", "yes"},
	{"hash_queue_depth", "1"},
	{"hash_queue_names", "deferred, defer"},
	{"header_address_token_limit", "10240"},
	{"header_checks", ""},
	{"header_from_format", "standard"},
	{"header_size_limit", "102400"},
	{"home_mailbox", ""},
	{"hopcount_limit", "50"},
	{"html_directory", "/usr/share/doc/postfix/html"},
	{"import_environment",
	 "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C "
	 "POSTLOG_SERVICE POSTLOG_HOSTNAME"},
	{"inet_interfaces", "all"},
	{"inet_protocols", "all"},
	{"initial_destination_concurrency", "5"},
	{"internal_mail_filter_classes", ""},
	{"invalid_hostname_reject_code", "501"},
	{"ipc_idle", "5s"},
	{"ipc_timeout", "3600s"},
	{"line_length_limit", "2048"},
	{"lmdb_map_size", "16777216"},
	{"lmtp_address_preference", "any"},
	{"lmtp_bind_address", ""},
	{"lmtp_bind_address6", ""},
	{"lmtp_connect_timeout", "0s"},
	{"lmtp_connection_cache_destinations", ""},
	{"lmtp_connection_cache_on_demand", "yes"},
	{"lmtp_connection_cache_time_limit", "2s"},
	{"lmtp_connection_reuse_count_limit", "0"},
	{"lmtp_connection_reuse_time_limit", "300s"},
	{"lmtp_data_done_timeout", "600s"},
	{"lmtp_data_init_timeout", "120s"},
	{"lmtp_data_xfer_timeout", "180s"},
	{"lmtp_dns_support_level", ""},
	{"lmtp_fallback_relay", ""},
	{"lmtp_host_lookup", "dns"},
	{"lmtp_lhlo_name", "$myhostname"},
	{"lmtp_lhlo_timeout", "300s"},
	{"lmtp_line_length_limit", "998"},
	{"lmtp_mail_timeout", "300s"},
	{"lmtp_mx_address_limit", "5"},
	{"lmtp_mx_session_limit", "2"},
	{"lmtp_quit_timeout", "300s"},
	{"lmtp_rcpt_timeout", "300s"},
	{"lmtp_skip_5xx_greeting", "yes"},
	{"lmtp_tcp_port", "24"},
	{"local_command_shell", ""},
	{"local_destination_concurrency_limit", "2"},
	{"local_destination_recipient_limit", "1"},
	{"local_header_rewrite_clients", "permit_inet_interfaces"},
	{"local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"},
	{"local_transport", "local:$myhostname"},
	{"luser_relay", ""},
	{"mail_name", "Postfix"},
	{"mail_owner", "postfix"},
	{"mail_spool_directory", "/var/mail"},
	{"mail_version", "3.7.11"},
	{"mailbox_command", ""},
	{"mailbox_command_maps", ""},
	{"mailbox_delivery_lock", "fcntl, dotlock"},
	{"mailbox_size_limit", "51200000"},
	{"mailbox_transport", ""},
	{"mailbox_transport_maps", ""},
	{"maillog_file", ""},
	{"maillog_file_compressor", "gzip"},
	{"maillog_file_prefixes", "/var, /dev/stdout"},
	{"maillog_file_rotate_suffix", "%Y%m%d-%H%M%S"},
	{"mailq_path", "/usr/bin/mailq"},
	{"manpage_directory", "/usr/share/man"},
	{"maps_rbl_reject_code", "554"},
	{"masquerade_classes", "envelope_sender, header_sender, header_recipient"},
	{"masquerade_domains", ""},
	{"masquerade_exceptions", ""},
	{"master_service_disable", ""},
	{"max_idle", "100s"},
	{"max_use", "100"},
	{"maximal_backoff_time", "4000s"},
	{"maximal_queue_lifetime", "5d"},
	{"message_size_limit", "10240000"},
	{"meta_directory", "/etc/postfix"},
	{"mime_boundary_length_limit", "2048"},
	{"mime_header_checks", "$header_checks"},
	{"mime_nesting_limit", "100"},
	{"minimal_backoff_time", "300s"},
	{"multi_instance_directories", ""},
	{"multi_instance_enable", "no"},
	{"multi_instance_group", ""},
	{"multi_instance_name", ""},
	{"multi_instance_wrapper", ""},
	{"mydestination", "$myhostname, localhost.$mydomain, localhost"},
	{"mynetworks_style",
	 "${{$compatibility_level} <level {2} ? {subnet} : {host}}"},
	{"myorigin", "$myhostname"},
	{"nested_header_checks", "$header_checks"},
	{"newaliases_path", "/usr/bin/newaliases"},
	{"non_fqdn_reject_code", "504"},
	{"notify_classes", "resource, software"},
	{"owner_request_special", "yes"},
	{"parent_domain_matches_subdomains",
	 "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_"
	 "networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"},
	{"postlog_service_name", "postlog"},
	{"prepend_delivered_header", "command, file, forward"},
	{"process_id_directory", "pid"},
	{"propagate_unmatched_extensions", "canonical, virtual"},
	{"proxy_interfaces", ""},
	{"qmgr_clog_warn_time", "300s"},
	{"qmgr_daemon_timeout", "1000s"},
	{"qmgr_fudge_factor", "100"},
	{"qmgr_ipc_timeout", "60s"},
	{"qmgr_message_active_limit", "20000"},
	{"qmgr_message_recipient_limit", "20000"},
	{"qmgr_message_recipient_minimum", "10"},
	{"queue_directory", "/var/spool/postfix"},
	{"queue_minfree", "0"},
	{"queue_run_delay", "300s"},
	{"rbl_reply_maps", ""},
	{"readme_directory", "/usr/share/doc/postfix"},
	{"recipient_bcc_maps", ""},
	{"recipient_canonical_classes", "envelope_recipient, header_recipient"},
	{"recipient_canonical_maps", ""},
	{"recipient_delimiter", ""},
	{"reject_code", "554"},
	{"relay_domains",
	 "${{$compatibility_level} <level {2} ? {$mydestination} : {}}"},
	{"reject_tempfail_action", "defer_if_permit"},
	{"relay_domains_reject_code", "554"},
	{"relay_recipient_maps", ""},
	{"relay_transport", "relay"},
	{"relayhost", ""},
	{"relocated_maps", ""},
	{"remote_header_rewrite_domain", ""},
	{"require_home_directory", "no"},
	{"reset_owner_alias", "no"},
	{"resolve_dequoted_address", "yes"},
	{"resolve_null_domain", "no"},
	{"resolve_numeric_domain", "no"},
	{"sample_directory", "/etc/postfix"},
	{"sender_bcc_maps", ""},
	{"sender_canonical_classes", "envelope_sender, header_sender"},
	{"sender_canonical_maps", ""},
	{"sender_dependent_default_transport_maps", ""},
	{"sender_dependent_relayhost_maps", ""},
	{"sendmail_path", "/usr/sbin/sendmail"},
	{"service_name", ""},
	{"service_throttle_time", "60s"},
	{"setgid_group", "postdrop"},
	{"shlib_directory", "/usr/lib/postfix"},
	{"show_user_unknown_table_name", "yes"},
	{"showq_service_name", "showq"},
	{"smtp_address_preference", "any"},
	{"smtp_bind_address", ""},
	{"smtp_bind_address6", ""},
	{"smtp_connect_timeout", "30s"},
	{"smtp_connection_cache_destinations", ""},
	{"smtp_connection_cache_on_demand", "yes"},
	{"smtp_connection_cache_time_limit", "2s"},
	{"smtp_connection_reuse_count_limit", "0"},
	{"smtp_connection_reuse_time_limit", "300s"},
	{"smtp_data_done_timeout", "600s"},
	{"smtp_data_init_timeout", "120s"},
	{"smtp_data_xfer_timeout", "180s"},
	{"smtp_dns_support_level", ""},
	{"smtp_fallback_relay", "$fallback_relay"},
	{"smtp_helo_name", "$myhostname"},
	{"smtp_helo_timeout", "300s"},
	{"smtp_host_lookup", "dns"},
	{"smtp_line_length_limit", "998"},
	{"smtp_mail_timeout", "300s"},
	{"smtp_mx_address_limit", "5"},
	{"smtp_mx_session_limit", "2"},
	{"smtp_never_send_ehlo", "no"},
	{"smtp_quit_timeout", "300s"},
	{"smtp_rcpt_timeout", "300s"},
	{"smtp_skip_5xx_greeting", "yes"},
	{"smtp_tcp_port", "smtp"},
	{"smtpd_banner", "$myhostname ESMTP $mail_name"},
	{"smtpd_client_restrictions", ""},
	{"smtpd_data_restrictions", ""},
	{"smtpd_delay_reject", "yes"},
	{"smtpd_discard_ehlo_keywords", ""},
	{"smtpd_end_of_data_restrictions", ""},
	{"smtpd_error_sleep_time", "1s"},
	{"smtpd_forbid_bare_newline", "normalize"},
	{"smtpd_forbid_bare_newline_reject_code", "550"},
	{"smtpd_forbid_unauth_pipelining", "yes"},
	{"smtpd_hard_error_limit", "${stress?{1}:{20}}"},
	{"smtpd_helo_required", "no"},
	{"smtpd_helo_restrictions", ""},
	{"smtpd_junk_command_limit", "${stress?{1}:{100}}"},
	{"smtpd_null_access_lookup_key", "<>"},
	{"smtpd_peername_lookup", "yes"},
	{"smtpd_recipient_limit", "1000"},
	{"smtpd_recipient_restrictions", ""},
	{"smtpd_reject_unlisted_recipient", "yes"},
	{"smtpd_reject_unlisted_sender", "no"},
	{"smtpd_relay_restrictions",
	 "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, "
	 "permit_sasl_authenticated, defer_unauth_destination}}"},
	{"smtpd_sender_restrictions", ""},
	{"smtpd_soft_error_limit", "10"},
	{"smtpd_timeout", "${stress?{10}:{300}}s"},
	{"smtputf8_enable", "${{$compatibility_level} <level {1} ? {no} : {yes}}"},
	{"stale_lock_time", "500s"},
	{"strict_mailbox_ownership", "yes"},
	{"strict_rfc821_envelopes", "no"},
	{"strict_smtputf8", "no"},
	{"swap_bangpath", "yes"},
	{"syslog_facility", "mail"},
	{"syslog_name", "${multi_instance_name?{$multi_instance_name}:{postfix}}"},
	{"trace_service_name", "trace"},
	{"transport_maps", ""},
	{"transport_retry_time", "60s"},
	{"undisclosed_recipients_header", ""},
	{"unknown_address_reject_code", "450"},
	{"unknown_address_tempfail_action", "$reject_tempfail_action"},
	{"unknown_client_reject_code", "450"},
	{"unknown_helo_hostname_tempfail_action", "$reject_tempfail_action"},
	{"unknown_hostname_reject_code", "450"},
	{"unknown_local_recipient_reject_code", "550"},
	{"unknown_relay_recipient_reject_code", "550"},
	{"unknown_virtual_alias_reject_code", "550"},
	{"unknown_virtual_mailbox_reject_code", "550"},
	{"virtual_alias_domains", "$virtual_alias_maps"},
	{"virtual_alias_expansion_limit", "1000"},
	{"virtual_alias_maps", "$virtual_maps"},
	{"virtual_alias_recursion_limit", "1000"},
	{"virtual_gid_maps", ""},
	{"virtual_mailbox_base", ""},
	{"virtual_mailbox_domains", "$virtual_mailbox_maps"},
	{"virtual_mailbox_limit", "51200000"},
	{"virtual_mailbox_lock", "fcntl, dotlock"},
	{"virtual_mailbox_maps", ""},
	{"virtual_minimum_uid", "100"},
	{"virtual_transport", "virtual"},
	{"virtual_uid_maps", ""},
};

static void
test_golden_defaults(void **state)
{
	size_t count, statics = 0;
	const struct param_def *table = param_table(&count);
	struct mail_conf *conf = mail_conf_create(NULL);

	(void)state;
	for (size_t i = 0; i < count; i++)
		statics += table[i].compute_default == NULL;
	assert_int_equal(statics,
			 sizeof(golden_defaults) / sizeof(golden_defaults[0]));
	for (size_t i = 0; i < statics; i++) {
		const struct param_def *def =
		    param_find(golden_defaults[i].name);

		if (def == NULL)
			fail_msg("%s is not declared", golden_defaults[i].name);
		assert_string_equal(mail_conf_default(conf, def->name),
				    golden_defaults[i].value);
	}
	mail_conf_destroy(&conf);
}

/* Expanded defaults at compatibility level 0 (Postfix -x output). */
static void
test_expanded_defaults(void **state)
{
	static const struct golden cases[] = {
		{"append_dot_mydomain", "yes"},
		{"mydestination", "mail.example.com, localhost.example.com, "
				  "localhost"},
		{"mydomain", "example.com"},
		{"mynetworks_style", "subnet"},
		{"myorigin", "mail.example.com"},
		{"relay_domains", "mail.example.com, localhost.example.com, "
				  "localhost"},
		{"smtpd_relay_restrictions", ""},
		{"smtputf8_enable", "no"},
		{"syslog_name", "postfix"},
	};
	struct mail_conf *conf = fixed_conf();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(mail_conf_str(conf, cases[i].name),
				    cases[i].value);
	mail_conf_set(conf, "multi_instance_name", "postfix-out");
	assert_string_equal(mail_conf_str(conf, "syslog_name"), "postfix-out");
	mail_conf_set(conf, "compatibility_level", "3.6");
	assert_string_equal(mail_conf_str(conf, "smtpd_relay_restrictions"),
			    "permit_mynetworks, permit_sasl_authenticated, "
			    "defer_unauth_destination");
	assert_false(mail_conf_bool(conf, "append_dot_mydomain"));
	assert_true(mail_conf_bool(conf, "smtputf8_enable"));
	assert_string_equal(mail_conf_str(conf, "mynetworks_style"), "host");
	mail_conf_destroy(&conf);
}

struct hostname_case {
	const char *myhostname; /* NULL: computed */
	const char *mydomain;   /* NULL: not set */
	const char *expect_domain;
};

static void
test_myhostname_mydomain(void **state)
{
	static const struct hostname_case cases[] = {
		{"mail.example.com", NULL, "example.com"},
		{"a.b.c.example.org", NULL, "b.c.example.org"},
		{"nodot", NULL, "localdomain"},
		{"host.", NULL, ""},
		{"mail.example.com", "other.net", "other.net"},
	};
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_conf *conf = mail_conf_create("/nonexistent");
		const char *value;

		mail_conf_set(conf, "myhostname", cases[i].myhostname);
		if (cases[i].mydomain != NULL)
			mail_conf_set(conf, "mydomain", cases[i].mydomain);
		assert_int_equal(mail_conf_get(conf, "mydomain", &value, &err),
				 0);
		assert_string_equal(value, cases[i].expect_domain);
		mail_conf_destroy(&conf);
	}
}

/* The computed myhostname, whatever this machine is called. */
static void
test_computed_myhostname(void **state)
{
	char host[256] = "";
	char *expect;
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	struct err err;
	const char *value;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_int_equal(mail_conf_get(conf, "myhostname", &value, &err), 0);
	expect = strchr(host, '.') != NULL ? xstrdup(host)
					   : xasprintf("%s.localdomain", host);
	assert_string_equal(value, expect);
	assert_non_null(strchr(value, '.'));
	free(expect);
	mail_conf_destroy(&conf);

	/* A host name without a dot takes main.cf's mydomain, expanded. */
	conf = mail_conf_create("/nonexistent");
	mail_conf_set(conf, "mydomain", "$mail_name.example");
	assert_int_equal(mail_conf_get(conf, "myhostname", &value, &err), 0);
	expect = strchr(host, '.') != NULL
		     ? xstrdup(host)
		     : xasprintf("%s.Postfix.example", host);
	assert_string_equal(value, expect);
	free(expect);
	mail_conf_destroy(&conf);

	/* mydomain = $myhostname would need myhostname to compute itself. */
	conf = mail_conf_create("/nonexistent");
	mail_conf_set(conf, "mydomain", "$myhostname");
	if (strchr(host, '.') == NULL) {
		assert_int_equal(
		    mail_conf_get(conf, "myhostname", &value, &err), -1);
		assert_string_equal(err.text, "parameter myhostname: default "
					      "value depends on itself");
	}
	mail_conf_destroy(&conf);
}

static struct param_iface
iface(const char *addr, const char *mask)
{
	struct param_iface out;

	memset(&out, 0, sizeof(out));
	out.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(out.family, addr, out.addr), 1);
	assert_int_equal(inet_pton(out.family, mask, out.mask), 1);
	return out;
}

struct networks_case {
	const char *style;
	bool want_ipv4, want_ipv6;
	const char *expect;
};

static void
test_mynetworks_format(void **state)
{
	/* The machine Postfix's own answer was taken from. */
	const struct param_iface ifaces[] = {
		iface("127.0.0.1", "255.0.0.0"),
		iface("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
		iface("192.0.2.2", "255.255.255.0"),
		iface("fd00::2", "ffff:ffff:ffff:ffff::"),
		iface("fe80::fc:ff:fe00:1", "ffff:ffff:ffff:ffff::"),
		iface("192.0.2.3", "255.255.255.0"),
		iface("172.16.5.9", "255.255.0.0"),
		iface("10.1.2.3", "255.255.255.252"),
		iface("224.1.1.1", "255.255.255.0"),
	};
	static const struct networks_case cases[] = {
		{"subnet", true, true,
		 "127.0.0.0/8 192.0.2.0/24 172.16.0.0/16 10.1.2.0/30 "
		 "224.1.1.0/24 [::1]/128 [fd00::]/64 [fe80::]/64"},
		{"host", true, true,
		 "127.0.0.1/32 192.0.2.2/32 192.0.2.3/32 172.16.5.9/32 "
		 "10.1.2.3/32 224.1.1.1/32 [::1]/128 [fd00::2]/128 "
		 "[fe80::fc:ff:fe00:1]/128"},
		{"class", true, true,
		 "127.0.0.0/8 192.0.2.0/24 172.16.0.0/16 10.0.0.0/8 "
		 "224.1.1.0/24 [::1]/128 [fd00::]/64 [fe80::]/64"},
		{"subnet", true, false,
		 "127.0.0.0/8 192.0.2.0/24 172.16.0.0/16 10.1.2.0/30 "
		 "224.1.1.0/24"},
		{"subnet", false, true, "[::1]/128 [fd00::]/64 [fe80::]/64"},
		{"host", false, false, ""},
	};
	struct err err;
	char *value;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(param_mynetworks_format(
				     ifaces, sizeof(ifaces) / sizeof(ifaces[0]),
				     cases[i].style, cases[i].want_ipv4,
				     cases[i].want_ipv6, &value, &err),
				 0);
		assert_string_equal(value, cases[i].expect);
		free(value);
	}
	/* Postfix's exact answer on that machine (subnet style). */
	assert_int_equal(param_mynetworks_format(ifaces, 5, "subnet", true,
						 true, &value, &err),
			 0);
	assert_string_equal(value, "127.0.0.0/8 192.0.2.0/24 [::1]/128 "
				   "[fd00::]/64 [fe80::]/64");
	free(value);
	assert_int_equal(param_mynetworks_format(ifaces, 0, "subnet", true,
						 true, &value, &err),
			 0);
	assert_string_equal(value, "");
	free(value);
	assert_int_equal(param_mynetworks_format(ifaces, 1, "Subnet", true,
						 true, &value, &err),
			 -1);
	assert_string_equal(err.text, "unknown mynetworks mask style value "
				      "\"Subnet\" in \"Subnet\"");
}

/* Each word is "a.b.c.d/n" or "[v6]/n", whatever the interfaces are. */
static void
check_networks(const char *value)
{
	struct argv *nets = argv_split(value, " ");

	for (size_t i = 0; i < nets->count; i++) {
		char *net = nets->items[i];
		char *slash = strrchr(net, '/');
		unsigned char addr[16];

		assert_non_null(slash);
		*slash = 0;
		if (net[0] == '[') {
			assert_int_equal(net[strlen(net) - 1], ']');
			net[strlen(net) - 1] = 0;
			assert_int_equal(inet_pton(AF_INET6, net + 1, addr), 1);
			assert_true(atoi(slash + 1) <= 128);
		} else {
			assert_int_equal(inet_pton(AF_INET, net, addr), 1);
			assert_true(atoi(slash + 1) <= 32);
		}
	}
	argv_destroy(&nets);
}

static void
test_computed_mynetworks(void **state)
{
	static const char *const styles[] = {"host", "subnet", "class"};
	static const char *const protocols[] = {"all", "ipv4", "ipv6",
						"ipv4, ipv6"};
	struct err err;

	(void)state;
	for (size_t s = 0; s < 3; s++) {
		for (size_t p = 0; p < 4; p++) {
			struct mail_conf *conf = mail_conf_create("/x");
			const char *value;

			mail_conf_set(conf, "mynetworks_style", styles[s]);
			mail_conf_set(conf, "inet_protocols", protocols[p]);
			assert_int_equal(
			    mail_conf_get(conf, "mynetworks", &value, &err), 0);
			check_networks(value);
			if (strcmp(protocols[p], "ipv4") == 0)
				assert_null(strchr(value, '['));
			if (strcmp(protocols[p], "ipv6") == 0)
				assert_null(strchr(value, '.'));
			mail_conf_destroy(&conf);
		}
	}
}

/* mynetworks follows the expanded mynetworks_style. */
static void
test_mynetworks_follows_level(void **state)
{
	struct mail_conf *subnet = mail_conf_create("/x");
	struct mail_conf *host = mail_conf_create("/x");
	struct mail_conf *explicit_host = mail_conf_create("/x");

	(void)state;
	mail_conf_set(host, "compatibility_level", "2");
	mail_conf_set(explicit_host, "mynetworks_style", "host");
	assert_string_equal(mail_conf_str(host, "mynetworks"),
			    mail_conf_str(explicit_host, "mynetworks"));
	mail_conf_set(subnet, "mynetworks_style", "subnet");
	mail_conf_set(host, "compatibility_level", "1");
	assert_string_equal(mail_conf_str(host, "mynetworks"),
			    mail_conf_str(subnet, "mynetworks"));
	mail_conf_destroy(&subnet);
	mail_conf_destroy(&host);
	mail_conf_destroy(&explicit_host);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted_and_unique),
		cmocka_unit_test(test_postfix_names),
		cmocka_unit_test(test_every_default_parses),
		cmocka_unit_test(test_golden_defaults),
		cmocka_unit_test(test_expanded_defaults),
		cmocka_unit_test(test_myhostname_mydomain),
		cmocka_unit_test(test_computed_myhostname),
		cmocka_unit_test(test_mynetworks_format),
		cmocka_unit_test(test_computed_mynetworks),
		cmocka_unit_test(test_mynetworks_follows_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
