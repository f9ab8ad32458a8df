/*
 * server/forward.c - delivering the audit trail to a syslog collector;
 * see forward.h.  Plain POSIX sockets, non-blocking with poll() so that
 * no send can hang the thread past FORWARD_IO_MS; tls:// runs a
 * core/tls.h session over the same socket.
 */
#include "server/forward.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/tls.h"
#include "core/worker.h"
#include "storage/delivery.h"
#include "storage/leader.h"

#define FORWARD_BATCH 200          /* events per read and send */
#define FORWARD_IDLE_MS 200        /* between looks when there is nothing new */
#define FORWARD_FOLLOWER_MS 1000   /* between looks while another node leads */
#define FORWARD_BACKOFF_MIN_MS 250
#define FORWARD_BACKOFF_MAX_MS 5000
#define FORWARD_IO_MS 10000        /* connect, send, or acknowledgement */

struct forward {
	struct worker *worker;
	struct db_pool *pool;
	struct leader *leader;
	struct siem_url url;
	enum siem_format format;
	char *destination;            /* the mark's name: "syslog tcp://..." */
	char *host, *version;
	char *ca_file;                /* tls:// trust anchors; NULL: the system's */
	int fd;                       /* -1 while not connected */
	struct tls_conn *tls;         /* the session over fd for tls:// */
	unsigned backoff_ms;
	bool outage_logged;
};

static void conn_close(struct forward *f)
{
	tls_free(f->tls);
	f->tls = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static int64_t ms_left(int64_t deadline_us)
{
	int64_t left = (deadline_us - time_mono_us()) / 1000;

	return left > 0 ? left : 0;
}

/* Connect to the collector (any of its addresses) within FORWARD_IO_MS. */
static int conn_open(struct forward *f)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL, *a;
	int64_t deadline = time_mono_us() + (int64_t)FORWARD_IO_MS * 1000;
	int rc, fd = -1, soerr = 0;

	rc = getaddrinfo(f->url.host, f->url.port, &hints, &ai);
	if (rc)
		return err_set(OTCM_EIO, "syslog", "cannot resolve '%s': %s", f->url.host,
			       gai_strerror(rc));
	rc = OTCM_EIO;
	for (a = ai; a; a = a->ai_next) {
		struct pollfd p;
		socklen_t len = sizeof(soerr);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		soerr = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			soerr = errno;
			if (soerr == EINPROGRESS) {
				p = (struct pollfd){ .fd = fd, .events = POLLOUT };
				soerr = poll(&p, 1, (int)ms_left(deadline)) == 1 &&
					getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 ?
					soerr : ETIMEDOUT;
			}
		}
		if (soerr == 0) {
			f->fd = fd;
			rc = 0;
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (rc)
		return err_set(rc, "syslog", "cannot connect to %s:%s: %s", f->url.host, f->url.port,
			       strerror(soerr ? soerr : ECONNREFUSED));
	if (f->url.tls && (rc = tls_connect(&f->tls, f->fd, f->url.host, f->ca_file,
					    (int)ms_left(deadline) + 1)))
		conn_close(f);
	return rc;
}

/*
 * Is the connection still usable?  A collector that closed it (or reset
 * it) is found here, before anything more is written into a socket whose
 * bytes would never arrive.  Anything the collector sent is read and
 * dropped: syslog over TCP has no replies.
 */
static bool conn_alive(struct forward *f)
{
	char drain[512];

	if (f->tls) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN | POLLRDHUP };

		if (poll(&p, 1, 0) < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return false;
		return tls_alive(f->tls);
	}
	for (;;) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN | POLLRDHUP };
		ssize_t n;

		if (poll(&p, 1, 0) < 0)
			return false;
		if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
			return false;
		if (!(p.revents & POLLIN))
			return true;
		n = recv(f->fd, drain, sizeof(drain), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return false;
	}
}

/* Write all of b, then wait until the collector's TCP acknowledged every byte. */
static int conn_send(struct forward *f, const struct buf *b)
{
	int64_t deadline = time_mono_us() + (int64_t)FORWARD_IO_MS * 1000;
	size_t off = 0;

	if (f->tls && tls_write_all(f->tls, b->data, b->len, FORWARD_IO_MS))
		return OTCM_EIO;
	while (!f->tls && off < b->len) {
		struct pollfd p = { .fd = f->fd, .events = POLLOUT };
		ssize_t n = send(f->fd, b->data + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return err_set(OTCM_EIO, "syslog", "sending to %s:%s: %s", f->url.host,
				       f->url.port, strerror(errno));
		if (ms_left(deadline) == 0 || poll(&p, 1, (int)ms_left(deadline)) < 0)
			return err_set(OTCM_EIO, "syslog", "sending to %s:%s timed out", f->url.host,
				       f->url.port);
	}
	/* written is not yet taken: wait for the acknowledgement of the last byte */
	for (;;) {
		int unacked = 0;

		if (ioctl(f->fd, SIOCOUTQ, &unacked) != 0)
			return err_set(OTCM_EIO, "syslog", "cannot read the send queue: %s",
				       strerror(errno));
		if (unacked == 0)
			return 0;
		if (!conn_alive(f))
			return err_set(OTCM_EIO, "syslog", "%s:%s closed the connection before it "
				       "took %d bytes", f->url.host, f->url.port, unacked);
		if (ms_left(deadline) == 0)
			return err_set(OTCM_EIO, "syslog", "%s:%s did not acknowledge %d bytes",
				       f->url.host, f->url.port, unacked);
		{
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

/* A delivery failed: drop the connection and wait longer before the next try. */
static unsigned failed(struct forward *f)
{
	unsigned wait = f->backoff_ms ? f->backoff_ms : FORWARD_BACKOFF_MIN_MS;

	if (!f->outage_logged)
		log_msg(LOG_WARN, "syslog delivery to %s:%s paused, retrying: %s", f->url.host,
			f->url.port, err_message());
	f->outage_logged = true;
	err_clear();
	conn_close(f);
	f->backoff_ms = wait * 2 > FORWARD_BACKOFF_MAX_MS ? FORWARD_BACKOFF_MAX_MS : wait * 2;
	return wait;
}

/* One look: send the next batch if there is one.  Returns ms to wait before the next. */
static unsigned forward_step(void *arg)
{
	struct forward *f = arg;
	struct delivery_batch batch = { 0 };
	struct db_conn *c = NULL;
	struct buf out = BUF_INIT, msg = BUF_INIT;
	int64_t mark = 0;
	unsigned wait = FORWARD_IDLE_MS;
	int rc;

	if (!leader_hold(f->leader)) {
		conn_close(f);
		return FORWARD_FOLLOWER_MS;
	}
	if ((rc = db_acquire(&c, f->pool)) ||
	    (rc = delivery_mark_get(&mark, c, f->destination)) ||
	    (rc = delivery_batch_read(&batch, c, mark, FORWARD_BATCH))) {
		log_msg(LOG_WARN, "syslog delivery cannot read the audit trail: %s", err_message());
		err_clear();
		wait = FORWARD_FOLLOWER_MS;
		goto out;
	}
	db_release(c);
	c = NULL;
	if (batch.n == 0)
		goto out;
	if (f->fd >= 0 && !conn_alive(f))
		conn_close(f);
	if (f->fd < 0 && conn_open(f)) {
		wait = failed(f);
		goto out;
	}
	for (size_t i = 0; i < batch.n; i++) {
		buf_reset(&msg);
		if ((rc = siem_format(&msg, &batch.events[i], f->host, f->format, f->version)) ||
		    (rc = siem_frame(&out, msg.data, msg.len)))
			goto out;
	}
	if (conn_send(f, &out)) {
		wait = failed(f);
		goto out;
	}
	if ((rc = db_acquire(&c, f->pool)) ||
	    (rc = delivery_mark_move(c, f->destination, mark, batch.events[batch.n - 1].seq))) {
		/* sent but not marked: sent again next time (at-least-once) */
		log_msg(LOG_WARN, "syslog delivery cannot move its mark: %s", err_message());
		err_clear();
		wait = FORWARD_FOLLOWER_MS;
		goto out;
	}
	if (f->outage_logged)
		log_msg(LOG_INFO, "syslog delivery to %s:%s resumed after event %" PRId64,
			f->url.host, f->url.port, mark);
	f->outage_logged = false;
	f->backoff_ms = 0;
	wait = batch.n == FORWARD_BATCH ? 0 : FORWARD_IDLE_MS;
out:
	db_release(c);
	delivery_batch_release(&batch);
	buf_release(&msg);
	buf_release(&out);
	return wait;
}

static void forward_free(struct forward *f)
{
	conn_close(f);
	leader_free(f->leader);
	free(f->destination);
	free(f->host);
	free(f->version);
	free(f->ca_file);
	free(f);
}

int forward_start(struct forward **out, struct db_pool *pool, const char *url,
		  const char *ca_file, enum siem_format format, const char *host,
		  const char *version)
{
	struct forward *f = xcalloc(1, sizeof(*f));
	int rc;

	f->fd = -1;
	f->pool = pool;
	f->format = format;
	f->host = xstrdup(host ? host : "");
	f->version = xstrdup(version ? version : "");
	f->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	f->destination = xasprintf("syslog %s", url);
	leader_new_for(&f->leader, pool, LEADER_SYSLOG_KEY, "syslog delivery");
	if ((rc = siem_url_parse(&f->url, url, "syslog")))
		goto out;
	if ((rc = worker_start(&f->worker, forward_step, f, "the syslog delivery")))
		goto out;
	log_msg(LOG_INFO, "audit events go to syslog %s (%s)", url,
		format == SIEM_CEF ? "cef" : "rfc5424");
	*out = f;
	f = NULL;
out:
	if (f)
		forward_free(f);
	return rc;
}

void forward_stop(struct forward *f)
{
	if (!f)
		return;
	worker_stop(f->worker);
	forward_free(f);
}
