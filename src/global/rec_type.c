/*
 * rec_type.c - names of the queue file record types.
 *
 * The names are the ones Postfix's postcat prints, so that people and
 * scripts reading postcat output find the same words.
 */
#include <stddef.h>
#include <string.h>

#include "global/rec_type.h"

struct rec_type_info {
	int type;
	const char *name;
};

static const struct rec_type_info rec_types[] = {
	{ REC_TYPE_SIZE, "message_size" },
	{ REC_TYPE_TIME, "message_arrival_time" },
	{ REC_TYPE_FULL, "sender_fullname" },
	{ REC_TYPE_FROM, "sender" },
	{ REC_TYPE_ATTR, "named_attribute" },
	{ REC_TYPE_WARN, "warning_message_time" },
	{ REC_TYPE_ORCP, "original_recipient" },
	{ REC_TYPE_DSN_NOTIFY, "dsn_notify_flags" },
	{ REC_TYPE_DSN_ORCPT, "dsn_original_recipient" },
	{ REC_TYPE_DSN_ENVID, "dsn_envelope_id" },
	{ REC_TYPE_DSN_RET, "dsn_return_flags" },
	{ REC_TYPE_RCPT, "recipient" },
	{ REC_TYPE_DONE, "done_recipient" },
	{ REC_TYPE_DRCP, "canceled_recipient" },
	{ REC_TYPE_MESG, "message_content" },
	{ REC_TYPE_NORM, "content_line" },
	{ REC_TYPE_CONT, "content_piece" },
	{ REC_TYPE_XTRA, "extracted_segment" },
	{ REC_TYPE_END, "message_end" },
};

const char *
rec_type_name(int type)
{
	for (size_t i = 0; i < sizeof(rec_types) / sizeof(rec_types[0]); i++)
		if (rec_types[i].type == type)
			return rec_types[i].name;
	return NULL;
}

bool
rec_type_is_known(int type)
{
	return rec_type_name(type) != NULL;
}

bool
rec_type_is_text(int type)
{
	return rec_type_is_known(type) && type != REC_TYPE_NORM &&
	       type != REC_TYPE_CONT;
}

bool
rec_type_in_segment(enum rec_segment seg, int type)
{
	static const char *const allowed[] = {
		[REC_SEG_ENVELOPE] = "TFSAWOnoi<RD/M",
		[REC_SEG_CONTENT] = "NLX",
		[REC_SEG_EXTRACTED] = "AOnoRD/E",
		[REC_SEG_END] = "",
	};

	if (type <= 0 || type > 0x7f || (unsigned)seg > REC_SEG_END)
		return false;
	return strchr(allowed[seg], type) != NULL;
}

int
rec_type_opens_segment(int type)
{
	switch (type) {
	case REC_TYPE_MESG:
		return REC_SEG_CONTENT;
	case REC_TYPE_XTRA:
		return REC_SEG_EXTRACTED;
	case REC_TYPE_END:
		return REC_SEG_END;
	default:
		return -1;
	}
}

int
rec_attr_trace_flags(const char *data, int *flags)
{
	static const char name[] = REC_ATTR_TRACE_FLAGS "=";
	const char *digits = data + sizeof(name) - 1;
	long value = 0;

	if (strncmp(data, name, sizeof(name) - 1) != 0)
		return 0;
	if (*digits == 0 || strlen(digits) > 5)
		return -1;
	for (const char *cp = digits; *cp; cp++) {
		if (*cp < '0' || *cp > '9')
			return -1;
		value = value * 10 + (*cp - '0');
	}
	if ((value & ~(long)REC_TRACE_FLAG_MASK) != 0)
		return -1;
	*flags = (int)value;
	return 1;
}
