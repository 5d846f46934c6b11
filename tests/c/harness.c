/*
 * The C harness: the order flow as a POS would write it, a crash before acknowledging, and
 * every misuse case, against the real libsellsync through include/sellsync.h.
 *
 * usage: harness MODE CONFIG_JSON_FILE
 *   flow        sync, take and acknowledge every order; prints "taken N"
 *   take-and-die  sync, take every order without acknowledging, print their ids, then _exit(3)
 *   take-all    take and acknowledge every order (no sync); prints "id ..." lines and "taken N"
 *   sync-take-all  the same after an order sync; each line flushed as it is printed ("id ..." when
 *               taken, "acked ..." once acknowledged), so a host killed at any moment has said
 *               what it had
 *   events-and-die  sync, take every event without acknowledging, print "seq N" lines, then _exit(4)
 *   events-all  take and acknowledge every event (no sync); prints "seq N" lines and "events N"
 *   log         two order syncs with the log at DEBUG; prints "log LEVEL MESSAGE" lines
 *   quiet       two order syncs without a log function; prints nothing
 *   misuse      NULLs, invalid UTF-8, bad JSON, out-of-range settings, calls after close
 *   nulls       every export with each pointer argument NULL in turn; prints "null-checked NAME"
 *   threads     8 threads on one handle; close while a thread waits in sellsync_event_next
 *   callback    event callback that calls back into the library; free_user exactly once
 *   fork        an inherited handle in a forked child answers SELLSYNC_ERR_FORKED (not on
 *               Windows, which has no fork: a child process never shares the parent's handle)
 *   stock       map SKUs (single, 6-pack, kit), set stock, misuse, sync until a feed is read back
 *   ship        take every order, confirm its shipment, misuse, sync until all are at Amazon
 *   acl         Windows only: the store, its -wal and -shm files and the key file are owner
 *               only (a protected DACL allowing the process's user alone), and a store and key
 *               file loosened while closed are owner only again after the next open
 */
#define _POSIX_C_SOURCE 200809L
#include "sellsync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
#include <aclapi.h>
#else
#include <sys/wait.h>
#endif

extern int second_translation_unit_status_ok(void);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, sellsync_last_error());                          \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Copies the value of "key":"value" from a JSON document into out. */
static int json_string(const char *doc, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(doc, pattern);
    if (p == NULL) return 0;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (end == NULL || (size_t)(end - p) >= cap) return 0;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 1;
}

/* A copy of the configuration document with one more top-level member (free it). */
static char *with_member(const char *config, const char *member) {
    const char *end = strrchr(config, '}');
    CHECK(end != NULL);
    size_t head = (size_t)(end - config);
    size_t n = head + strlen(member) + 3;
    char *out = malloc(n);
    CHECK(out != NULL);
    snprintf(out, n, "%.*s,%s}", (int)head, config, member);
    return out;
}

/* The "seq" number of an event document. */
static int64_t event_seq(const char *doc) {
    const char *p = strstr(doc, "\"seq\":");
    CHECK(p != NULL);
    return strtoll(p + 6, NULL, 10);
}

static SellSync *open_handle(const char *config) {
    SellSync *h = NULL;
    sellsync_status st = sellsync_open(config, &h);
    if (st != SELLSYNC_OK) {
        fprintf(stderr, "open failed: %s: %s\n", sellsync_status_str(st), sellsync_last_error());
        exit(1);
    }
    CHECK(h != NULL);
    return h;
}

/* Takes every order; acknowledges each when ack is set. Returns how many. */
static int take_orders(SellSync *h, int ack, int print_ids) {
    int n = 0;
    for (;;) {
        char *doc = NULL;
        CHECK(sellsync_order_next(h, &doc) == SELLSYNC_OK);
        if (doc == NULL) break;
        char id[64], status[32];
        CHECK(json_string(doc, "order_id", id, sizeof id));
        CHECK(json_string(doc, "status", status, sizeof status));
        if (print_ids) {
            printf("id %s\n", id);
            fflush(stdout);
        }
        if (ack) {
            char ref[80];
            snprintf(ref, sizeof ref, "POS-%s", id);
            CHECK(sellsync_order_ack(h, id, ref) == SELLSYNC_OK);
            /* Acknowledging twice with the same reference is fine; another is a conflict. */
            CHECK(sellsync_order_ack(h, id, ref) == SELLSYNC_OK);
            CHECK(sellsync_order_ack(h, id, "OTHER") == SELLSYNC_ERR_CONFLICT);
            if (print_ids) {
                printf("acked %s\n", id);
                fflush(stdout);
            }
        }
        sellsync_string_free(doc);
        n++;
    }
    fflush(stdout);
    return n;
}

static int mode_flow(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    int n = take_orders(h, 1, 0);
    /* The sync reported itself as an event. */
    char *ev = NULL;
    int completed = 0;
    while (sellsync_event_next(h, 0, &ev) == SELLSYNC_OK && ev != NULL) {
        if (strstr(ev, "\"type\":\"sync.completed\"") != NULL) completed++;
        CHECK(sellsync_event_ack(h, event_seq(ev)) == SELLSYNC_OK);
        CHECK(sellsync_event_ack(h, event_seq(ev)) == SELLSYNC_OK); /* again: fine */
        sellsync_string_free(ev);
    }
    CHECK(completed == 1);
    CHECK(sellsync_event_ack(h, 0) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_event_ack(h, INT64_MAX) == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_event_ack(NULL, 1) == SELLSYNC_ERR_INVALID_ARGUMENT);
    /* Declining is for the event callback. */
    CHECK(sellsync_event_decline(h, 1) == SELLSYNC_ERR_INVALID_STATE);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("taken %d\n", n);
    return 0;
}

static int mode_take_and_die(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    int n = take_orders(h, 0, 1);
    printf("taken %d\n", n);
    fflush(stdout);
    _exit(3); /* dies before acknowledging anything, without closing */
}

static int mode_sync_take_all(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    int n = take_orders(h, 1, 1);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("taken %d\n", n);
    return 0;
}

static int mode_take_all(const char *config) {
    SellSync *h = open_handle(config);
    int n = take_orders(h, 1, 1);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("taken %d\n", n);
    return 0;
}

/* Takes every event waiting (no wait); prints "seq N" for each and acknowledges it when ack is
   set. Returns how many. */
static int take_events(SellSync *h, int ack) {
    int n = 0;
    char *ev = NULL;
    while (sellsync_event_next(h, 0, &ev) == SELLSYNC_OK && ev != NULL) {
        int64_t seq = event_seq(ev);
        printf("seq %lld\n", (long long)seq);
        if (ack) CHECK(sellsync_event_ack(h, seq) == SELLSYNC_OK);
        sellsync_string_free(ev);
        ev = NULL;
        n++;
    }
    fflush(stdout);
    return n;
}

static int mode_events_and_die(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    int n = take_events(h, 0);
    printf("events %d\n", n);
    fflush(stdout);
    _exit(4); /* dies before acknowledging any event, without closing */
}

static int mode_events_all(const char *config) {
    SellSync *h = open_handle(config);
    int n = take_events(h, 1);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("events %d\n", n);
    return 0;
}

struct log_state {
    pthread_mutex_t lock;
    int lines;
    int freed;
};

static void on_log(void *user, int32_t level, const char *message) {
    struct log_state *s = user;
    pthread_mutex_lock(&s->lock);
    printf("log %d %s\n", (int)level, message);
    s->lines++;
    pthread_mutex_unlock(&s->lock);
}

static void free_log(void *user) {
    struct log_state *s = user;
    pthread_mutex_lock(&s->lock);
    s->freed++;
    pthread_mutex_unlock(&s->lock);
}

/* Two syncs of orders with the library's log at DEBUG, printed as "log LEVEL MESSAGE". */
static int mode_log(const char *config) {
    struct log_state s = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    SellSync *h = open_handle(config);
    CHECK(sellsync_set_log_callback(h, 0, on_log, &s, free_log) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_set_log_callback(h, 5, on_log, &s, free_log) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_set_log_callback(NULL, 1, on_log, &s, free_log) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(s.freed == 0);
    CHECK(sellsync_set_log_callback(h, SELLSYNC_LOG_DEBUG, on_log, &s, free_log) == SELLSYNC_OK);
    sellsync_status first = sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS);
    /* Replacing the function releases the old user data at once. */
    CHECK(sellsync_set_log_callback(h, SELLSYNC_LOG_DEBUG, on_log, &s, free_log) == SELLSYNC_OK);
    CHECK(s.freed == 1);
    sellsync_status second = sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    CHECK(s.freed == 2);
    CHECK(sellsync_set_log_callback(h, 1, on_log, &s, free_log) == SELLSYNC_ERR_CLOSED);
    printf("syncs %s %s\n", sellsync_status_str(first), sellsync_status_str(second));
    printf("lines %d\n", s.lines);
    return 0;
}

/* The same without a log function: the library must print nothing. */
static int mode_quiet(const char *config) {
    SellSync *h = open_handle(config);
    (void)sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS);
    (void)sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    return 0;
}

static int mode_misuse(const char *config) {
    SellSync *h = NULL;
    char *out = NULL;
    /* Static texts and versions. */
    CHECK(strcmp(sellsync_status_str(SELLSYNC_OK), "success") == 0);
    CHECK(strlen(sellsync_status_str(12345)) > 0);
    CHECK(sellsync_version_number() == SELLSYNC_VERSION_NUMBER);
    CHECK(second_translation_unit_status_ok());
    /* NULL arguments. */
    CHECK(sellsync_open(NULL, &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == NULL);
    CHECK(strstr(sellsync_last_error(), "config_json") != NULL);
    CHECK(sellsync_open(config, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_sync_now(NULL, SELLSYNC_FLOW_ALL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_next(NULL, &out) == SELLSYNC_ERR_INVALID_ARGUMENT && out == NULL);
    CHECK(sellsync_close(NULL) == SELLSYNC_OK);
    sellsync_string_free(NULL);
    /* Malformed and invalid configurations. */
    CHECK(sellsync_open("{not json", &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == NULL);
    CHECK(sellsync_open("{\"store_path\":\"x\"}", &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == NULL);
    const char bad_utf8[] = {'{', '"', (char)0xC3, (char)0x28, '"', '}', 0};
    CHECK(sellsync_open(bad_utf8, &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == NULL);
    CHECK(strstr(sellsync_last_error(), "UTF-8") != NULL);
    /* A setting outside its documented range (a huge interval once panicked the worker). */
    char *huge = with_member(config, "\"intervals\":{\"orders_seconds\":1e30}");
    CHECK(sellsync_open(huge, &h) == SELLSYNC_ERR_CONFIG && h == NULL);
    CHECK(strstr(sellsync_last_error(), "intervals.orders_seconds") != NULL);
    /* A failed open leaves *out untouched: it is written only on success. */
    static char sentinel_byte;
    SellSync *const sentinel = (SellSync *)(void *)&sentinel_byte;
    h = sentinel;
    CHECK(sellsync_open(NULL, &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == sentinel);
    CHECK(sellsync_open("{not json", &h) == SELLSYNC_ERR_INVALID_ARGUMENT && h == sentinel);
    CHECK(sellsync_open(huge, &h) == SELLSYNC_ERR_CONFIG && h == sentinel);
    free(huge);
    h = NULL;
    /* A working handle, misused. */
    h = open_handle(config);
    CHECK(strlen(sellsync_last_error()) == 0);
    CHECK(sellsync_order_next(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_ack(h, NULL, "x") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_ack(h, "111-0000000-0000000", NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_ack(h, bad_utf8, "x") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_ack(h, "111-0000000-0000000", "x") == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_purge_buyer_data(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_purge_buyer_data(h, bad_utf8) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_purge_buyer_data(h, "111-0000000-0000000") == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_sync_now(h, 0) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_sync_now(h, 0x80000000u) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_event_next(h, -2, &out) == SELLSYNC_ERR_INVALID_ARGUMENT && out == NULL);
    CHECK(sellsync_event_next(h, 0, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_listings(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_cancel(h, NULL, "NoInventory") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_cancel(h, "111-0000000-0000000", "Whim") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_cancel(h, "111-0000000-0000000", "NoInventory") == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_order_refund(h, "{\"order_id\":1}") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_price_set(h, "{\"prices\":[{\"sku\":\"NOT-MAPPED\",\"marketplace_id\":\"ATVPDKIKX0DER\","
                                "\"price\":\"9.99\"}]}") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_price_set(h, "{\"prices\":[{\"sku\":\"X\",\"marketplace_id\":\"ATVPDKIKX0DER\","
                                "\"price\":\"-1\"}]}") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_price_confirm(h, "X", "ATVPDKIKX0DER") == SELLSYNC_ERR_INVALID_STATE);
    CHECK(sellsync_order_cancel_items(h, "{}") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_order_cancel_items(h, "{\"order_id\":\"111-0000000-0000000\",\"reason\":\"NoInventory\","
                                         "\"items\":[\"1\"]}") == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_metrics(h, "{\"horizon_hours\":-1}", &out) == SELLSYNC_ERR_INVALID_ARGUMENT && out == NULL);
    CHECK(sellsync_metrics(h, NULL, &out) == SELLSYNC_OK && strstr(out, "\"marketplaces\"") != NULL);
    sellsync_string_free(out);
    out = NULL;
    CHECK(sellsync_state(h, &out) == SELLSYNC_OK && strstr(out, "\"queues\"") != NULL);
    sellsync_string_free(out);
    out = NULL;
    CHECK(sellsync_state(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_listings(h, &out) == SELLSYNC_OK && out != NULL && strstr(out, "\"listings\":[]") != NULL);
    sellsync_string_free(out);
    out = NULL;
    CHECK(sellsync_fba_stock(h, &out) == SELLSYNC_OK && out != NULL && strstr(out, "\"skus\":[]") != NULL);
    sellsync_string_free(out);
    out = NULL;
    CHECK(sellsync_start(h) == SELLSYNC_OK);
    CHECK(sellsync_start(h) == SELLSYNC_OK);
    CHECK(sellsync_stop(h) == SELLSYNC_OK);
    CHECK(sellsync_stop(h) == SELLSYNC_OK);
    /* Close, then every call is refused and a second close too. */
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    CHECK(sellsync_close(h) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ALL) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_order_next(h, &out) == SELLSYNC_ERR_CLOSED && out == NULL);
    CHECK(sellsync_order_ack(h, "111-0000000-0000000", "x") == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_purge_buyer_data(h, "111-0000000-0000000") == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_event_next(h, 0, &out) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_start(h) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_set_event_callback(h, NULL, NULL, NULL) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_listings(h, &out) == SELLSYNC_ERR_CLOSED && out == NULL);
    CHECK(sellsync_fba_stock(h, &out) == SELLSYNC_ERR_CLOSED && out == NULL);
    CHECK(sellsync_prices(h, &out) == SELLSYNC_ERR_CLOSED && out == NULL);
    CHECK(sellsync_price_set(h, "{\"prices\":[]}") == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_metrics(h, NULL, &out) == SELLSYNC_ERR_CLOSED && out == NULL);
    CHECK(sellsync_order_cancel(h, "111-0000000-0000000", "NoInventory") == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_stock_set(h, "x", 1) == SELLSYNC_ERR_CLOSED);
    CHECK(sellsync_sku_map(h, "{\"mappings\":[]}") == SELLSYNC_ERR_CLOSED);
    CHECK(strstr(sellsync_last_error(), "closed") != NULL);
    printf("misuse ok\n");
    return 0;
}

/* Names an export whose every pointer argument was passed NULL (the test checks the list
   against the header). */
static void null_checked(const char *name) { printf("null-checked %s\n", name); }

/* A NULL argument that must be refused with SELLSYNC_ERR_INVALID_ARGUMENT and a message. */
#define REFUSED(call)                                                                 \
    do {                                                                              \
        CHECK((call) == SELLSYNC_ERR_INVALID_ARGUMENT);                               \
        CHECK(strstr(sellsync_last_error(), "NULL") != NULL);                         \
    } while (0)

static void ignore_log(void *user, int32_t level, const char *message) {
    (void)user;
    (void)level;
    (void)message;
}

static void ignore_event(void *user, const char *event_json) {
    (void)user;
    (void)event_json;
}

static int mode_nulls(const char *config) {
    SellSync *h = open_handle(config);
    SellSync *other = NULL;
    char *out = NULL;
    const char *id = "111-0000000-0000000";
    /* Valid documents, so that a NULL handle is the only thing wrong. */
    const char *shipment = "{\"order_id\":\"111-0000000-0000000\",\"carrier_code\":\"UPS\","
                           "\"tracking_number\":\"1Z1\",\"items\":[{\"order_item_id\":\"1\",\"quantity\":1}]}";
    const char *refund = "{\"order_id\":\"111-0000000-0000000\",\"reason\":\"CustomerReturn\","
                         "\"items\":[{\"order_item_id\":\"1\",\"amount\":\"1.00\"}]}";
    const char *cancel = "{\"order_id\":\"111-0000000-0000000\",\"reason\":\"NoInventory\"}";
    /* No pointer arguments, or NULL documented as a no-op. */
    CHECK(sellsync_version() != NULL);
    null_checked("sellsync_version");
    CHECK(sellsync_version_number() == SELLSYNC_VERSION_NUMBER);
    null_checked("sellsync_version_number");
    CHECK(sellsync_status_str(-1) != NULL);
    null_checked("sellsync_status_str");
    CHECK(sellsync_last_error() != NULL);
    null_checked("sellsync_last_error");
    sellsync_string_free(NULL);
    null_checked("sellsync_string_free");
    CHECK(sellsync_close(NULL) == SELLSYNC_OK);
    null_checked("sellsync_close");
    /* Every other export, each pointer argument NULL in turn. */
    REFUSED(sellsync_open(NULL, &other));
    REFUSED(sellsync_open(config, NULL));
    CHECK(other == NULL);
    null_checked("sellsync_open");
    REFUSED(sellsync_sync_now(NULL, SELLSYNC_FLOW_ALL));
    null_checked("sellsync_sync_now");
    REFUSED(sellsync_start(NULL));
    null_checked("sellsync_start");
    REFUSED(sellsync_stop(NULL));
    null_checked("sellsync_stop");
    REFUSED(sellsync_order_next(NULL, &out));
    CHECK(out == NULL);
    REFUSED(sellsync_order_next(h, NULL));
    null_checked("sellsync_order_next");
    REFUSED(sellsync_order_ack(NULL, id, "POS-1"));
    REFUSED(sellsync_order_ack(h, NULL, "POS-1"));
    REFUSED(sellsync_order_ack(h, id, NULL));
    null_checked("sellsync_order_ack");
    REFUSED(sellsync_purge_buyer_data(NULL, id));
    REFUSED(sellsync_purge_buyer_data(h, NULL));
    null_checked("sellsync_purge_buyer_data");
    REFUSED(sellsync_event_next(NULL, 0, &out));
    REFUSED(sellsync_event_next(h, 0, NULL));
    null_checked("sellsync_event_next");
    REFUSED(sellsync_set_event_callback(NULL, ignore_event, NULL, NULL));
    /* Documented: user and free_user may be NULL; a NULL callback removes the callback. */
    CHECK(sellsync_set_event_callback(h, ignore_event, NULL, NULL) == SELLSYNC_OK);
    CHECK(sellsync_set_event_callback(h, NULL, NULL, NULL) == SELLSYNC_OK);
    null_checked("sellsync_set_event_callback");
    REFUSED(sellsync_event_ack(NULL, 1));
    null_checked("sellsync_event_ack");
    REFUSED(sellsync_event_decline(NULL, 1));
    null_checked("sellsync_event_decline");
    REFUSED(sellsync_set_log_callback(NULL, SELLSYNC_LOG_INFO, ignore_log, NULL, NULL));
    /* Documented: user and free_user may be NULL; a NULL function removes the log function. */
    CHECK(sellsync_set_log_callback(h, SELLSYNC_LOG_INFO, ignore_log, NULL, NULL) == SELLSYNC_OK);
    CHECK(sellsync_set_log_callback(h, SELLSYNC_LOG_INFO, NULL, NULL, NULL) == SELLSYNC_OK);
    null_checked("sellsync_set_log_callback");
    REFUSED(sellsync_set_credentials(NULL, "{\"client_secret\":\"new\"}"));
    REFUSED(sellsync_set_credentials(h, NULL));
    null_checked("sellsync_set_credentials");
    REFUSED(sellsync_stock_set(NULL, "4711", 1));
    REFUSED(sellsync_stock_set(h, NULL, 1));
    null_checked("sellsync_stock_set");
    REFUSED(sellsync_stock_set_batch(NULL, "{\"levels\":[]}"));
    REFUSED(sellsync_stock_set_batch(h, NULL));
    null_checked("sellsync_stock_set_batch");
    REFUSED(sellsync_sku_map(NULL, "{\"mappings\":[]}"));
    REFUSED(sellsync_sku_map(h, NULL));
    null_checked("sellsync_sku_map");
    REFUSED(sellsync_listings(NULL, &out));
    REFUSED(sellsync_listings(h, NULL));
    null_checked("sellsync_listings");
    REFUSED(sellsync_fba_stock(NULL, &out));
    REFUSED(sellsync_fba_stock(h, NULL));
    null_checked("sellsync_fba_stock");
    REFUSED(sellsync_notifications_setup(NULL, &out));
    REFUSED(sellsync_notifications_setup(h, NULL));
    /* Without a notifications section the configuration is what is refused. */
    CHECK(sellsync_notifications_setup(h, &out) == SELLSYNC_ERR_INVALID_ARGUMENT && out == NULL);
    null_checked("sellsync_notifications_setup");
    REFUSED(sellsync_shipment_confirm(NULL, shipment));
    REFUSED(sellsync_shipment_confirm(h, NULL));
    null_checked("sellsync_shipment_confirm");
    REFUSED(sellsync_shipments(NULL, id, &out));
    REFUSED(sellsync_shipments(h, id, NULL));
    /* Documented: a NULL order_id asks for every package not yet at Amazon. */
    CHECK(sellsync_shipments(h, NULL, &out) == SELLSYNC_OK && out != NULL);
    sellsync_string_free(out);
    out = NULL;
    null_checked("sellsync_shipments");
    REFUSED(sellsync_order_cancel(NULL, id, "NoInventory"));
    REFUSED(sellsync_order_cancel(h, NULL, "NoInventory"));
    REFUSED(sellsync_order_cancel(h, id, NULL));
    null_checked("sellsync_order_cancel");
    REFUSED(sellsync_order_refund(NULL, refund));
    REFUSED(sellsync_order_refund(h, NULL));
    null_checked("sellsync_order_refund");
    REFUSED(sellsync_price_set(NULL, "{\"prices\":[]}"));
    REFUSED(sellsync_price_set(h, NULL));
    null_checked("sellsync_price_set");
    REFUSED(sellsync_price_confirm(NULL, "SKU", "ATVPDKIKX0DER"));
    REFUSED(sellsync_price_confirm(h, NULL, "ATVPDKIKX0DER"));
    REFUSED(sellsync_price_confirm(h, "SKU", NULL));
    null_checked("sellsync_price_confirm");
    REFUSED(sellsync_prices(NULL, &out));
    REFUSED(sellsync_prices(h, NULL));
    null_checked("sellsync_prices");
    REFUSED(sellsync_metrics(NULL, "{}", &out));
    REFUSED(sellsync_metrics(h, "{}", NULL));
    /* Documented: a NULL query asks for the defaults. */
    CHECK(sellsync_metrics(h, NULL, &out) == SELLSYNC_OK && out != NULL);
    sellsync_string_free(out);
    out = NULL;
    null_checked("sellsync_metrics");
    REFUSED(sellsync_state(NULL, &out));
    REFUSED(sellsync_state(h, NULL));
    null_checked("sellsync_state");
    REFUSED(sellsync_order_cancel_items(NULL, cancel));
    REFUSED(sellsync_order_cancel_items(h, NULL));
    null_checked("sellsync_order_cancel_items");
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("nulls ok\n");
    return 0;
}

struct worker {
    SellSync *h;
    int id;
    int taken;
    int events;
    sellsync_status final_status;
};

static void *hammer(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        char *doc = NULL;
        sellsync_status st = sellsync_order_next(w->h, &doc);
        CHECK(st == SELLSYNC_OK);
        if (doc != NULL) {
            char id[64];
            CHECK(json_string(doc, "order_id", id, sizeof id));
            sellsync_status a = sellsync_order_ack(w->h, id, "T");
            CHECK(a == SELLSYNC_OK);
            sellsync_string_free(doc);
            w->taken++;
        }
        if (i % 50 == 0) CHECK(sellsync_sync_now(w->h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
        char *ev = NULL;
        CHECK(sellsync_event_next(w->h, 0, &ev) == SELLSYNC_OK);
        if (ev != NULL) {
            w->events++;
            CHECK(sellsync_event_ack(w->h, event_seq(ev)) == SELLSYNC_OK);
            sellsync_string_free(ev);
        }
    }
    return NULL;
}

static void *wait_forever(void *arg) {
    struct worker *w = arg;
    for (;;) {
        char *ev = NULL;
        sellsync_status st = sellsync_event_next(w->h, -1, &ev);
        if (st != SELLSYNC_OK) {
            w->final_status = st;
            return NULL;
        }
        if (ev != NULL) (void)sellsync_event_ack(w->h, event_seq(ev)); /* may race with close */
        sellsync_string_free(ev);
    }
}

static int mode_threads(const char *config) {
    SellSync *h = open_handle(config);
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){h, i, 0, 0, SELLSYNC_OK};
        CHECK(pthread_create(&t[i], NULL, hammer, &w[i]) == 0);
    }
    int taken = 0;
    for (int i = 0; i < 8; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        taken += w[i].taken;
    }
    /* A thread blocked in event_next is woken by close and sees CLOSED. */
    struct worker waiter = {h, 99, 0, 0, SELLSYNC_OK};
    pthread_t wt;
    CHECK(pthread_create(&wt, NULL, wait_forever, &waiter) == 0);
    char *drain = NULL;
    while (sellsync_event_next(h, 0, &drain) == SELLSYNC_OK && drain != NULL) {
        CHECK(sellsync_event_ack(h, event_seq(drain)) == SELLSYNC_OK);
        sellsync_string_free(drain);
    }
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    CHECK(pthread_join(wt, NULL) == 0);
    CHECK(waiter.final_status == SELLSYNC_ERR_CLOSED);
    printf("taken %d\n", taken);
    return 0;
}

struct cb_state {
    SellSync *h;
    int events;
    int reentrant_ok;
    int freed;
    int close_refused;
    int declined;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static void on_event(void *user, const char *event_json) {
    struct cb_state *s = user;
    pthread_mutex_lock(&s->lock);
    s->events++;
    pthread_mutex_unlock(&s->lock);
    if (strstr(event_json, "\"type\":\"order.ready\"") != NULL) {
        char *doc = NULL;
        /* Calling back into the library from the callback works. */
        int reentrant = sellsync_order_next(s->h, &doc) == SELLSYNC_OK;
        sellsync_string_free(doc);
        /* Closing from the callback is refused instead of deadlocking. */
        int refused = sellsync_close(s->h) == SELLSYNC_ERR_INVALID_STATE;
        /* The callback declines the event it handles, not another one. */
        int64_t seq = event_seq(event_json);
        int declined = sellsync_event_decline(s->h, seq + 1) == SELLSYNC_ERR_INVALID_ARGUMENT &&
                       sellsync_event_decline(s->h, seq) == SELLSYNC_OK;
        pthread_mutex_lock(&s->lock);
        s->reentrant_ok += reentrant;
        s->close_refused += refused;
        s->declined += declined;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
}

static void free_state(void *user) {
    struct cb_state *s = user;
    pthread_mutex_lock(&s->lock);
    s->freed++;
    pthread_mutex_unlock(&s->lock);
}

static int mode_callback(const char *config) {
    struct cb_state s = {NULL, 0, 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    s.h = open_handle(config);
    CHECK(sellsync_set_event_callback(s.h, on_event, &s, free_state) == SELLSYNC_OK);
    CHECK(sellsync_sync_now(s.h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    /* Wait until the callback has handled an order.ready (at most 30 s). */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&s.lock);
    while (s.reentrant_ok == 0) {
        if (pthread_cond_timedwait(&s.changed, &s.lock, &deadline) != 0) break;
    }
    pthread_mutex_unlock(&s.lock);
    CHECK(sellsync_close(s.h) == SELLSYNC_OK);
    CHECK(s.freed == 1);
    CHECK(s.reentrant_ok > 0);
    CHECK(s.close_refused > 0);
    CHECK(s.declined > 0);
    printf("callback events %d\n", s.events);
    return 0;
}

#ifndef _WIN32
static int mode_fork(const char *config) {
    SellSync *h = open_handle(config);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *doc = NULL;
        int ok = sellsync_order_next(h, &doc) == SELLSYNC_ERR_FORKED && doc == NULL;
        ok = ok && sellsync_close(h) == SELLSYNC_ERR_FORKED;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *doc = NULL;
    CHECK(sellsync_order_next(h, &doc) == SELLSYNC_OK);
    sellsync_string_free(doc);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("fork ok\n");
    return 0;
}
#endif

static int mode_stock(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sku_map(h, "{\"mappings\":["
                              "{\"sku\":\"SKU-0000\",\"items\":[{\"host_item\":\"H0\"}]},"
                              "{\"sku\":\"SKU-0001\",\"items\":[{\"host_item\":\"H0\",\"units\":6}]},"
                              "{\"sku\":\"SKU-0002\",\"items\":[{\"host_item\":\"H1\"},"
                              "{\"host_item\":\"H2\",\"units\":2}]}]}") == SELLSYNC_OK);
    CHECK(sellsync_stock_set(h, "H0", 13) == SELLSYNC_OK);
    CHECK(sellsync_stock_set_batch(h, "{\"levels\":[{\"host_item\":\"H1\",\"on_hand\":5},"
                                      "{\"host_item\":\"H2\",\"on_hand\":4}]}") == SELLSYNC_OK);
    /* Misuse changes nothing. */
    CHECK(sellsync_stock_set(h, "H0", -1) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_stock_set(h, "H0", INT64_MAX) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_stock_set(h, "NOPE", 1) == SELLSYNC_ERR_NOT_FOUND);
    CHECK(strstr(sellsync_last_error(), "NOPE") != NULL);
    CHECK(sellsync_stock_set(h, NULL, 1) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_stock_set_batch(h, "{") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_stock_set_batch(h, "{\"levels\":[{\"host_item\":\"H0\",\"on_hand\":\"7\"}]}") ==
          SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_stock_set_batch(h, "{\"levels\":[{\"host_item\":\"H0\",\"on_hand\":1},"
                                      "{\"host_item\":\"NOPE\",\"on_hand\":1}]}") == SELLSYNC_ERR_NOT_FOUND);
    CHECK(sellsync_stock_set_batch(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_sku_map(h, "{\"mappings\":[{\"sku\":\"X\"}]}") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_sku_map(h, "[]") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_sku_map(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    /* Sync until Amazon is in step: nothing out of step, no feed open (bounded; each wait is
       on the library). Three changes take the fast lane (patches), not a feed. */
    int finished = 0;
    for (int i = 0; i < 500 && !finished; i++) {
        CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_STOCK) == SELLSYNC_OK);
        char *state = NULL;
        CHECK(sellsync_state(h, &state) == SELLSYNC_OK);
        finished = strstr(state, "\"out_of_step\":0") != NULL && strstr(state, "\"open_feeds\":0") != NULL;
        sellsync_string_free(state);
    }
    CHECK(finished);
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    CHECK(sellsync_stock_set(h, "H0", 1) == SELLSYNC_ERR_CLOSED);
    printf("stock ok\n");
    return 0;
}

static int mode_ship(const char *config) {
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    int n = 0;
    for (;;) {
        char *doc = NULL;
        CHECK(sellsync_order_next(h, &doc) == SELLSYNC_OK);
        if (doc == NULL) break;
        char id[64], item[64], qty[16], json[512];
        CHECK(json_string(doc, "order_id", id, sizeof id));
        CHECK(json_string(doc, "order_item_id", item, sizeof item));
        const char *q = strstr(doc, "\"quantity\":");
        CHECK(q != NULL);
        snprintf(qty, sizeof qty, "%ld", strtol(q + 11, NULL, 10));
        CHECK(sellsync_order_ack(h, id, "POS") == SELLSYNC_OK);
        snprintf(json, sizeof json,
                 "{\"order_id\":\"%s\",\"carrier_code\":\"DHL\",\"tracking_number\":\"JD%d\","
                 "\"items\":[{\"order_item_id\":\"%s\",\"quantity\":%s}]}",
                 id, n, item, qty);
        CHECK(sellsync_shipment_confirm(h, json) == SELLSYNC_OK);
        CHECK(sellsync_shipment_confirm(h, json) == SELLSYNC_ERR_INVALID_ARGUMENT); /* nothing left to ship */
        sellsync_string_free(doc);
        n++;
    }
    CHECK(n > 0);
    CHECK(sellsync_shipment_confirm(h, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_shipment_confirm(h, "{\"order_id\":") == SELLSYNC_ERR_INVALID_ARGUMENT);
    CHECK(sellsync_shipment_confirm(h, "{\"order_id\":\"111-0000000-0000000\",\"carrier_code\":\"DHL\","
                                       "\"tracking_number\":\"1\",\"items\":[{\"order_item_id\":\"1\","
                                       "\"quantity\":1}]}") == SELLSYNC_ERR_NOT_FOUND);
    char *view = NULL;
    CHECK(sellsync_shipments(h, NULL, NULL) == SELLSYNC_ERR_INVALID_ARGUMENT);
    for (int i = 0; i < 100; i++) {
        CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_SHIPMENTS) == SELLSYNC_OK);
        CHECK(sellsync_shipments(h, NULL, &view) == SELLSYNC_OK && view != NULL);
        int done = strstr(view, "\"state\":\"QUEUED\"") == NULL && strstr(view, "\"state\":\"UNCERTAIN\"") == NULL;
        sellsync_string_free(view);
        view = NULL;
        if (done) break;
    }
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("shipped %d\n", n);
    return 0;
}

#ifdef _WIN32
/* The store_path of the configuration, with its JSON escapes \\ and \" only, as UTF-16. */
static void store_path_w(const char *config, const char *suffix, wchar_t *out, int cap) {
    const char *p = strstr(config, "\"store_path\"");
    CHECK(p != NULL);
    p += strlen("\"store_path\"");
    while (*p == ' ' || *p == ':') p++;
    CHECK(*p++ == '"');
    char utf8[1024];
    size_t n = 0;
    for (; *p != '\0' && *p != '"' && n + 1 < sizeof utf8; p++) {
        if (*p == '\\') p++;
        utf8[n++] = *p;
    }
    utf8[n] = '\0';
    CHECK(strlen(utf8) + strlen(suffix) + 1 < sizeof utf8);
    strcat(utf8, suffix);
    CHECK(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out, cap) > 0);
}

/* The process's user, as its token names it (a static buffer). */
static PSID process_user(void) {
    static union { TOKEN_USER user; char bytes[256]; } buf;
    HANDLE token;
    DWORD len = 0;
    CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    CHECK(GetTokenInformation(token, TokenUser, &buf, sizeof buf, &len));
    CloseHandle(token);
    return buf.user.User.Sid;
}

/* 1 when the file's DACL is protected and has exactly one entry: full access for the user. */
static int owner_only(const wchar_t *path) {
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD rc = GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                                     &dacl, NULL, &sd);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "GetNamedSecurityInfoW(%ls): %lu\n", path, (unsigned long)rc);
        exit(1);
    }
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    CHECK(GetSecurityDescriptorControl(sd, &control, &revision));
    int ok = dacl != NULL && (control & SE_DACL_PROTECTED) && dacl->AceCount == 1;
    if (ok) {
        ACCESS_ALLOWED_ACE *ace = NULL;
        CHECK(GetAce(dacl, 0, (void **)&ace));
        ok = ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE &&
             (ace->Mask & FILE_ALL_ACCESS) == FILE_ALL_ACCESS &&
             EqualSid((PSID)&ace->SidStart, process_user());
    }
    LocalFree(sd);
    return ok;
}

/* Gives the file a DACL that others may read, inherited from its folder's as well. */
static void loosen(const wchar_t *path) {
    EXPLICIT_ACCESS_W everyone;
    memset(&everyone, 0, sizeof everyone);
    everyone.grfAccessPermissions = GENERIC_READ;
    everyone.grfAccessMode = GRANT_ACCESS;
    everyone.Trustee.TrusteeForm = TRUSTEE_IS_NAME;
    everyone.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
    everyone.Trustee.ptstrName = L"EVERYONE";
    PACL acl = NULL;
    CHECK(SetEntriesInAclW(1, &everyone, NULL, &acl) == ERROR_SUCCESS);
    CHECK(SetNamedSecurityInfoW((LPWSTR)path, SE_FILE_OBJECT,
                                DACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION,
                                NULL, NULL, acl, NULL) == ERROR_SUCCESS);
    LocalFree(acl);
    CHECK(!owner_only(path));
}

static int mode_acl(const char *config) {
    static const char *files[] = {"", "-wal", "-shm", ".key"};
    wchar_t path[4][1024];
    for (int i = 0; i < 4; i++) store_path_w(config, files[i], path[i], 1024);
    SellSync *h = open_handle(config);
    CHECK(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) == SELLSYNC_OK);
    printf("taken %d\n", take_orders(h, 1, 0));
    for (int i = 0; i < 4; i++) {
        if (!owner_only(path[i])) {
            fprintf(stderr, "not owner only: %ls\n", path[i]);
            return 1;
        }
        printf("owner only: store%s\n", files[i]);
    }
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    loosen(path[0]);
    loosen(path[3]);
    h = open_handle(config);
    for (int i = 0; i < 4; i++) {
        if (GetFileAttributesW(path[i]) != INVALID_FILE_ATTRIBUTES && !owner_only(path[i])) {
            fprintf(stderr, "loosened, opened and still not owner only: %ls\n", path[i]);
            return 1;
        }
    }
    CHECK(sellsync_close(h) == SELLSYNC_OK);
    printf("acl ok\n");
    return 0;
}
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: harness MODE CONFIG_JSON_FILE\n");
        return 2;
    }
    char *config = read_file(argv[2]);
    int rc = 2;
    if (strcmp(argv[1], "flow") == 0) rc = mode_flow(config);
    else if (strcmp(argv[1], "take-and-die") == 0) rc = mode_take_and_die(config);
    else if (strcmp(argv[1], "take-all") == 0) rc = mode_take_all(config);
    else if (strcmp(argv[1], "sync-take-all") == 0) rc = mode_sync_take_all(config);
    else if (strcmp(argv[1], "events-and-die") == 0) rc = mode_events_and_die(config);
    else if (strcmp(argv[1], "events-all") == 0) rc = mode_events_all(config);
    else if (strcmp(argv[1], "log") == 0) rc = mode_log(config);
    else if (strcmp(argv[1], "quiet") == 0) rc = mode_quiet(config);
    else if (strcmp(argv[1], "misuse") == 0) rc = mode_misuse(config);
    else if (strcmp(argv[1], "nulls") == 0) rc = mode_nulls(config);
    else if (strcmp(argv[1], "threads") == 0) rc = mode_threads(config);
    else if (strcmp(argv[1], "callback") == 0) rc = mode_callback(config);
#ifndef _WIN32
    else if (strcmp(argv[1], "fork") == 0) rc = mode_fork(config);
#endif
    else if (strcmp(argv[1], "stock") == 0) rc = mode_stock(config);
    else if (strcmp(argv[1], "ship") == 0) rc = mode_ship(config);
#ifdef _WIN32
    else if (strcmp(argv[1], "acl") == 0) rc = mode_acl(config);
#endif
    free(config);
    return rc;
}
