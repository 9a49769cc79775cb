// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The HTTP server; see http.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct http_server {
	struct MHD_Daemon *daemon;
	struct collector *collector;
	char *path;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len, bool owned)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE :
					       MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static const char landing[] =
	"<html><head><title>vmsr exporter</title></head><body>\n"
	"<h1>vmsr exporter</h1>\n"
	"<p>Host and per-VM energy from /dev/vmsr: <a href=\"%s\">metrics</a>.</p>\n"
	"</body></html>\n";

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static char not_found[] = "Not found\n", not_allowed[] = "Method not allowed\n";
	struct http_server *s = cls;
	struct expo e;
	char *page;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     strlen(not_allowed), false);
	if (!strcmp(url, "/")) {
		if (asprintf(&page, landing, s->path) < 0)
			return MHD_NO;
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", page, strlen(page),
			     true);
	}
	if (strcmp(url, s->path))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     strlen(not_found), false);

	expo_init(&e, expo_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT)));
	collector_render(s->collector, &e);
	if (e.oom) {
		expo_free(&e);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, expo_content_type(e.format), e.buf, e.len, true);
}

int http_start(struct http_server **out, const struct sockaddr_storage *addr,
	       const char *path, struct collector *c)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct http_server *s;

	if (addr->ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		/* "[::]:PORT" and ":PORT" take IPv4 too. */
		if (IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)addr)->sin6_addr))
			flags |= MHD_USE_DUAL_STACK;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL))
		flags |= MHD_USE_EPOLL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->collector = c;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return -ENOMEM;
	}
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				     MHD_OPTION_SOCK_ADDR, addr,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
				     MHD_OPTION_END);
	if (!s->daemon) {
		int err = errno ? -errno : -EADDRNOTAVAIL;

		free(s->path);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void http_stop(struct http_server *s)
{
	MHD_stop_daemon(s->daemon);
	free(s->path);
	free(s);
}
