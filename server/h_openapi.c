/* server/h_openapi.c - serves the OpenAPI 3.1 document compiled into the binary. */
#include <string.h>

#include "core/embed.h"
#include "server/handlers.h"

int h_openapi(struct http_req *req)
{
	const char *doc = embed_openapi[0].data;

	return http_reply_bytes(req, 200, "application/json", doc, strlen(doc));
}
