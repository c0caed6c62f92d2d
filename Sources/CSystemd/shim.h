#ifndef UCWA_EVENTD_CSYSTEMD_SHIM_H
#define UCWA_EVENTD_CSYSTEMD_SHIM_H
// libsystemd for Swift. sd_journal_send and sd_notifyf are variadic; Swift calls the
// non-variadic forms (sd_journal_sendv with an iovec array, sd_notify with a preformatted
// string). The wrappers below exist so that callers never build a C varargs list.
// Without this, sd-journal.h turns sd_journal_sendv into a macro that adds CODE_FILE (this
// header's path in the build tree), CODE_LINE and CODE_FUNC to every entry: noise in every
// record, and a leak of where the binary was built.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
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
