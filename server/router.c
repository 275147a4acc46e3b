/* Routing: matches a raw request path against the static route tables segment by segment, so a
 * percent-encoded "/" inside an id stays inside its segment; captured segments are decoded. */
#include "server/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "server/auth.h"
#include "server/reply.h"
#include "server/session.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *srv_url_decode(const char *src, size_t len, int plus_space)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%') {
            int hi = i + 2 < len ? hexval(src[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                goto bad;
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else if (src[i] == '+' && plus_space) {
            *o++ = ' ';
        } else {
            *o++ = src[i];
        }
    }
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* Matches path against template tpl; on success returns the number of captures and, when caps
 * is non-NULL, fills caps with new decoded strings. -1 when it does not match. */
static int match(const char *tpl, const char *path, char **caps)
{
    int n = 0;
    const char *t = tpl, *p = path;
    while (*t && *p) {
        if (*t != '/' || *p != '/')
            goto nomatch;
        t++;
        p++;
        const char *te = strchr(t, '/'), *pe = strchr(p, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t), pl = pe ? (size_t)(pe - p) : strlen(p);
        if (tl >= 2 && t[0] == '{' && t[tl - 1] == '}') {
            if (pl == 0 || n >= SRV_MAX_PARAMS)
                goto nomatch;
            if (caps) {
                if (!(caps[n] = srv_url_decode(p, pl, 0)))
                    goto nomatch;
            } else {
                char *tmp = srv_url_decode(p, pl, 0);
                if (!tmp)
                    goto nomatch;
                free(tmp);
            }
            n++;
        } else if (tl != pl || memcmp(t, p, tl) != 0) {
            goto nomatch;
        }
        t += tl;
        p += pl;
    }
    if (*t || *p)
        goto nomatch;
    return n;
nomatch:
    for (int i = 0; caps && i < n; i++) {
        free(caps[i]);
        caps[i] = NULL;
    }
    return -1;
}

static int same_method(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

const srv_route *srv_route_find(srv_request *req, const char *method, const char *path,
                                int *path_known)
{
    *path_known = 0;
    for (const srv_route *const *table = srv_all_routes; *table; table++) {
        for (const srv_route *r = *table; r->method; r++) {
            char *caps[SRV_MAX_PARAMS] = {0};
            int n = match(r->path, path, NULL);
            if (n < 0)
                continue;
            if (!same_method(r->method, method)) {
                *path_known = 1;
                continue;
            }
            if (req) {
                n = match(r->path, path, caps);
                if (n < 0)
                    return NULL; /* out of memory while decoding */
                for (int i = 0; i < req->nparams; i++)
                    free(req->params[i]);
                memcpy(req->params, caps, sizeof caps);
                req->nparams = n;
            }
            return r;
        }
    }
    return NULL;
}

const char *srv_route_allow(const char *path, char *allow, size_t allowlen)
{
    const char *tpl = NULL;
    size_t used = 0;
    allow[0] = '\0';
    for (const srv_route *const *table = srv_all_routes; *table; table++) {
        for (const srv_route *r = *table; r->method; r++) {
            if (match(r->path, path, NULL) < 0 || strstr(allow, r->method))
                continue;
            if (!tpl)
                tpl = r->path;
            int w = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", r->method);
            if (w > 0 && (size_t)w < allowlen - used)
                used += (size_t)w;
            if (strcmp(r->method, "GET") == 0 && !strstr(allow, "HEAD")) {
                w = snprintf(allow + used, allowlen - used, ", HEAD");
                if (w > 0 && (size_t)w < allowlen - used)
                    used += (size_t)w;
            }
        }
    }
    return tpl;
}

/* ---------------------------------------------------------------- authentication */

/* The session endpoints a user who must change the password may still use. */
static int password_change_route(const srv_route *r)
{
    return strcmp(r->path, "/api/v1/session") == 0 ||
           strcmp(r->path, "/api/v1/session/password") == 0;
}

/* "https://host:port" or "http://host:port" (origin, or the start of a referer) names host. */
static int names_host(const char *url, const char *host, int prefix)
{
    const char *p = strstr(url, "://");
    if (!p || !host)
        return 0;
    p += 3;
    size_t n = strlen(host);
    if (strncasecmp(p, host, n) != 0)
        return 0;
    return p[n] == '\0' || (prefix && p[n] == '/');
}

/* The CSRF defence of a cookie-authenticated write: 0, or -1 after answering 403. */
static int csrf_check(srv_request *req, const char *csrf)
{
    const char *origin = srv_header(req, "Origin"), *referer = srv_header(req, "Referer");
    const char *host = srv_header(req, MHD_HTTP_HEADER_HOST),
               *sent = srv_header(req, "X-CSRF-Token");
    const char *why = NULL;
    /* Origin wins when sent ("null", an opaque origin, never matches); else Referer if sent. */
    int foreign = origin ? !names_host(origin, host, 0) : referer && !names_host(referer, host, 1);
    if (foreign)
        why = "the request comes from another site (Origin/Referer does not match Host)";
    else if (!sent || strlen(sent) != 64 || sodium_memcmp(sent, csrf, 64) != 0)
        why = "a write signed in with the cookie needs the header X-CSRF-Token of the session";
    if (!why)
        return 0;
    srv_reply_error(req, MHD_HTTP_FORBIDDEN, "csrf", NULL, "%s", why);
    return -1;
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

int srv_route_authorize(srv_request *req, sqlite3 *conn)
{
    const srv_route *r = req->route;
    const char *authz = srv_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie =
        MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
    char csrf[65] = "";
    int bad = authz || !cookie ? srv_auth_check(conn, authz, &req->caller)
                               : srv_session_check(conn, req->cfg, cookie, &req->caller, csrf);
    if (bad) {
        srv_reply_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL,
                        "sign in, or send a valid API token (Authorization: Bearer rw_...)");
        if (req->response)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        return -1;
    }
    if (!(req->caller.role & r->roles)) {
        srv_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden", NULL, "the %s role may not do this",
                        srv_role_name(req->caller.role));
        return -1;
    }
    if (!req->caller.session_id)
        return 0; /* a Bearer token: no cookie rides along cross-site, so no CSRF to fear */
    if (req->caller.must_change && !password_change_route(r)) {
        srv_reply_error(req, MHD_HTTP_FORBIDDEN, "password_change_required", NULL,
                        "change your password first (POST /api/v1/session/password)");
        return -1;
    }
    return is_write(req->method) ? csrf_check(req, csrf) : 0;
}

void srv_routes_print(FILE *out)
{
    for (const srv_route *const *table = srv_all_routes; *table; table++) {
        for (const srv_route *r = *table; r->method; r++) {
            fprintf(out, "%s %s ", r->method, r->path);
            if (r->roles & SRV_ROLE_PUBLIC) {
                fprintf(out, "public\n");
                continue;
            }
            const char *sep = "";
            for (unsigned bit = 1; bit < SRV_ROLE_PUBLIC; bit <<= 1)
                if (r->roles & bit) {
                    fprintf(out, "%s%s", sep, srv_role_name(bit));
                    sep = ",";
                }
            fprintf(out, "\n");
        }
    }
}
