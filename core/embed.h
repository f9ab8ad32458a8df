/*
 * core/embed.h - files compiled into the binary at build time
 * (scripts/embed.sh): the OpenAPI document now, web assets later.
 */
#ifndef OTCM_CORE_EMBED_H
#define OTCM_CORE_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;   /* path in the source tree */
	const char *data;   /* contents, NUL-terminated */
};

/* The API description, server/openapi.json. */
extern const struct embed_file embed_openapi[];
extern const size_t embed_openapi_count;

/* The web pages' stylesheet and script, the files of web/static (see web/layout.h). */
extern const struct embed_file embed_static[];
extern const size_t embed_static_count;

#endif
