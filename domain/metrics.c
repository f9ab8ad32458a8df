/* domain/metrics.c - reading the metrics' database side; see metrics.h. */
#include "domain/metrics.h"

#include <assert.h>

int dom_metrics_read(struct monitor_state *out, struct db_pool_stats *out_pool, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc;

	assert(out && out_pool && d);
	if ((rc = dom_permit(d, OP_METRICS_READ)))
		return rc;
	/* the pool's use before this read borrows one of its connections */
	db_pool_stats(out_pool, d->db);
	if ((rc = dom_conn(&c, d)))
		goto out;
	rc = monitor_read(out, c);
out:
	dom_end(c);
	return rc;
}
