/*
 * rec_type.h - the record types of a queue file, and their fixed formats.
 *
 * A queue file is a sequence of records (see record.h), in four segments:
 *     envelope   C (first), T, S, F, A, W, and recipient groups
 *                [O] [n] [o] R|D|/ ; ends with M
 *     content    N and L records, the message lines; ends with X
 *     extracted  what was found while reading the content, or added later:
 *                A, recipient groups
 *     end        E, the last record of a complete file
 * The letters are Postfix's, so "postcat -d" prints the same numbers.
 * A recipient is marked done by overwriting its type byte 'R' with 'D' in
 * place: one byte, so a crash can never leave it half written. The size
 * and warning-time records have fixed-width data for the same reason.
 */
#ifndef POSTERN_GLOBAL_REC_TYPE_H
#define POSTERN_GLOBAL_REC_TYPE_H

#include <stdbool.h>

enum rec_type {
	REC_TYPE_SIZE = 'C',       /* REC_SIZE_FORMAT, always the first */
	REC_TYPE_TIME = 'T',       /* arrival time: "seconds microseconds" */
	REC_TYPE_FULL = 'F',       /* sender full name (sendmail -F) */
	REC_TYPE_FROM = 'S',       /* envelope sender; empty for <> */
	REC_TYPE_ATTR = 'A',       /* named attribute "name=value" */
	REC_TYPE_WARN = 'W',       /* REC_WARN_FORMAT: delay warning time */
	REC_TYPE_ORCP = 'O',       /* original recipient, before rewriting */
	REC_TYPE_DSN_NOTIFY = 'n', /* decimal DSN NOTIFY mask, REC_DSN_* */
	REC_TYPE_DSN_ORCPT = 'o',  /* DSN ORCPT "type;address" */
	REC_TYPE_DSN_ENVID = 'i',  /* DSN ENVID (envelope segment only) */
	REC_TYPE_DSN_RET = '<',    /* decimal DSN RET, REC_DSN_RET_* */
	REC_TYPE_RCPT = 'R',       /* recipient still to deliver */
	REC_TYPE_DONE = 'D',       /* recipient finished (was 'R') */
	REC_TYPE_DRCP = '/',       /* recipient cancelled before delivery */
	REC_TYPE_MESG = 'M',       /* start of content; empty data */
	REC_TYPE_NORM = 'N',       /* a content line, without its newline */
	REC_TYPE_CONT = 'L',       /* a piece of a longer content line */
	REC_TYPE_XTRA = 'X',       /* start of the extracted segment */
	REC_TYPE_END = 'E',        /* end of a complete file; empty data */
};

/*
 * Size record data: six decimal fields, each right-aligned in 15 columns,
 * separated by single spaces (95 bytes), as Postfix writes it:
 *     content segment size   bytes from the first content record to X
 *     content offset         file offset of the first content record
 *     recipient count        R + D + / records in the whole file
 *     qmgr options           flags for the queue manager
 *     content length         bytes of the content records (N and L)
 *     smtputf8               SMTPUTF8 flags
 * Written as zeros when the file is created, and rewritten in place
 * (same width) when it is complete. The content length is what the queue
 * manager logs as "size=": counted in record bytes as Postfix counts it,
 * a record's two header bytes standing in for the CRLF of a line on the
 * wire, so the same message logs the same size under both. It equals the
 * content segment size, since the content holds nothing but N and L.
 */
#define REC_SIZE_FORMAT "%15lld %15lld %15lld %15lld %15lld %15lld"
#define REC_SIZE_FIELDS 6
#define REC_SIZE_WIDTH 15
#define REC_SIZE_LEN (REC_SIZE_FIELDS * (REC_SIZE_WIDTH + 1) - 1)

/* Warning time record data: one decimal field of 15 columns. */
#define REC_WARN_FORMAT "%15lld"
#define REC_WARN_LEN REC_SIZE_WIDTH

/* DSN NOTIFY bits (REC_TYPE_DSN_NOTIFY) and RET values (REC_TYPE_DSN_RET). */
#define REC_DSN_NOTIFY_NEVER 1
#define REC_DSN_NOTIFY_SUCCESS 2
#define REC_DSN_NOTIFY_FAILURE 4
#define REC_DSN_NOTIFY_DELAY 8
#define REC_DSN_RET_FULL 1
#define REC_DSN_RET_HDRS 2

/*
 * Named attributes (REC_TYPE_ATTR "name=value") Postfix writes, with its
 * names, so postcat output reads the same.
 */
#define REC_ATTR_CREATE_TIME "create_time"
#define REC_ATTR_LOG_IDENT "log_ident"
#define REC_ATTR_REWRITE_CONTEXT "rewrite_context"
#define REC_ATTR_CLIENT_NAME "client_name"
#define REC_ATTR_REVERSE_CLIENT_NAME "reverse_client_name"
#define REC_ATTR_CLIENT_ADDRESS "client_address"
#define REC_ATTR_CLIENT_PORT "client_port"
#define REC_ATTR_CLIENT_ADDRESS_TYPE "client_address_type"
#define REC_ATTR_SERVER_ADDRESS "server_address"
#define REC_ATTR_SERVER_PORT "server_port"
#define REC_ATTR_HELO_NAME "helo_name"
#define REC_ATTR_PROTOCOL_NAME "protocol_name"
#define REC_ATTR_LOG_CLIENT_NAME "log_client_name"
#define REC_ATTR_LOG_CLIENT_ADDRESS "log_client_address"
#define REC_ATTR_LOG_CLIENT_PORT "log_client_port"
#define REC_ATTR_LOG_MESSAGE_ORIGIN "log_message_origin"
#define REC_ATTR_LOG_HELO_NAME "log_helo_name"
#define REC_ATTR_LOG_PROTOCOL_NAME "log_protocol_name"
#define REC_ATTR_SASL_METHOD "sasl_method"
#define REC_ATTR_SASL_USERNAME "sasl_username"
#define REC_ATTR_SASL_SENDER "sasl_sender"
/* The body type: BODY=8BITMIME gives "8bit", BODY=7BIT "7bit". */
#define REC_ATTR_ENCODING "encoding"
#define REC_ATTR_ENC_8BIT "8bit"
#define REC_ATTR_ENC_7BIT "7bit"
/* Extracted segment: header/body checks FILTER and REDIRECT (Postfix has
 * record types of its own for these; the last one of each counts). */
#define REC_ATTR_CONTENT_FILTER "content_filter"
#define REC_ATTR_REDIRECT_TO "redirect_to"

/*
 * sendmail's report requests, "trace_flags=N" with Postfix's bit values:
 * -bv (verify: report what delivery would do, deliver nothing) and -v
 * (deliver, and report every outcome of the first attempt).
 */
#define REC_ATTR_TRACE_FLAGS "trace_flags"
#define REC_TRACE_FLAG_VERIFY 512
#define REC_TRACE_FLAG_RECORD 1024
#define REC_TRACE_FLAG_MASK (REC_TRACE_FLAG_VERIFY | REC_TRACE_FLAG_RECORD)

/* Longest attribute name accepted in a named attribute record. */
#define REC_ATTR_NAME_MAX 64

/* The segments of a queue file, in file order. */
enum rec_segment {
	REC_SEG_ENVELOPE,
	REC_SEG_CONTENT,
	REC_SEG_EXTRACTED,
	REC_SEG_END,
};

/*
 * True if a record of type may appear in segment seg. The record that
 * opens the next segment (M in the envelope, X in the content, E in the
 * extracted segment) counts as part of the segment it closes. The size
 * record is allowed nowhere: it is only ever the first record.
 */
bool rec_type_in_segment(enum rec_segment seg, int type);

/* The segment that the marker record type opens (M, X, E), else -1. */
int rec_type_opens_segment(int type);

/*
 * The name postcat shows for a record type ("recipient", "sender", ...;
 * Postfix's words), or NULL for a type that is not part of the format.
 */
const char *rec_type_name(int type);

/* True if type is one of enum rec_type. */
bool rec_type_is_known(int type);

/*
 * For the data of a named attribute record: 1 with *flags when it is
 * "trace_flags=N" with N a decimal of REC_TRACE_FLAG_* bits only; 0 for
 * another attribute; -1 for a trace_flags attribute with any other value.
 */
int rec_attr_trace_flags(const char *data, int *flags);

/*
 * True for types whose data is text that must not contain a NUL byte
 * (everything except the content records N and L).
 */
bool rec_type_is_text(int type);

#endif
