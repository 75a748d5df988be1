/*
 * qmgr_trigger.h - the wake-up requests qmgr understands, one byte each,
 * sent to its public/qmgr fifo or unix socket (global/mail_trigger.h).
 * Several may be sent together ("FA").
 */
#ifndef POSTERN_GLOBAL_QMGR_TRIGGER_H
#define POSTERN_GLOBAL_QMGR_TRIGGER_H

#define QMGR_REQ_WAKEUP 'W'        /* master's timer: the periodic run */
#define QMGR_REQ_SCAN_INCOMING 'I' /* cleanup: new mail in incoming/ */
#define QMGR_REQ_SCAN_DEFERRED 'D' /* deferred/ files whose time has come */
#define QMGR_REQ_SCAN_ALL 'A'      /* deferred/ files, ignoring back-off */
#define QMGR_REQ_FLUSH_DEAD 'F'    /* forget dead destinations */

#endif
