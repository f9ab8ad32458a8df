/* core/worker.c - a background thread repeating one step; see worker.h. */
#include "core/worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	unsigned (*step)(void *arg);
	void *arg;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	unsigned wait = 0;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec until;

		if (wait) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += wait / 1000;
			until.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
			if (w->stop)
				break;
		}
		pthread_mutex_unlock(&w->mu);
		wait = w->step(w->arg);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void worker_free(struct worker *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int worker_start(struct worker **out, unsigned (*step)(void *arg), void *arg, const char *what)
{
	struct worker *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->step = step;
	w->arg = arg;
	*out = w;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		*out = NULL;
		worker_free(w);
		return err_set(OTCM_EINTERNAL, NULL, "cannot start %s", what);
	}
	return 0;
}

bool worker_stopping(struct worker *w)
{
	bool stop;

	pthread_mutex_lock(&w->mu);
	stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

void worker_stop(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	worker_free(w);
}
