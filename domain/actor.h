/*
 * domain/actor.h - who is acting: the roles, the doors a request comes
 * through, and the actor every domain operation takes.
 *
 * A door (the REST API, a web page, git, the collection agent, the command
 * line) turns its credentials into a struct actor and hands it to one
 * domain operation; the operation decides what the actor may do.  Nothing
 * here touches the network or the database.
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_ACTOR_H
#define OTCM_DOMAIN_ACTOR_H

#include <stdint.h>

/* Roles, as a bit set so an operation (or a route) can allow several. */
enum role {
	ROLE_ADMIN = 1 << 0,
	ROLE_ENGINEER = 1 << 1,
	ROLE_QA = 1 << 2,
	ROLE_APPROVER = 1 << 3,
	ROLE_AUDITOR = 1 << 4,
	ROLE_AGENT = 1 << 5,
};
#define ROLE_ANY (ROLE_ADMIN | ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_AUDITOR | ROLE_AGENT)
#define ROLE_PUBLIC 0   /* no authentication required */
/* everyone who may read the change process: all roles but the collection agent */
#define ROLE_CHG_READERS (ROLE_ADMIN | ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_AUDITOR)

/* "admin" -> ROLE_ADMIN; 0 for an unknown name or NULL. */
unsigned role_from_name(const char *name);

/* ROLE_ADMIN -> "admin"; NULL for anything but exactly one known role. */
const char *role_name(unsigned role);

/* The way a request reached the domain. */
enum door {
	DOOR_API,
	DOOR_PAGE,
	DOOR_GIT,
	DOOR_AGENT,
	DOOR_CLI,
};

/* "api", "page", "git", "agent", "cli". */
const char *door_name(enum door door);

/*
 * The caller of a domain operation.  user_id 0 is anonymous (role 0),
 * except through DOOR_CLI: the command line (`otcm user`, the first
 * administrator at the first start) acts as user_id 0 named "system" with
 * role admin, since whoever runs otcm with the database's credentials
 * already holds all the data; its audit events name "system".
 * Strings are borrowed from whoever built the actor (the request's arena)
 * and must outlive the operation.
 */
struct actor {
	int64_t user_id;
	const char *username;
	const char *display_name;   /* printed name on signatures */
	unsigned role;              /* exactly one enum role bit, or 0 */
	const char *auth;           /* how authenticated: "password", "password+totp",
				       "token", "directory"; NULL when anonymous */
	int64_t token_id;           /* bearer token logins, else 0 */
	const char *addr;           /* client address, may be NULL */
	const char *request_id;     /* may be NULL */
	enum door door;
};

#endif
