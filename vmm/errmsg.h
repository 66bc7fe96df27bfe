/*
 * errmsg.h - the one way an edge function explains a failure: format a
 * one-line message into the caller's buffer and return the code (a
 * -errno or a VMM_EXIT_* status), so `return errmsg(err, n, rc, ...)`
 * reports and fails in one statement. main() prints the message once.
 */
#ifndef VMM_ERRMSG_H
#define VMM_ERRMSG_H

#include <stddef.h>

int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
