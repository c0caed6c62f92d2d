#ifndef UCWA_EVENTD_CSYSTEMD_SHIM_H
#define UCWA_EVENTD_CSYSTEMD_SHIM_H
// libsystemd for Swift. sd_journal_send and sd_notifyf are variadic; Swift calls the
// non-variadic forms (sd_journal_sendv with an iovec array, sd_notify with a preformatted
// string). The wrappers below exist so that callers never build a C varargs list.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>

/// Sends one journal entry made of `count` "FIELD=value" iovecs. Returns 0 or a negative errno.
static inline int ucwa_sd_journal_sendv(const struct iovec *fields, int count) {
    return sd_journal_sendv(fields, count);
}

/// Sends a preformatted notification ("READY=1\nSTATUS=..."). Returns >0 when sent, 0 when
/// $NOTIFY_SOCKET is unset, a negative errno on failure.
static inline int ucwa_sd_notify(int unset_environment, const char *state) {
    return sd_notify(unset_environment, state);
}
#endif
