/* domain/actor.c - role and door names; see actor.h. */
#include "domain/actor.h"

#include <stddef.h>
#include <string.h>

static const struct {
	unsigned role;
	const char *name;
} role_names[] = {
	{ ROLE_ADMIN, "admin" },
	{ ROLE_ENGINEER, "engineer" },
	{ ROLE_QA, "qa" },
	{ ROLE_APPROVER, "approver" },
	{ ROLE_AUDITOR, "auditor" },
	{ ROLE_AGENT, "agent" },
};

unsigned role_from_name(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role_names[i].name, name) == 0)
			return role_names[i].role;
	return 0;
}

const char *role_name(unsigned role)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return NULL;
}

const char *door_name(enum door door)
{
	switch (door) {
	case DOOR_API: return "api";
	case DOOR_PAGE: return "page";
	case DOOR_GIT: return "git";
	case DOOR_AGENT: return "agent";
	case DOOR_CLI: return "cli";
	}
	return "unknown";
}
