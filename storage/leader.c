/* storage/leader.c - one node runs the background work; see leader.h. */
#include "storage/leader.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

struct leader {
	struct db_pool *pool;
	struct db_conn *session;   /* NULL until connected */
	bool leading;
	int64_t key;
	const char *work;
};

int leader_new_for(struct leader **out, struct db_pool *pool, int64_t key, const char *work)
{
	struct leader *l = xcalloc(1, sizeof(*l));

	l->pool = pool;
	l->key = key;
	l->work = work;
	*out = l;
	return 0;
}

int leader_new(struct leader **out, struct db_pool *pool)
{
	return leader_new_for(out, pool, LEADER_LOCK_KEY, "checkpoint signing");
}

static void drop_session(struct leader *l)
{
	if (l->leading)
		log_msg(LOG_WARN, "this node no longer runs the background work (%s): "
			"its database session was lost", l->work);
	db_disconnect(l->session);
	l->session = NULL;
	l->leading = false;
}

bool leader_hold(struct leader *l)
{
	bool got = false;

	if (l->session && db_ping(l->session) != 0)
		drop_session(l);
	if (l->leading)
		return true;
	if (!l->session && db_pool_connect(&l->session, l->pool) != 0) {
		l->session = NULL;
		err_clear();
		return false;
	}
	if (db_try_lock(&got, l->session, l->key) != 0) {
		drop_session(l);
		err_clear();
		return false;
	}
	if (got) {
		l->leading = true;
		log_msg(LOG_INFO, "this node runs the background work (%s)", l->work);
	}
	return l->leading;
}

void leader_free(struct leader *l)
{
	if (!l)
		return;
	db_disconnect(l->session);
	free(l);
}
