/*
 * core/worker.h - a background thread that repeats one step until it is
 * stopped: the loop the syslog delivery, the webhook delivery, the
 * advisory folder's watch and the audit checkpoint writer share.
 *
 * The step runs without any lock held and returns how many milliseconds to
 * wait before it runs again (0: at once); worker_stop() wakes a waiting
 * worker at once, and a long step may look at worker_stopping() to end
 * early.
 *
 * Thread-safety: worker_stopping() may be called from the step's thread;
 * worker_start() and worker_stop() from the thread that owns the worker.
 */
#ifndef OTCM_CORE_WORKER_H
#define OTCM_CORE_WORKER_H

#include <stdbool.h>

struct worker;

/*
 * Start a thread calling step(arg) until worker_stop().  *out is set
 * before the thread starts, so the step may read it.  OTCM_EINTERNAL
 * naming `what` ("the syslog delivery") when no thread can be made; *out
 * is then NULL.
 */
int worker_start(struct worker **out, unsigned (*step)(void *arg), void *arg, const char *what);

/* Has worker_stop() been called? */
bool worker_stopping(struct worker *w);

/* Ask the worker to stop, wake it, wait for its step to end, and free it.  NULL is fine. */
void worker_stop(struct worker *w);

#endif
