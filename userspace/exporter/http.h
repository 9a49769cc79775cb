/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The HTTP server, libmicrohttpd's, on one internal thread. Limits, so that
 * slow or hostile clients cannot starve others (sampling runs on its own
 * thread and never waits for a client):
 *   HTTP_MAX_CONNECTIONS at once, HTTP_MAX_PER_IP from one address,
 *   HTTP_TIMEOUT_S of inactivity closes a connection, and
 *   HTTP_MEMORY_LIMIT bytes of request buffer per connection.
 */
#ifndef VMSR_EXPORTER_HTTP_H
#define VMSR_EXPORTER_HTTP_H

#include <sys/socket.h>

#include "collector.h"

#define HTTP_MAX_CONNECTIONS	32
#define HTTP_MAX_PER_IP		4
#define HTTP_TIMEOUT_S		10
#define HTTP_MEMORY_LIMIT	(32 * 1024)

struct http_server;

/*
 * Parses "HOST:PORT", "[IPv6]:PORT" or ":PORT" (every address) into
 * @addr; HOST must be a numeric address. Returns 0 or -EINVAL.
 */
int http_parse_listen_address(const char *text, struct sockaddr_storage *addr, socklen_t *len);

/* Serves @path from @c at @addr. Returns 0 or -errno. */
int http_start(struct http_server **out, const struct sockaddr_storage *addr,
	       const char *path, struct collector *c);
void http_stop(struct http_server *s);

#endif /* VMSR_EXPORTER_HTTP_H */
