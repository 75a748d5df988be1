/*
 * showq_clnt.c - encoders and reader of the showq protocol.
 *
 * See showq_clnt.h for the exchange. The reader keeps one decoded message
 * at a time, so a client's memory does not grow with the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "global/showq_clnt.h"
#include "util/attr.h"
#include "util/attr_io.h"
#include "util/mymalloc.h"

struct showq_clnt {
	struct stream *stream;
	struct attr_list *msg;         /* the message being consumed */
	const struct attr_list *rcpts; /* its recipients list, or NULL */
	size_t next_rcpt;              /* index into rcpts */
	bool is_more;                  /* continuation messages follow */
	bool is_done;                  /* the end message was read */
};

int
showq_put_greeting(struct strbuf *out, struct err *err)
{
	strbuf_reset(out);
	if (attr_put_str(out, SHOWQ_ATTR_PROTOCOL, SHOWQ_PROTOCOL, err) < 0 ||
	    attr_put_int(out, SHOWQ_ATTR_VERSION, SHOWQ_VERSION, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

static int
put_rcpts(struct strbuf *out, const struct showq_rcpt *rcpts, size_t count,
	  bool is_more, struct err *err)
{
	if (attr_put_list(out, SHOWQ_ATTR_RECIPIENTS, err) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *reason = rcpts[i].delay_reason;

		if (attr_put_list(out, SHOWQ_ATTR_RCPT, err) < 0 ||
		    attr_put_str(out, SHOWQ_ATTR_ADDRESS, rcpts[i].address,
				 err) < 0)
			return -1;
		if (reason != NULL && *reason != 0 &&
		    attr_put_str(out, SHOWQ_ATTR_DELAY_REASON, reason, err) < 0)
			return -1;
		if (attr_put_end(out, err) < 0)
			return -1;
	}
	if (attr_put_end(out, err) < 0 ||
	    attr_put_int(out, SHOWQ_ATTR_MORE, is_more, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

int
showq_put_entry(struct strbuf *out, const struct showq_entry *entry,
		const struct showq_rcpt *rcpts, size_t count, bool is_more,
		struct err *err)
{
	strbuf_reset(out);
	if (attr_put_str(out, SHOWQ_ATTR_QUEUE_NAME, entry->queue_name, err) <
		    0 ||
	    attr_put_str(out, SHOWQ_ATTR_QUEUE_ID, entry->queue_id, err) < 0 ||
	    attr_put_int(out, SHOWQ_ATTR_ARRIVAL_TIME, entry->arrival_time,
			 err) < 0 ||
	    attr_put_int(out, SHOWQ_ATTR_MESSAGE_SIZE, entry->message_size,
			 err) < 0 ||
	    attr_put_int(out, SHOWQ_ATTR_FORCED_EXPIRE, entry->is_forced_expire,
			 err) < 0 ||
	    attr_put_str(out, SHOWQ_ATTR_SENDER, entry->sender, err) < 0)
		return -1;
	return put_rcpts(out, rcpts, count, is_more, err);
}

int
showq_put_more(struct strbuf *out, const struct showq_rcpt *rcpts, size_t count,
	       bool is_more, struct err *err)
{
	strbuf_reset(out);
	return put_rcpts(out, rcpts, count, is_more, err);
}

int
showq_put_end(struct strbuf *out, struct err *err)
{
	strbuf_reset(out);
	if (attr_put_int(out, SHOWQ_ATTR_STATUS, 0, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */

static int
read_msg(struct showq_clnt *sc, struct err *err)
{
	int ret;

	attr_list_destroy(&sc->msg);
	sc->rcpts = NULL;
	sc->next_rcpt = 0;
	ret = attr_read(sc->stream, SHOWQ_MESSAGE_MAX, &sc->msg, err);
	if (ret == 0)
		err_set(err, "unexpected end of the queue listing");
	return ret == 1 ? 0 : -1;
}

/* Take the recipients list and the more flag of the current message. */
static int
take_rcpts(struct showq_clnt *sc, struct err *err)
{
	long long more = 0;

	if (attr_get_list(sc->msg, SHOWQ_ATTR_RECIPIENTS, &sc->rcpts, err) <
		    0 ||
	    attr_get_int(sc->msg, SHOWQ_ATTR_MORE, &more, err) < 0) {
		err_prefix(err, "queue listing");
		return -1;
	}
	sc->is_more = more != 0;
	return 0;
}

struct showq_clnt *
showq_clnt_open(struct stream *stream, struct err *err)
{
	struct showq_clnt *sc = xcalloc(1, sizeof(*sc));
	const char *proto = "";
	long long version = -1;

	sc->stream = stream;
	if (read_msg(sc, err) < 0) {
		err_prefix(err, "greeting");
		showq_clnt_close(&sc);
		return NULL;
	}
	(void)attr_get_str(sc->msg, SHOWQ_ATTR_PROTOCOL, &proto, NULL);
	(void)attr_get_int(sc->msg, SHOWQ_ATTR_VERSION, &version, NULL);
	if (strcmp(proto, SHOWQ_PROTOCOL) != 0 || version != SHOWQ_VERSION) {
		err_set(err, "unexpected protocol \"%s\" version %lld", proto,
			version);
		showq_clnt_close(&sc);
		return NULL;
	}
	attr_list_destroy(&sc->msg);
	return sc;
}

/* Skip what is left of the current file (a caller may stop early). */
static int
skip_rest(struct showq_clnt *sc, struct err *err)
{
	struct showq_rcpt rcpt;
	int ret;

	while ((ret = showq_clnt_next_rcpt(sc, &rcpt, err)) == 1)
		;
	return ret;
}

int
showq_clnt_next(struct showq_clnt *sc, struct showq_entry *entry_out,
		struct err *err)
{
	long long expire = 0;

	if (sc->is_done)
		return 0;
	if (sc->msg != NULL && skip_rest(sc, err) < 0)
		return -1;
	if (read_msg(sc, err) < 0)
		return -1;
	if (attr_find(sc->msg, SHOWQ_ATTR_STATUS) != NULL) {
		sc->is_done = true;
		return 0;
	}
	memset(entry_out, 0, sizeof(*entry_out));
	if (attr_get_str(sc->msg, SHOWQ_ATTR_QUEUE_NAME, &entry_out->queue_name,
			 err) < 0 ||
	    attr_get_str(sc->msg, SHOWQ_ATTR_QUEUE_ID, &entry_out->queue_id,
			 err) < 0 ||
	    attr_get_int(sc->msg, SHOWQ_ATTR_ARRIVAL_TIME,
			 &entry_out->arrival_time, err) < 0 ||
	    attr_get_int(sc->msg, SHOWQ_ATTR_MESSAGE_SIZE,
			 &entry_out->message_size, err) < 0 ||
	    attr_get_str(sc->msg, SHOWQ_ATTR_SENDER, &entry_out->sender, err) <
		    0) {
		err_prefix(err, "queue listing");
		return -1;
	}
	(void)attr_get_int(sc->msg, SHOWQ_ATTR_FORCED_EXPIRE, &expire, NULL);
	entry_out->is_forced_expire = expire != 0;
	return take_rcpts(sc, err) < 0 ? -1 : 1;
}

int
showq_clnt_next_rcpt(struct showq_clnt *sc, struct showq_rcpt *rcpt_out,
		     struct err *err)
{
	const struct attr *item;

	while (sc->rcpts != NULL && sc->next_rcpt >= sc->rcpts->count) {
		if (!sc->is_more) {
			sc->rcpts = NULL;
			return 0;
		}
		if (read_msg(sc, err) < 0 || take_rcpts(sc, err) < 0)
			return -1;
	}
	if (sc->rcpts == NULL)
		return 0;
	item = &sc->rcpts->items[sc->next_rcpt++];
	if (item->type != ATTR_LIST) {
		err_set(err, "queue listing: attribute %s: wrong type",
			item->name);
		return -1;
	}
	rcpt_out->delay_reason = "";
	if (attr_get_str(item->list, SHOWQ_ATTR_ADDRESS, &rcpt_out->address,
			 err) < 0) {
		err_prefix(err, "queue listing");
		return -1;
	}
	(void)attr_get_str(item->list, SHOWQ_ATTR_DELAY_REASON,
			   &rcpt_out->delay_reason, NULL);
	return 1;
}

void
showq_clnt_close(struct showq_clnt **scp)
{
	struct showq_clnt *sc = *scp;

	if (sc == NULL)
		return;
	attr_list_destroy(&sc->msg);
	stream_close(&sc->stream);
	free(sc);
	*scp = NULL;
}
