/*
 * test_resolve.c - unit tests for address rewriting and resolution.
 *
 * Golden data: every expected answer below is what Debian's Postfix 3.7
 * trivial-rewrite answered (run with -S, one request per run) for the same
 * main.cf settings, request "resolve" or "rewrite" with the same address.
 * Postfix's class bits (0x100 local ... 0x1000 default, 2 routed, 4 error,
 * 8 fail) are written here with our RESOLVE_* names. Where Postfix leaves
 * transport/nexthop unset for a bad address we answer "error" and
 * "5.1.3 bad address syntax" (what its qmgr bounces with).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/mail_conf.h"
#include "global/resolve.h"

#include "../stderr_capture.h"

#define LOCAL RESOLVE_CLASS_LOCAL
#define ALIAS RESOLVE_CLASS_ALIAS
#define VIRTUAL RESOLVE_CLASS_VIRTUAL
#define RELAY RESOLVE_CLASS_RELAY
#define DEFAULT RESOLVE_CLASS_DEFAULT
#define ROUTED RESOLVE_FLAG_ROUTED
#define ERROR RESOLVE_FLAG_ERROR
#define FAIL RESOLVE_FLAG_FAIL
#define BAD "5.1.3 bad address syntax"
#define VUNKNOWN "5.1.1 User unknown in virtual alias table"

static char dir[64];

/* Settings every configuration shares (as in the Postfix runs). */
#define BASE                                                                   \
	"compatibility_level = 3.6\n"                                          \
	"myhostname = mx.example.com\n"                                        \
	"mydomain = example.com\n"                                             \
	"mydestination = $myhostname, localhost\n"

/* Our addresses unless a configuration says otherwise. */
#define IFACES "inet_interfaces = 127.0.0.1, [::1], [fd00::2]\n"

static const char transport_table[] =
	"full@tm.example         smtp:[10.0.0.1]:2525\n"
	"tm.example              local:\n"
	".tm.example             :sub.nexthop\n"
	"sub.tm.example          relay:\n"
	"err.example             error:5.1.1 mailbox gone\n"
	"alias@valias.example    :override\n"
	"colon.example           :\n"
	"user+ext@plus.example   :plusfull\n"
	"u@plus.example          :plusbase\n"
	"plus.example            :plusdom\n"
	"mx.example.com          :mxnext\n";

static const char star_table[] = "tm.example local:\n"
				 "* smtp:[star.example]\n";

static const struct config {
	const char *name;
	const char *main_cf; /* after BASE; @DIR@ is the table directory */
} configs[] = {
	{ "classes", "virtual_alias_domains = valias.example\n"
		     "virtual_mailbox_domains = vmbox.example\n"
		     "relay_domains = relay.example\n"
		     "proxy_interfaces = 198.51.100.7\n" },
	{ "transport", "virtual_alias_domains = valias.example\n"
		       "virtual_mailbox_domains = vmbox.example\n"
		       "relay_domains = relay.example\n"
		       "relayhost = [relay.host]:587\n"
		       "recipient_delimiter = +\n"
		       "transport_maps = texthash:@DIR@/transport\n" },
	{ "star", "virtual_alias_domains = valias.example\n"
		  "parent_domain_matches_subdomains = transport_maps\n"
		  "transport_maps = texthash:@DIR@/star\n" },
	{ "knobs", "local_transport = local\n"
		   "default_transport = smtp:[dt.example]:25\n"
		   "relayhost = [relay.host]:587\n"
		   "relay_domains = relay.example\n"
		   "relay_transport = relay:[r.example]\n"
		   "resolve_numeric_domain = yes\n"
		   "append_dot_mydomain = yes\n"
		   "append_at_myorigin = no\n"
		   "remote_header_rewrite_domain = remote.example\n"
		   "allow_percent_hack = no\n"
		   "swap_bangpath = no\n"
		   "myorigin = origin.example\n" },
	{ "dots", "append_dot_mydomain = yes\n"
		  "myorigin = origin.example\n"
		  "remote_header_rewrite_domain = remote.example\n" },
	{ "plain", "" },
	{ "relayhost", "relay_domains = relay.example\n"
		       "virtual_mailbox_domains = vmbox.example\n"
		       "relayhost = relay.host\n"
		       "local_transport = local:\n" },
	{ "broken", "transport_maps = texthash:@DIR@/missing\n" },
	{ "lenient", "resolve_null_domain = yes\n"
		     "virtual_alias_domains = valias.example\n"
		     "show_user_unknown_table_name = no\n"
		     "inet_interfaces = all\n" },
};

static void
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

static void
remove_file(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);

	unlink(path);
	free(path);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_resolve.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("main.cf", "");
	write_file("transport", transport_table);
	write_file("star", star_table);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	remove_file("main.cf");
	remove_file("transport");
	remove_file("star");
	rmdir(dir);
	return 0;
}

/* main.cf text with @DIR@ replaced. */
static char *
expand_dir(const char *text)
{
	struct strbuf out;
	const char *at;
	char *result;

	strbuf_init(&out, STRBUF_UNLIMITED);
	strbuf_append_str(&out, BASE);
	if (strstr(text, "inet_interfaces") == NULL)
		strbuf_append_str(&out, IFACES);
	while ((at = strstr(text, "@DIR@")) != NULL) {
		strbuf_append(&out, text, (size_t)(at - text));
		strbuf_append_str(&out, dir);
		text = at + 5;
	}
	strbuf_append_str(&out, text);
	result = xstrdup(strbuf_text(&out));
	strbuf_deinit(&out);
	return result;
}

static const char *
config_text(const char *name)
{
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (strcmp(configs[i].name, name) == 0)
			return configs[i].main_cf;
	fail_msg("no config %s", name);
	return NULL;
}

struct fixture {
	struct mail_conf *conf;
	struct resolve *r;
};

static void
fixture_open(struct fixture *f, const char *name)
{
	char *text = expand_dir(config_text(name));
	FILE *fp = fmemopen(text, strlen(text), "r");
	struct err err;

	assert_non_null(fp);
	f->conf = mail_conf_load_stream(dir, fp, &err);
	fclose(fp);
	free(text);
	if (f->conf == NULL)
		fail_msg("%s: %s", name, err.text);
	f->r = resolve_create(f->conf);
}

static void
fixture_close(struct fixture *f)
{
	resolve_destroy(&f->r);
	assert_null(f->r);
	mail_conf_destroy(&f->conf);
}

struct resolve_case {
	const char *config;
	const char *addr;
	int flags;
	const char *transport;
	const char *nexthop;
	const char *recipient;
};

static const struct resolve_case resolve_cases[] = {
	/* Address classes. */
	{ "classes", "user@mx.example.com", LOCAL, "local", "mx.example.com",
	  "user@mx.example.com" },
	{ "classes", "user", LOCAL, "local", "mx.example.com",
	  "user@mx.example.com" },
	{ "classes", "User@localhost", LOCAL, "local", "mx.example.com",
	  "User@localhost" },
	{ "classes", "user@MX.Example.COM.", LOCAL, "local", "mx.example.com",
	  "user@MX.Example.COM" },
	{ "classes", "", LOCAL, "local", "mx.example.com",
	  "MAILER-DAEMON@mx.example.com" },
	{ "classes", "user@example.com", DEFAULT, "smtp", "example.com",
	  "user@example.com" },
	{ "classes", "u@Other.Example", DEFAULT, "smtp", "Other.Example",
	  "u@Other.Example" },
	{ "classes", "u@valias.example", ALIAS, "error", VUNKNOWN,
	  "u@valias.example" },
	{ "classes", "u@sub.valias.example", DEFAULT, "smtp",
	  "sub.valias.example", "u@sub.valias.example" },
	{ "classes", "u@vmbox.example", VIRTUAL, "virtual", "vmbox.example",
	  "u@vmbox.example" },
	{ "classes", "u@relay.example", RELAY, "relay", "relay.example",
	  "u@relay.example" },
	{ "classes", "u@sub.relay.example", RELAY, "relay", "sub.relay.example",
	  "u@sub.relay.example" },
	/* Address literals: ours (inet_interfaces, proxy_interfaces). */
	{ "classes", "user@[127.0.0.1]", LOCAL, "local", "mx.example.com",
	  "user@[127.0.0.1]" },
	{ "classes", "u@[IPv6:::1]", LOCAL, "local", "mx.example.com",
	  "u@[IPv6:::1]" },
	{ "classes", "u@[ipv6:fd00::2]", LOCAL, "local", "mx.example.com",
	  "u@[ipv6:fd00::2]" },
	{ "classes", "u@[198.51.100.7]", LOCAL, "local", "mx.example.com",
	  "u@[198.51.100.7]" },
	{ "classes", "u@[10.9.9.9]", DEFAULT, "smtp", "[10.9.9.9]",
	  "u@[10.9.9.9]" },
	/* Bad addresses. */
	{ "classes", "user@192.0.2.2", DEFAULT | ERROR, "error", BAD,
	  "user@192.0.2.2" },
	{ "classes", "u@198.51.100.7", DEFAULT | ERROR, "error", BAD,
	  "u@198.51.100.7" },
	{ "classes", "user@", DEFAULT | ERROR, "error", BAD, "user@" },
	{ "classes", "u@[300.1.1.1]", DEFAULT | ERROR, "error", BAD,
	  "u@[300.1.1.1]" },
	{ "classes", "u@bad_dom..example", DEFAULT | ERROR, "error", BAD,
	  "u@bad_dom..example" },
	{ "classes", "u@-x.example", DEFAULT | ERROR, "error", BAD,
	  "u@-x.example" },
	{ "classes", "u@ex ample", DEFAULT | ERROR, "error", BAD,
	  "u@ex ample" },
	/* Routing in the local part. */
	{ "classes", "u%h", DEFAULT, "smtp", "h", "u@h" },
	{ "classes", "u%mx.example.com@mx.example.com", LOCAL, "local",
	  "mx.example.com", "u@mx.example.com" },
	{ "classes", "u@x@mx.example.com", DEFAULT, "smtp", "x", "u@x" },
	{ "classes", "other!u@mx.example.com", DEFAULT, "smtp", "other",
	  "u@other" },
	{ "classes", "u@x@y", DEFAULT | ROUTED, "smtp", "y", "u@x@y" },
	{ "classes", "a b@mx.example.com", LOCAL, "local", "mx.example.com",
	  "a b@mx.example.com" },
	/* transport_maps: full address, extension, domain, parents. */
	{ "transport", "u@valias.example", ALIAS, "error", VUNKNOWN,
	  "u@valias.example" },
	{ "transport", "alias@valias.example", ALIAS, "error", VUNKNOWN,
	  "alias@valias.example" },
	{ "transport", "u@vmbox.example", VIRTUAL, "virtual", "vmbox.example",
	  "u@vmbox.example" },
	{ "transport", "u@relay.example", RELAY, "relay", "[relay.host]:587",
	  "u@relay.example" },
	{ "transport", "u@other.example", DEFAULT, "smtp", "[relay.host]:587",
	  "u@other.example" },
	{ "transport", "full@tm.example", DEFAULT, "smtp", "[10.0.0.1]:2525",
	  "full@tm.example" },
	{ "transport", "other@tm.example", DEFAULT, "local", "tm.example",
	  "other@tm.example" },
	{ "transport", "x@a.tm.example", DEFAULT, "smtp", "sub.nexthop",
	  "x@a.tm.example" },
	{ "transport", "x@a.b.tm.example", DEFAULT, "smtp", "sub.nexthop",
	  "x@a.b.tm.example" },
	{ "transport", "x@sub.tm.example", DEFAULT, "relay", "sub.tm.example",
	  "x@sub.tm.example" },
	{ "transport", "x@err.example", DEFAULT, "error", "5.1.1 mailbox gone",
	  "x@err.example" },
	{ "transport", "u@colon.example", DEFAULT, "smtp", "[relay.host]:587",
	  "u@colon.example" },
	{ "transport", "u@mx.example.com", LOCAL, "local", "mxnext",
	  "u@mx.example.com" },
	{ "transport", "user+ext@plus.example", DEFAULT, "smtp", "plusfull",
	  "user+ext@plus.example" },
	{ "transport", "u+ext@plus.example", DEFAULT, "smtp", "plusbase",
	  "u+ext@plus.example" },
	{ "transport", "u+x@plus.example", DEFAULT, "smtp", "plusbase",
	  "u+x@plus.example" },
	{ "transport", "v@plus.example", DEFAULT, "smtp", "plusdom",
	  "v@plus.example" },
	{ "transport", "FULL@TM.example", DEFAULT, "smtp", "[10.0.0.1]:2525",
	  "FULL@TM.example" },
	/* "*" applies to every class but virtual alias; parent style. */
	{ "star", "u@mx.example.com", LOCAL, "smtp", "[star.example]",
	  "u@mx.example.com" },
	{ "star", "u", LOCAL, "smtp", "[star.example]", "u@mx.example.com" },
	{ "star", "u@valias.example", ALIAS, "error", VUNKNOWN,
	  "u@valias.example" },
	{ "star", "u@other.example", DEFAULT, "smtp", "[star.example]",
	  "u@other.example" },
	{ "star", "u@tm.example", DEFAULT, "local", "tm.example",
	  "u@tm.example" },
	{ "star", "u@a.tm.example", DEFAULT, "local", "a.tm.example",
	  "u@a.tm.example" },
	{ "star", "u@x.y.tm.example", DEFAULT, "local", "x.y.tm.example",
	  "u@x.y.tm.example" },
	/* Transports with their own next hop, numeric domains, knobs off. */
	{ "knobs", "u@localhost", LOCAL, "local", "localhost", "u@localhost" },
	{ "knobs", "u@other.example", DEFAULT, "smtp", "[dt.example]:25",
	  "u@other.example" },
	{ "knobs", "u@relay.example", RELAY, "relay", "[r.example]",
	  "u@relay.example" },
	{ "knobs", "u@1.2.3.4", DEFAULT, "smtp", "[dt.example]:25",
	  "u@[1.2.3.4]" },
	{ "knobs", "u@127.0.0.1", LOCAL, "local", "[127.0.0.1]",
	  "u@[127.0.0.1]" },
	{ "knobs", "u%other@mx.example.com", LOCAL | ROUTED, "local",
	  "mx.example.com", "u%other@mx.example.com" },
	{ "knobs", "a!b@mx.example.com", LOCAL | ROUTED, "local",
	  "mx.example.com", "a!b@mx.example.com" },
	{ "knobs", "u", LOCAL, "local", "mx.example.com", "u@mx.example.com" },
	{ "knobs", "", LOCAL, "local", "mx.example.com",
	  "MAILER-DAEMON@mx.example.com" },
	/* append_dot_mydomain: only domains a routing step produced. */
	{ "dots", "u@host", DEFAULT, "smtp", "host", "u@host" },
	{ "dots", "u", LOCAL, "local", "mx.example.com", "u@mx.example.com" },
	{ "dots", "a!b", DEFAULT, "smtp", "a.example.com", "b@a.example.com" },
	{ "dots", "u@x@mx.example.com", DEFAULT, "smtp", "x.example.com",
	  "u@x.example.com" },
	{ "dots", "u%v%w@localhost", DEFAULT | ROUTED, "smtp", "w.example.com",
	  "u%v@w.example.com" },
	{ "dots", "u@[1.2.3.4]", DEFAULT, "smtp", "[1.2.3.4]", "u@[1.2.3.4]" },
	{ "dots", "u@mx.example.com.", LOCAL, "local", "mx.example.com",
	  "u@mx.example.com" },
	/* relayhost without brackets; transports without a next hop. */
	{ "relayhost", "u@relay.example", RELAY, "relay", "relay.host",
	  "u@relay.example" },
	{ "relayhost", "u@vmbox.example", VIRTUAL, "virtual", "vmbox.example",
	  "u@vmbox.example" },
	{ "relayhost", "u@localhost", LOCAL, "local", "localhost",
	  "u@localhost" },
	{ "relayhost", "u@other.example", DEFAULT, "smtp", "relay.host",
	  "u@other.example" },
	/* Not from Postfix runs: resolve_null_domain, the plain reply. */
	{ "lenient", "user@", LOCAL, "local", "mx.example.com",
	  "user@mx.example.com" },
	{ "lenient", "u@valias.example", ALIAS, "error", "5.1.1 User unknown",
	  "u@valias.example" },
	{ "lenient", "u@[127.0.0.1]", LOCAL, "local", "mx.example.com",
	  "u@[127.0.0.1]" },
};

static void
check_resolve(struct resolve *r, const struct resolve_case *c)
{
	struct resolve_reply reply;

	if (resolve_addr(r, c->addr, &reply) != 0)
		fail_msg("%s: <%s>: failed", c->config, c->addr);
	if (reply.flags != c->flags || strcmp(reply.transport, c->transport) ||
	    strcmp(reply.nexthop, c->nexthop) ||
	    strcmp(reply.recipient, c->recipient))
		fail_msg("%s: <%s>: got %#x %s:%s <%s>, want %#x %s:%s <%s>",
			 c->config, c->addr, (unsigned)reply.flags,
			 reply.transport, reply.nexthop, reply.recipient,
			 (unsigned)c->flags, c->transport, c->nexthop,
			 c->recipient);
	resolve_reply_free(&reply);
	assert_null(reply.transport);
}

static void
test_resolve_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]);
	     i++) {
		struct fixture f;

		fixture_open(&f, resolve_cases[i].config);
		check_resolve(f.r, &resolve_cases[i]);
		/* Again, now from the cache. */
		check_resolve(f.r, &resolve_cases[i]);
		fixture_close(&f);
	}
}

struct rewrite_case {
	const char *config;
	const char *context;
	const char *addr;
	const char *expect;
};

static const struct rewrite_case rewrite_cases[] = {
	{ "plain", "local", "user", "user@mx.example.com" },
	{ "plain", "local", "user@host", "user@host" },
	{ "plain", "local", "", "" },
	{ "plain", "remote", "user", "user" },
	{ "plain", "remote", "user@host", "user@host" },
	{ "plain", "local", "a!b", "b@a" },
	{ "plain", "remote", "a!b", "b@a" },
	{ "plain", "local", "@a,@b:u@c", "u@c" },
	{ "plain", "local", "u%h", "u@h" },
	{ "plain", "local", "u@", "u@" },
	{ "plain", "bogus", "user", "user@mx.example.com" },
	{ "knobs", "local", "u", "u" },
	{ "knobs", "local", "u@host", "u@host.example.com" },
	{ "knobs", "local", "u@host.sub", "u@host.sub" },
	{ "knobs", "remote", "u", "u" },
	{ "knobs", "remote", "u@host", "u@host.remote.example" },
	{ "knobs", "local", "a!b", "a!b" },
	{ "knobs", "local", "u%h", "u%h" },
	{ "dots", "local", "u", "u@origin.example" },
	{ "dots", "remote", "u", "u@remote.example" },
	{ "dots", "local", "u@localhost", "u@localhost.example.com" },
	{ "dots", "local", "u@[1.2.3.4]", "u@[1.2.3.4]" },
	{ "dots", "local", "u@host.", "u@host" },
	{ "dots", "local", "u@Host", "u@Host.example.com" },
	{ "dots", "local", "a!b!c", "b!c@a.example.com" },
	{ "dots", "local", "u%v%w", "u%v@w.example.com" },
	{ "dots", "local", "@a:u@c", "u@c.example.com" },
	{ "dots", "local", "u@", "u@" },
};

static void
test_rewrite_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rewrite_cases) / sizeof(rewrite_cases[0]);
	     i++) {
		const struct rewrite_case *c = &rewrite_cases[i];
		struct fixture f;
		char *got;

		fixture_open(&f, c->config);
		got = resolve_rewrite(f.r, c->context, c->addr);
		if (strcmp(got, c->expect) != 0)
			fail_msg("%s: %s <%s>: got <%s>, want <%s>", c->config,
				 c->context, c->addr, got, c->expect);
		free(got);
		fixture_close(&f);
	}
}

/* A table that cannot be opened: FAIL, a warning, and nothing cached. */
static void
test_table_failure(void **state)
{
	static const struct {
		const char *addr;
		int flags;
	} cases[] = {
		{ "u@other.example", DEFAULT | FAIL },
		{ "u@mx.example.com", LOCAL | FAIL },
	};
	struct fixture f;
	struct capture cap;
	char *text, *want;

	(void)state;
	capture_start(&cap);
	fixture_open(&f, "broken");
	text = capture_end(&cap);
	want = xasprintf("postern: warning: texthash:%s/missing is "
			 "unavailable. open database %s/missing: No such "
			 "file or directory\n",
			 dir, dir);
	assert_string_equal(text, want);
	free(text);
	free(want);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int round = 0; round < 2; round++) {
			struct resolve_reply reply;

			capture_start(&cap);
			assert_int_equal(
				resolve_addr(f.r, cases[i].addr, &reply), -1);
			text = capture_end(&cap);
			assert_int_equal(reply.flags, cases[i].flags);
			want = xasprintf(
				"postern: warning: texthash:%s/missing lookup "
				"error for \"%s\": open database %s/missing: "
				"No such file or directory; transport_maps "
				"lookup failure\n",
				dir, cases[i].addr, dir);
			assert_string_equal(text, want);
			free(text);
			free(want);
			resolve_reply_free(&reply);
		}
	}
	fixture_close(&f);
}

/* More distinct addresses than the cache holds: answers stay right. */
static void
test_cache_bound(void **state)
{
	struct fixture f;

	(void)state;
	fixture_open(&f, "classes");
	for (int i = 0; i < RESOLVE_CACHE_MAX + 10; i++) {
		char *addr = xasprintf("u%d@d%d.example", i, i % 7);
		char *domain = xasprintf("d%d.example", i % 7);
		struct resolve_reply reply;

		assert_int_equal(resolve_addr(f.r, addr, &reply), 0);
		assert_int_equal(reply.flags, DEFAULT);
		assert_string_equal(reply.nexthop, domain);
		assert_string_equal(reply.recipient, addr);
		resolve_reply_free(&reply);
		free(addr);
		free(domain);
	}
	fixture_close(&f);
}

static void
test_destroy_null(void **state)
{
	struct resolve *r = NULL;
	struct resolve_reply reply = { 0 };

	(void)state;
	resolve_destroy(&r);
	resolve_reply_free(&reply);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_table),
		cmocka_unit_test(test_rewrite_table),
		cmocka_unit_test(test_table_failure),
		cmocka_unit_test(test_cache_bound),
		cmocka_unit_test(test_destroy_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
