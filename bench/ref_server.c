/*
 * bench/ref_server.c - the reference for `make bench`: a bare libmicrohttpd
 * server answering every GET with one small fixed JSON object.
 *
 * It runs libmicrohttpd the way otcm does (internal thread pool of --threads
 * workers, default 8, on epoll; the same connection limit and timeout
 * defaults), so that wrk against it measures the ceiling of the HTTP layer on
 * this machine, and otcm's requests/s can be read as a fraction of it.
 * Not part of otcm: no arena, no routing, no database.
 *
 * usage: ref_server HOST:PORT [THREADS]
 * Prints "ref_server: serving on http://HOST:PORT" and runs until SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

static const char body[] =
	"{\"id\":1,\"path\":\"plant-a/line-1/plc-1\",\"type\":\"l5x\",\"name\":\"PLC 1\"}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;

	(void)cls;
	(void)url;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		/* first call: headers only; answer on the second */
		*req_cls = conn;
		return MHD_YES;
	}
	*upload_data_size = 0;
	if (strcmp(method, "GET") != 0)
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int parse_listen(const char *arg, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	size_t hlen;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - arg);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	unsigned threads = 8;
	sigset_t set;
	int sig;

	if (argc < 2 || parse_listen(argv[1], &addr) != 0) {
		fprintf(stderr, "usage: ref_server HOST:PORT [THREADS]\n");
		return 2;
	}
	if (argc > 2)
		threads = (unsigned)atoi(argv[2]);
	if (threads == 0)
		threads = 1;

	/* block the stop signals in every thread; main waits for them below */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
			     0, NULL, NULL, answer, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE, threads,
			     MHD_OPTION_CONNECTION_LIMIT, 256u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 60u,
			     MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "ref_server: cannot listen on %s\n", argv[1]);
		return 1;
	}
	printf("ref_server: serving on http://%s\n", argv[1]);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
