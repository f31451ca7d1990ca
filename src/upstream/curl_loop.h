/* One libcurl multi handle driven by the libevent loop through the
 * multi-socket API: every upstream HTTP transfer runs here and none blocks
 * the loop (docs/internals/upstream-http.md). gw_curl_new() and
 * gw_curl_free() are declared in upstream/link.h. */
#ifndef GW_UPSTREAM_CURL_LOOP_H
#define GW_UPSTREAM_CURL_LOOP_H

#include <curl/curl.h>
#include <stddef.h>

struct gw_curl;

/* Runs once when a transfer ends, with CURLE_OK or why it failed. easy has
 * already been detached from the multi handle, so the callee owns it again
 * (and usually calls curl_easy_cleanup()); it may add and remove other
 * transfers. CURLE_ABORTED_BY_CALLBACK means gw_curl_free() cut it short. */
typedef void (*gw_curl_done_cb)(void *arg, CURL *easy, CURLcode result);

/* Start a configured easy handle on the loop. The caller keeps owning easy
 * and must not use CURLOPT_PRIVATE (the loop keeps its record there).
 * Must not be called from inside a libcurl callback (write, header, ...):
 * libcurl refuses recursive calls. Returns 0, GW_ENOMEM, GW_ESTATE (the
 * multi handle is being freed) or GW_EIO. */
int gw_curl_add(struct gw_curl *c, CURL *easy, gw_curl_done_cb done, void *arg);
/* Cancel a transfer added with gw_curl_add() whose done callback has not
 * run yet; its callback will not run. The caller still owns easy. Same
 * restriction as gw_curl_add() on libcurl callbacks. */
void gw_curl_remove(struct gw_curl *c, CURL *easy);
/* Transfers in flight, e.g. to let DELETEs finish at shutdown. */
size_t gw_curl_active(const struct gw_curl *c);

#endif
