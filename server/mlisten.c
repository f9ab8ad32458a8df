/* server/mlisten.c - the credential-free metrics address; see mlisten.h. */
#include "server/mlisten.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "server/handlers.h"

#define MLISTEN_HEAD_MAX 8192
#define MLISTEN_IO_MS 5000

struct mlisten {
	pthread_t thread;
	int fd;
	int wake[2];                  /* a byte on wake[1] stops the thread */
	const struct server *srv;
};

static int64_t ms_left(int64_t deadline_us)
{
	int64_t left = (deadline_us - time_mono_us()) / 1000;

	return left > 0 ? left : 0;
}

/* Read the request head (up to the blank line) into head; false on timeout, error or size. */
static bool read_head(int fd, char *head, size_t cap, int64_t deadline)
{
	size_t len = 0;

	while (len + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)ms_left(deadline)) != 1)
			return false;
		n = recv(fd, head + len, cap - 1 - len, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return false;
		}
		len += (size_t)n;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n") || strstr(head, "\n\n"))
			return true;
	}
	return false;
}

static void write_all(int fd, const char *data, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, (int)ms_left(deadline)) != 1)
			return;
		n = send(fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (n > 0)
			off += (size_t)n;
	}
}

static void reply(int fd, unsigned status, const char *reason, const char *ctype, const char *body,
		  size_t len, bool head_only, int64_t deadline)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n", status, reason, ctype,
			 len, status == 405 ? "Allow: GET, HEAD\r\n" : "");

	write_all(fd, hdr, (size_t)n, deadline);
	if (!head_only)
		write_all(fd, body, len, deadline);
}

/* One connection: its request, its answer. */
static void serve_one(struct mlisten *l, int fd, const char *peer)
{
	static const char text[] = "text/plain; charset=utf-8";
	int64_t deadline = time_mono_us() + (int64_t)MLISTEN_IO_MS * 1000;
	char head[MLISTEN_HEAD_MAX];
	bool is_head;
	const char *p;
	size_t tlen;

	if (!read_head(fd, head, sizeof(head), deadline)) {
		reply(fd, 400, "Bad Request", text, "bad request\n", 12, false, deadline);
		return;
	}
	is_head = strncmp(head, "HEAD ", 5) == 0;
	if (strncmp(head, "GET ", 4) != 0 && !is_head) {
		reply(fd, 405, "Method Not Allowed", text, "only GET /metrics\n", 18, false, deadline);
		return;
	}
	p = head + (is_head ? 5 : 4);
	tlen = strcspn(p, " ?\r\n");
	if (tlen != 8 || strncmp(p, "/metrics", 8) != 0) {
		reply(fd, 404, "Not Found", text, "only /metrics is served here\n", 29, is_head, deadline);
		return;
	}
	{
		/* the server acting for its own configured address, as its background threads do */
		struct actor who = { .username = "metrics", .display_name = "Metrics",
				     .role = ROLE_AUDITOR, .auth = "metrics-listen", .addr = peer,
				     .door = DOOR_CLI };
		struct dom d = { .who = &who, .db = l->srv->db, .cfg = l->srv->cfg, .key = l->srv->key,
				 .origin = l->srv->origin };
		struct buf out = BUF_INIT;

		d.arena = arena_new();
		if (h_metrics_render(&out, &d, l->srv->metrics)) {
			log_msg(LOG_WARN, "metrics for %s: %s", peer, err_message());
			err_clear();
			reply(fd, 503, "Service Unavailable", text, "metrics unavailable\n", 20, is_head,
			      deadline);
		} else {
			reply(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", out.data, out.len,
			      is_head, deadline);
		}
		buf_release(&out);
		arena_free(d.arena);
	}
}

static void *mlisten_main(void *arg)
{
	struct mlisten *l = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = l->fd, .events = POLLIN }, { .fd = l->wake[0], .events = POLLIN } };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[INET6_ADDRSTRLEN] = "";
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
		serve_one(l, fd, peer);
		close(fd);
	}
	return NULL;
}

static void mlisten_free(struct mlisten *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->wake[0] >= 0)
		close(l->wake[0]);
	if (l->wake[1] >= 0)
		close(l->wake[1]);
	free(l);
}

/* HOST:PORT or [V6]:PORT to a bound, listening socket in l->fd. */
static int bind_listen(struct mlisten *l, const char *where)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const char *colon = strrchr(where, ':');
	char host[256];
	size_t hlen;
	int one = 1, rc;

	if (!colon || colon == where || (hlen = (size_t)(colon - where)) >= sizeof(host))
		return err_set(OTCM_EINVAL, "metrics-where", "--metrics-where must be HOST:PORT, got '%s'",
			       where);
	memcpy(host, where, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc)
		return err_set(OTCM_EINVAL, "metrics-where", "--metrics-where: cannot resolve '%s': %s",
			       host, gai_strerror(rc));
	l->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(l->fd, 16) != 0)
		rc = err_set(OTCM_EINVAL, "metrics-where", "cannot serve metrics on '%s': %s", where,
			     strerror(errno));
	freeaddrinfo(ai);
	return rc;
}

int mlisten_start(struct mlisten **out, const char *where, const struct server *srv)
{
	struct mlisten *l = xcalloc(1, sizeof(*l));
	int rc;

	l->fd = l->wake[0] = l->wake[1] = -1;
	l->srv = srv;
	if ((rc = bind_listen(l, where)))
		goto out;
	if (pipe2(l->wake, O_CLOEXEC) != 0 || pthread_create(&l->thread, NULL, mlisten_main, l) != 0) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot start the metrics listener");
		goto out;
	}
	log_msg(LOG_INFO, "metrics served without credentials on %s", where);
	*out = l;
	l = NULL;
out:
	if (l)
		mlisten_free(l);
	return rc;
}

void mlisten_stop(struct mlisten *l)
{
	if (!l)
		return;
	if (write(l->wake[1], "x", 1) != 1)
		log_msg(LOG_WARN, "cannot wake the metrics listener: %s", strerror(errno));
	pthread_join(l->thread, NULL);
	mlisten_free(l);
}
