/*
 * qmgr_sched.c - transports, destination queues, and choosing the next
 * delivery.
 *
 * Each recipient is resolved (resolve.h) to a transport and a nexthop;
 * recipients of one message for one destination are grouped into entries
 * of at most the transport's recipient limit. A destination queue is the
 * nexthop, or the recipient itself when the recipient limit is 1 (so
 * local's concurrency limit applies per user, as in Postfix). A queue
 * holds one job per message and hands out entries from its jobs in turn,
 * so one big mailing cannot starve the small messages queued behind it.
 * Concurrency per queue starts at initial_destination_concurrency, grows
 * by one with each success up to the transport's limit, and shrinks with
 * each failure of the destination as a whole; after
 * default_destination_concurrency_failed_cohort_limit cohorts of failures
 * the destination is dead for minimal_backoff_time: its pending mail is
 * deferred "delivery temporarily suspended". A transport whose agent
 * cannot be reached or dies is dead for transport_retry_time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/mail_addr.h"
#include "qmgr/qmgr.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

/* ------------------------------------------------------------------ */
/* Deferring recipients without an agent.                               */

/*
 * Defer some recipients of msg as qmgr itself: the defer log entry and
 * the log line, as an agent writes them (deliver_request.h).
 */
static void
defer_rcpts(struct qmgr_message *msg, const size_t *index, size_t count,
	    const char *relay, const char *dsn, const char *reason)
{
	struct deliver_request req = msg->tmpl;
	struct deliver_status st = { .relay = relay, .dsn = dsn,
				     .reason = reason };

	req.ql = msg->qmgr->ql;
	req.rcpts = xcalloc(count, sizeof(*req.rcpts));
	req.results = xcalloc(count + 1, 1);
	req.rcpt_count = count;
	(void)clock_gettime(CLOCK_REALTIME, &req.received);
	for (size_t i = 0; i < count; i++) {
		const struct qmgr_rcpt *r = &msg->rcpts[index[i]];

		req.rcpts[i] = (struct deliver_rcpt){
			.offset = r->offset,
			.address = r->address,
			.orig_rcpt = r->orig_rcpt,
			.dsn_orcpt = r->dsn_orcpt,
			.dsn_notify = r->dsn_notify,
		};
		(void)deliver_deferred(&req, i, &st, NULL);
	}
	free(req.rcpts);
	free(req.results);
	msg->has_deferred = true;
}

void
qmgr_entry_free(struct qmgr_entry *entry)
{
	free(entry->rcpt_index);
	free(entry);
}

void
qmgr_entry_defer(struct qmgr_entry *entry, const char *relay, const char *dsn,
		 const char *reason)
{
	struct qmgr_message *msg = entry->msg;

	defer_rcpts(msg, entry->rcpt_index, entry->rcpt_count, relay, dsn,
		    reason);
	qmgr_entry_free(entry);
	qmgr_message_entry_done(msg);
}

/* ------------------------------------------------------------------ */
/* Transports and queues.                                               */

/* A per-transport parameter "TRANSPORT_SUFFIX", else the default. */
static long long
transport_param(struct qmgr *q, const char *transport, const char *suffix,
		long long dflt, bool is_time)
{
	char name[256];
	long long value;

	snprintf(name, sizeof(name), "%s_%s", transport, suffix);
	if (!mail_conf_is_known(q->conf, name))
		return dflt;
	if ((is_time ? mail_conf_get_time(q->conf, name, &value, NULL)
		     : mail_conf_get_int(q->conf, name, &value, NULL)) < 0)
		return dflt;
	return value;
}

/*
 * A feedback parameter, per transport or default; a bad value is a
 * configuration error (fatal, as Postfix's qmgr).
 */
static void
transport_feedback(struct qmgr *q, const char *transport, const char *kind,
		   struct conc_feedback *out)
{
	char name[256];
	const char *value;
	struct err err;

	snprintf(name, sizeof(name), "%s_destination_concurrency_%s_feedback",
		 transport, kind);
	if (!mail_conf_is_known(q->conf, name) ||
	    mail_conf_get(q->conf, name, &value, NULL) < 0)
		snprintf(name, sizeof(name),
			 "default_destination_concurrency_%s_feedback", kind);
	value = mail_conf_str(q->conf, name);
	if (conc_feedback_parse(name, value, out, &err) < 0)
		log_fatal("%s", err.text);
}

static struct qmgr_transport *
transport_get(struct qmgr *q, const char *name)
{
	struct qmgr_transport *t = htable_find(q->transports, name);

	if (t != NULL)
		return t;
	t = xcalloc(1, sizeof(*t));
	t->qmgr = q;
	t->name = xstrdup(name);
	t->queues = htable_create(16);
	t->concurrency_limit = (int)transport_param(
		q, name, "destination_concurrency_limit",
		q->default_concurrency_limit, false);
	t->recipient_limit = (int)transport_param(
		q, name, "destination_recipient_limit",
		q->default_recipient_limit, false);
	t->rate_delay_ms = 1000 * transport_param(q, name,
						  "destination_rate_delay",
						  q->default_rate_delay_ms /
							  1000,
						  true);
	transport_feedback(q, name, "positive", &t->positive);
	transport_feedback(q, name, "negative", &t->negative);
	(void)htable_insert(q->transports, name, t);
	return t;
}

static struct qmgr_queue *
queue_get(struct qmgr_transport *t, const char *key, const char *nexthop)
{
	struct qmgr_queue *queue = htable_find(t->queues, key);

	if (queue != NULL)
		return queue;
	queue = xcalloc(1, sizeof(*queue));
	queue->transport = t;
	queue->name = xstrdup(key);
	queue->nexthop = xstrdup(nexthop);
	queue->window = t->qmgr->initial_concurrency;
	if (t->concurrency_limit > 0 && queue->window > t->concurrency_limit)
		queue->window = t->concurrency_limit;
	if (t->rate_delay_ms > 0)
		queue->window = 1;
	(void)htable_insert(t->queues, key, queue);
	return queue;
}

static void
queue_free(void *value)
{
	struct qmgr_queue *queue = value;

	free(queue->name);
	free(queue->nexthop);
	free(queue->dead_reason);
	free(queue->dead_dsn);
	free(queue);
}

/* Forget a queue that has nothing to do and nothing to remember. */
static void
queue_maybe_free(struct qmgr_queue *queue)
{
	if (queue->busy == 0 && queue->pending == 0 && !queue->is_dead)
		(void)htable_remove(queue->transport->queues, queue->name,
				    queue_free);
}

static void
queue_append(struct qmgr_queue *queue, struct qmgr_entry *entry)
{
	struct qmgr_job *job = queue->jobs_tail;

	/* The message's job is the last one while its entries are added. */
	if (job == NULL || job->tail->msg != entry->msg) {
		job = xcalloc(1, sizeof(*job));
		if (queue->jobs_tail)
			queue->jobs_tail->next = job;
		else
			queue->jobs_head = job;
		queue->jobs_tail = job;
	}
	if (job->tail)
		job->tail->next = entry;
	else
		job->head = entry;
	job->tail = entry;
	queue->pending++;
}

/* The next entry: the first job's first entry; that job goes last. */
static struct qmgr_entry *
queue_take(struct qmgr_queue *queue)
{
	struct qmgr_job *job = queue->jobs_head;
	struct qmgr_entry *entry = job->head;

	job->head = entry->next;
	entry->next = NULL;
	queue->jobs_head = job->next;
	if (queue->jobs_head == NULL)
		queue->jobs_tail = NULL;
	job->next = NULL;
	if (job->head == NULL) {
		free(job);
	} else {
		job->tail = job->head ? job->tail : NULL;
		if (queue->jobs_tail)
			queue->jobs_tail->next = job;
		else
			queue->jobs_head = job;
		queue->jobs_tail = job;
	}
	queue->pending--;
	return entry;
}

/* Defer everything waiting in a queue. */
static void
queue_defer_pending(struct qmgr_queue *queue, const char *dsn,
		    const char *reason)
{
	while (queue->pending > 0)
		qmgr_entry_defer(queue_take(queue), "none", dsn, reason);
}

/* ------------------------------------------------------------------ */
/* Dead destinations and transports.                                    */

static void
queue_unthrottle(struct event_loop *loop, void *ctx)
{
	struct qmgr_queue *queue = ctx;

	(void)loop;
	queue->unthrottle_timer = 0;
	queue->is_dead = false;
	queue->window = queue->transport->qmgr->initial_concurrency;
	queue->failures = queue->failed_cohorts = 0;
	queue_maybe_free(queue);
}

static void
queue_dead(struct qmgr_queue *queue, const char *dsn, const char *reason)
{
	struct qmgr *q = queue->transport->qmgr;
	char text[ERR_TEXT_MAX + 64];

	queue->is_dead = true;
	free(queue->dead_reason);
	free(queue->dead_dsn);
	snprintf(text, sizeof(text), "delivery temporarily suspended: %s",
		 reason);
	queue->dead_reason = xstrdup(text);
	queue->dead_dsn = xstrdup(dsn[0] == '4' ? dsn : "4.4.1");
	queue_defer_pending(queue, queue->dead_dsn, queue->dead_reason);
	queue->unthrottle_timer = event_timer_add(
		q->loop, (int)(q->min_backoff * 1000), queue_unthrottle, queue);
}

void
qmgr_sched_feedback(struct qmgr_queue *queue, bool is_ok, const char *dsn,
		    const char *reason)
{
	struct qmgr_transport *t = queue->transport;

	if (is_ok) {
		queue->failed_cohorts = 0;
		if ((t->concurrency_limit == 0 ||
		     queue->window < t->concurrency_limit) &&
		    t->rate_delay_ms == 0) {
			queue->credit +=
				conc_feedback_step(&t->positive, queue->window);
			for (; queue->credit >= 1; queue->credit -= 1)
				queue->window++;
			if (t->concurrency_limit > 0 &&
			    queue->window > t->concurrency_limit)
				queue->window = t->concurrency_limit;
		}
	} else if (!queue->is_dead) {
		/* A cohort is as many failures as the window was wide. */
		if (++queue->failures >= queue->window) {
			queue->failures = 0;
			queue->failed_cohorts++;
		}
		queue->credit -= conc_feedback_step(&t->negative, queue->window);
		for (; queue->credit <= -1; queue->credit += 1)
			if (queue->window > 1)
				queue->window--;
		if (queue->failed_cohorts >= t->qmgr->failed_cohort_limit &&
		    queue->window <= 1)
			queue_dead(queue, dsn, reason);
	}
	queue_maybe_free(queue);
}

static void
transport_unthrottle(struct event_loop *loop, void *ctx)
{
	struct qmgr_transport *t = ctx;

	(void)loop;
	t->unthrottle_timer = 0;
	t->is_dead = false;
	qmgr_request_scan(t->qmgr);
}

void
qmgr_sched_transport_dead(struct qmgr_transport *t, const char *reason)
{
	struct htable_entry **entries;

	if (!t->is_dead) {
		log_warning("transport %s failed: %s", t->name, reason);
		t->is_dead = true;
		t->unthrottle_timer = event_timer_add(
			t->qmgr->loop, (int)(t->qmgr->transport_retry * 1000),
			transport_unthrottle, t);
	}
	free(t->dead_reason);
	t->dead_reason = xstrdup("mail transport unavailable");
	entries = htable_entries(t->queues, false);
	for (size_t i = 0; entries[i]; i++)
		queue_defer_pending(entries[i]->value, "4.3.0", t->dead_reason);
	free(entries);
}

void
qmgr_sched_forget_dead(struct qmgr *q)
{
	struct htable_entry **ts = htable_entries(q->transports, false);

	for (size_t i = 0; ts[i]; i++) {
		struct qmgr_transport *t = ts[i]->value;
		struct htable_entry **qs = htable_entries(t->queues, false);

		if (t->is_dead) {
			(void)event_timer_cancel(q->loop, t->unthrottle_timer);
			transport_unthrottle(q->loop, t);
		}
		for (size_t j = 0; qs[j]; j++) {
			struct qmgr_queue *queue = qs[j]->value;

			if (queue->is_dead) {
				(void)event_timer_cancel(q->loop,
							 queue->unthrottle_timer);
				queue_unthrottle(q->loop, queue);
			}
		}
		free(qs);
	}
	free(ts);
}

/* ------------------------------------------------------------------ */
/* Adding a message.                                                    */

/* Recipients of one message bound for one queue. */
struct rcpt_group {
	struct qmgr_queue *queue;
	size_t *index;
	size_t count, cap;
};

static bool
is_deferred_transport(const struct qmgr *q, const char *transport)
{
	char *list = xstrdup(q->defer_transports);
	char *cp = list, *word;
	bool found = false;

	while (!found && (word = str_token(&cp, TOKENS_LIST_DELIMS)) != NULL)
		found = strcmp(word, transport) == 0;
	free(list);
	return found;
}


/*
 * A FILTER action "transport:nexthop" sends every recipient through that
 * transport; without a nexthop (or with an empty one) the recipient's own
 * nexthop stays. -1 for a filter without a transport name.
 */
static int
filter_apply(const char *filter, struct resolve_reply *reply)
{
	const char *colon = strchr(filter, ':');
	size_t len = colon ? (size_t)(colon - filter) : strlen(filter);

	if (len == 0)
		return -1;
	free(reply->transport);
	reply->transport = xstrndup(filter, len);
	if (colon != NULL && colon[1] != 0) {
		free(reply->nexthop);
		reply->nexthop = xstrdup(colon + 1);
	}
	return 0;
}

/*
 * Where recipient i goes: its queue, or NULL after deferring it here
 * (resolver failure, deferred transport, dead transport or queue).
 */
static struct qmgr_queue *
rcpt_queue(struct qmgr *q, struct qmgr_message *msg, size_t i)
{
	struct resolve_reply reply = { 0 };
	struct qmgr_transport *t;
	struct qmgr_queue *queue = NULL;
	char *key;

	if (resolve_addr(q->resolve, msg->redirect_to ? msg->redirect_to
						      : msg->rcpts[i].address,
			 &reply) < 0) {
		defer_rcpts(msg, &i, 1, "none", "4.3.0",
			    "address resolver failure");
	} else if (msg->content_filter != NULL &&
		   filter_apply(msg->content_filter, &reply) < 0) {
		defer_rcpts(msg, &i, 1, "none", "4.3.5",
			    "mail system configuration error: bad content "
			    "filter");
	} else if (is_deferred_transport(q, reply.transport)) {
		defer_rcpts(msg, &i, 1, "none", "4.3.2", "deferred transport");
	} else if ((t = transport_get(q, reply.transport))->is_dead) {
		defer_rcpts(msg, &i, 1, "none", "4.3.0", t->dead_reason);
	} else {
		key = str_lowercase(xstrdup(t->recipient_limit == 1
						    ? msg->rcpts[i].address
						    : reply.nexthop));
		queue = queue_get(t, key, reply.nexthop);
		free(key);
		if (queue->is_dead) {
			defer_rcpts(msg, &i, 1, "none", queue->dead_dsn,
				    queue->dead_reason);
			queue = NULL;
		}
	}
	resolve_reply_free(&reply);
	return queue;
}

static void
group_add(struct rcpt_group **groups, size_t *count,
	  struct qmgr_queue *queue, size_t i)
{
	struct rcpt_group *g = NULL;

	for (size_t k = 0; k < *count && g == NULL; k++)
		if ((*groups)[k].queue == queue)
			g = &(*groups)[k];
	if (g == NULL) {
		*groups = xrealloc(*groups, (*count + 1) * sizeof(**groups));
		g = &(*groups)[(*count)++];
		*g = (struct rcpt_group){ .queue = queue };
	}
	if (g->count == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 4;
		g->index = xrealloc(g->index, g->cap * sizeof(*g->index));
	}
	g->index[g->count++] = i;
}

/* Cut a group into entries of at most the recipient limit. */
static void
group_to_entries(struct qmgr_message *msg, struct rcpt_group *g)
{
	size_t limit = g->queue->transport->recipient_limit > 0
			       ? (size_t)g->queue->transport->recipient_limit
			       : g->count;

	for (size_t done = 0; done < g->count; done += limit) {
		struct qmgr_entry *entry = xcalloc(1, sizeof(*entry));
		size_t n = g->count - done < limit ? g->count - done : limit;

		entry->msg = msg;
		entry->queue = g->queue;
		entry->rcpt_count = n;
		entry->rcpt_index = xmalloc(n * sizeof(size_t));
		memcpy(entry->rcpt_index, g->index + done, n * sizeof(size_t));
		msg->refcount++;
		queue_append(g->queue, entry);
	}
}

void
qmgr_sched_add_message(struct qmgr *q, struct qmgr_message *msg)
{
	struct rcpt_group *groups = NULL;
	size_t group_count = 0;

	for (size_t i = 0; i < msg->rcpt_count; i++) {
		struct qmgr_queue *queue = rcpt_queue(q, msg, i);

		if (queue != NULL)
			group_add(&groups, &group_count, queue, i);
	}
	for (size_t k = 0; k < group_count; k++) {
		group_to_entries(msg, &groups[k]);
		free(groups[k].index);
	}
	free(groups);
}

/* ------------------------------------------------------------------ */
/* Choosing deliveries.                                                 */

static void
sched_timer(struct event_loop *loop, void *ctx)
{
	(void)loop;
	qmgr_sched_run(ctx);
}

/* May this queue start a delivery now? Arms a timer for a rate delay. */
static bool
queue_is_ready(struct qmgr_queue *queue, int64_t now)
{
	struct qmgr_transport *t = queue->transport;

	if (queue->pending == 0 || queue->is_dead ||
	    queue->busy >= queue->window ||
	    t->busy >= t->qmgr->process_limit)
		return false;
	if (t->rate_delay_ms > 0 && now < queue->next_delivery_ms) {
		(void)event_timer_add(t->qmgr->loop,
				      (int)(queue->next_delivery_ms - now),
				      sched_timer, t->qmgr);
		return false;
	}
	return true;
}

/* Start at most one delivery per ready queue; true if any started. */
static bool
transport_round(struct qmgr *q, struct qmgr_transport *t, int64_t now)
{
	struct htable_entry **qs = htable_entries(t->queues, false);
	bool started = false;

	for (size_t j = 0; qs[j] && !t->is_dead; j++) {
		struct qmgr_queue *queue = qs[j]->value;

		if (!queue_is_ready(queue, now))
			continue;
		queue->next_delivery_ms = now + t->rate_delay_ms;
		qmgr_deliver_start(q, queue_take(queue));
		started = true;
	}
	free(qs);
	return started;
}

void
qmgr_sched_run(struct qmgr *q)
{
	struct htable_entry **ts = htable_entries(q->transports, false);
	int64_t now = event_time_ms();
	bool started = true;

	while (started) {
		started = false;
		for (size_t i = 0; ts[i]; i++) {
			struct qmgr_transport *t = ts[i]->value;

			if (!t->is_dead && transport_round(q, t, now))
				started = true;
		}
	}
	free(ts);
}
