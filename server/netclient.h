/* Outgoing connections of the delivery thread (server/outbox.c): a bounded TCP client that
 * never blocks past its deadline, and on it the two protocols the daemon pushes with: an
 * HTTP/1.1 POST (http://, or https:// with GnuTLS checking the receiver's certificate against
 * the trusted CAs and its name; no redirects followed) and MLLP (HL7 v2 framing 0x0B message
 * 0x1C 0x0D, answered by an ACK; over TLS, checked the same way, for mllps://). Messages in err
 * never hold a body or a secret. */
#ifndef SRV_NETCLIENT_H
#define SRV_NETCLIENT_H

#include <stddef.h>

/* An http:// or https:// URL split up (host, port, path with its query). */
typedef struct srv_url {
    int tls; /* https */
    char host[256];
    char port[12];
    char path[1800];
} srv_url;

/* Parses "http[s]://host[:port][/path]" (host: a name, IPv4, or [IPv6]; port 80 or 443 by
 * default). 0, or -1 with a reason in why. */
int srv_url_parse(const char *url, srv_url *u, char *why, size_t whylen);

/* One header line of a POST ("Name: value", no CRLF). */
typedef struct srv_http_header {
    const char *name, *value;
} srv_http_header;

/* Loads the CA certificates https and mllps receivers are checked against: ca_file (PEM), or the
 * system's trust store when ca_file is "". Call once before the first https or mllps send. 0, or -1
 * with err. Free with srv_net_tls_free(). */
int srv_net_tls_init(const char *ca_file, char *err, size_t errlen);
void srv_net_tls_free(void);

/* POSTs body (Content-Type: application/json) to url with the extra headers, all within
 * timeout_s seconds. Returns the HTTP status (any, 100..599: the caller decides), or -1 with
 * err set when no status line came (resolve, connect, send, timeout, malformed answer). */
int srv_http_post(const char *url, const srv_http_header *headers, size_t nheaders,
                  const char *body, size_t len, int timeout_s, char *err, size_t errlen);

/* Sends msg over MLLP to "host:port" (or over TLS to "mllps://host:port": the receiver's
 * certificate must chain to the CAs of srv_net_tls_init() and name host) and reads the answer
 * within timeout_s seconds. On an
 * answer: 0 with ack_code (size >= 3) holding MSA-1 ("AA", "AE", "AR", "CA", "CE", "CR") and
 * ack_text MSA-3 (may be empty). -1 with err set when no framed answer came. */
int srv_mllp_send(const char *hostport, const char *msg, int timeout_s, char *ack_code,
                  char *ack_text, size_t textlen, char *err, size_t errlen);

#endif
