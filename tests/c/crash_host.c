/*
 * The crash host: a POS doing continuous work through libsellsync that may be killed
 * (SIGKILL) at any moment and is then started again on the same store and journal.
 *
 * usage: crash_host MODE CONFIG_JSON_FILE JOURNAL ITEMS FBA SEED [TILL_INDEX TILLS]
 *   run      start the background worker and work until killed: take every order, book it in
 *            the journal, acknowledge it, confirm its package (or, for one seller-fulfilled
 *            order in twelve, cancel it; for another, refund 1.00 of its first item after
 *            shipping); set stock (single items, small batches, now and then every item at once)
 *   drain    no worker: sync until no order is left, take, acknowledge and confirm them all,
 *            report every item's last level again, sync until Amazon has everything; exit 0
 *   recover  only what every start does (below), then exit 0
 *
 * TILL_INDEX TILLS (default 0 1): this host is one till of TILLS sharing a seller account
 * (a store on PostgreSQL, each till with its own journal). Every till takes orders (the library
 * hands each one to one till); a till sets stock only for its part of the shelf, the items i
 * with i % TILLS == TILL_INDEX, so each item's last level is in exactly one journal. With
 * several tills, a drain retries sellsync_sync_now for up to 60 s while it fails with
 * SELLSYNC_ERR_INVALID_STATE (another process, perhaps a killed one, still holds the lease).
 *
 * The SKUs are CRASH-00.. (seller-fulfilled, ITEMS of them, each one unit of ITEM-00..) and
 * CRASH-FBA-0.. (FBA of them, fulfilled by Amazon).
 *
 * The journal is the host's own book, append-only, each line written and fsync'ed before the
 * host goes on (a torn last line is cut off at start-up):
 *   start <pid> <mode>
 *   took <order_id> <host_ref> <M|A> <order_item_id>:<quantity>[,...]   before acknowledging
 *   acked <order_id> <host_ref>                                         the ack returned OK
 *   ship <order_id> <package_reference_id>                              before confirming
 *   shipok <order_id> <package_reference_id>                            the confirm returned OK
 *   cancel <order_id> / cancelok <order_id>                             around each cancellation
 *   refund <order_id> / refundok <order_id>                             around each refund
 *   failed <order_id> <event type>                  an adjustment.failed event, before its ack
 *   set <item> <on_hand> / setok <item> <on_hand>                       around each stock call
 *   drained
 * At start-up it acknowledges again every order it booked without a journaled ack (same
 * host_ref), confirms again every package without a journaled OK (same package), cancels and
 * refunds again what has no journaled OK (a refund with the same refund_id), and reports every
 * item's last intended level, as a POS does after a crash.
 *
 * Markers on stdout (flushed) let the driver aim its kills: "> stock_set" and "< stock_set"
 * around every stock call.
 */
#define _POSIX_C_SOURCE 200809L
#include "sellsync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 200
#define SLOTS 65536 /* order table: open addressing, at most 3/4 full */

struct order {
    char id[32];
    char ref[40];
    char items[160]; /* "<order_item_id>:<quantity>,..." */
    char mfn;        /* seller-fulfilled */
    char acked;
    char shipped; /* the confirm returned OK */
    char cancelled; /* the cancellation returned OK */
    char refunded;  /* the refund returned OK */
};

/* What the host does with a seller-fulfilled order, decided by its id (the same after a
   restart). */
enum fate { SHIP, CANCEL, SHIP_AND_REFUND };

static enum fate fate_of(const char *id) {
    unsigned h = 0;
    for (const char *p = id; *p; p++) h = h * 31 + (unsigned char)*p;
    switch (h % 12) {
    case 0: return CANCEL;
    case 1: return SHIP_AND_REFUND;
    default: return SHIP;
    }
}

static struct order *orders;
static size_t order_count;
static long level[MAX_ITEMS];
static int level_known[MAX_ITEMS];
static int items, fba;
static int till_index = 0, tills = 1;
static int journal_fd = -1;
static uint64_t rng;

static void die(const char *what, sellsync_status st) {
    fprintf(stderr, "%s failed: %s: %s\n", what, sellsync_status_str(st), sellsync_last_error());
    exit(1);
}

static void fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

static uint32_t next_random(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

/* Whether the item is on this till's part of the shelf. */
static int mine(int item) { return item % tills == till_index; }

/* How many items are on this till's part of the shelf. */
static int own_items(void) { return (items - till_index + tills - 1) / tills; }

static struct order *slot(const char *id) {
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = (size_t)(h % SLOTS);; i = (i + 1) % SLOTS) {
        if (orders[i].id[0] == '\0' || strcmp(orders[i].id, id) == 0) return &orders[i];
    }
}

/* The order with this id, created when new. */
static struct order *order(const char *id) {
    struct order *o = slot(id);
    if (o->id[0] == '\0') {
        if (++order_count > SLOTS / 4 * 3 || strlen(id) >= sizeof o->id) {
            fprintf(stderr, "order table full or order id too long\n");
            exit(1);
        }
        snprintf(o->id, sizeof o->id, "%s", id);
    }
    return o;
}

/* Appends one line to the journal and makes it durable before returning. */
static void journal(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof line - 1) {
        fprintf(stderr, "journal line too long\n");
        exit(1);
    }
    line[n++] = '\n';
    for (int done = 0; done < n;) {
        ssize_t w = write(journal_fd, line + done, (size_t)(n - done));
        if (w < 0) fail("journal write");
        done += (int)w;
    }
    if (fsync(journal_fd) != 0) fail("journal fsync");
}

static void apply_line(char *line) {
    char *word = strtok(line, " ");
    if (word == NULL) return;
    char *a = strtok(NULL, " "), *b = strtok(NULL, " "), *c = strtok(NULL, " "), *d = strtok(NULL, " ");
    if (strcmp(word, "took") == 0 && d != NULL) {
        struct order *o = order(a);
        snprintf(o->ref, sizeof o->ref, "%s", b);
        o->mfn = c[0] == 'M';
        snprintf(o->items, sizeof o->items, "%s", d);
    } else if (strcmp(word, "acked") == 0 && a != NULL) {
        order(a)->acked = 1;
    } else if (strcmp(word, "shipok") == 0 && a != NULL) {
        order(a)->shipped = 1;
    } else if (strcmp(word, "cancelok") == 0 && a != NULL) {
        order(a)->cancelled = 1;
    } else if (strcmp(word, "refundok") == 0 && a != NULL) {
        order(a)->refunded = 1;
    } else if (strcmp(word, "set") == 0 && b != NULL) {
        int item = atoi(a + 5); /* ITEM-nn */
        if (item >= 0 && item < items) {
            level[item] = atol(b);
            level_known[item] = 1;
        }
    }
}

/* Reads the journal back (cutting off a torn last line) and opens it for appending. */
static void open_journal(const char *path) {
    journal_fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0644);
    if (journal_fd < 0) fail(path);
    struct stat st;
    if (fstat(journal_fd, &st) != 0) fail("journal stat");
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) fail("malloc");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(journal_fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (r <= 0) fail("journal read");
        got += (size_t)r;
    }
    size_t complete = got;
    while (complete > 0 && buf[complete - 1] != '\n') complete--;
    if (complete < got && (ftruncate(journal_fd, (off_t)complete) != 0 || fsync(journal_fd) != 0))
        fail("journal truncate");
    buf[complete] = '\0';
    for (char *line = buf, *end; (end = strchr(line, '\n')) != NULL; line = end + 1) {
        *end = '\0';
        apply_line(line);
    }
    free(buf);
}

/* Copies the string value of "key" (the first after from) into out. */
static const char *json_string(const char *from, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(from, pattern);
    if (p == NULL) return NULL;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (end == NULL || (size_t)(end - p) >= cap) return NULL;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return end;
}

static void acknowledge(SellSync *h, struct order *o) {
    sellsync_status st = sellsync_order_ack(h, o->id, o->ref);
    if (st != SELLSYNC_OK) die("sellsync_order_ack", st);
    journal("acked %s %s", o->id, o->ref);
    o->acked = 1;
}

/* Confirms the order's one package (reference 1, tracking number from the order id). */
static void ship(SellSync *h, struct order *o) {
    char doc[1024], lines[600] = "";
    char copy[sizeof o->items];
    snprintf(copy, sizeof copy, "%s", o->items);
    for (char *it = strtok(copy, ","); it != NULL; it = strtok(NULL, ",")) {
        char *colon = strchr(it, ':');
        if (colon == NULL) continue;
        *colon = '\0';
        size_t used = strlen(lines);
        snprintf(lines + used, sizeof lines - used, "%s{\"order_item_id\":\"%s\",\"quantity\":%s}",
                 used ? "," : "", it, colon + 1);
    }
    char tracking[40] = "1Z";
    for (const char *p = o->id; *p; p++)
        if (*p != '-') strncat(tracking, p, 1);
    snprintf(doc, sizeof doc,
             "{\"order_id\":\"%s\",\"package_reference_id\":\"1\",\"carrier_code\":\"UPS\","
             "\"tracking_number\":\"%s\",\"items\":[%s]}",
             o->id, tracking, lines);
    journal("ship %s 1", o->id);
    sellsync_status st = sellsync_shipment_confirm(h, doc);
    if (st != SELLSYNC_OK) die("sellsync_shipment_confirm", st);
    journal("shipok %s 1", o->id);
    o->shipped = 1;
}

/* Cancels the order (all of it, no inventory). */
static void cancel(SellSync *h, struct order *o) {
    journal("cancel %s", o->id);
    sellsync_status st = sellsync_order_cancel(h, o->id, "NoInventory");
    if (st != SELLSYNC_OK) die("sellsync_order_cancel", st);
    journal("cancelok %s", o->id);
    o->cancelled = 1;
}

/* Refunds 1.00 of the order's first item, under a refund_id of the host's own. */
static void refund(SellSync *h, struct order *o) {
    char item[sizeof o->items], doc[512];
    snprintf(item, sizeof item, "%s", o->items);
    char *colon = strchr(item, ':');
    if (colon != NULL) *colon = '\0';
    snprintf(doc, sizeof doc,
             "{\"order_id\":\"%s\",\"refund_id\":\"R-%s\",\"reason\":\"CustomerReturn\","
             "\"items\":[{\"order_item_id\":\"%s\",\"amount\":\"1.00\"}]}",
             o->id, o->id, item);
    journal("refund %s", o->id);
    sellsync_status st = sellsync_order_refund(h, doc);
    if (st != SELLSYNC_OK) die("sellsync_order_refund", st);
    journal("refundok %s", o->id);
    o->refunded = 1;
}

/* What is left to do for a seller-fulfilled order the host has booked and acknowledged. */
static void fulfil(SellSync *h, struct order *o) {
    enum fate f = fate_of(o->id);
    if (f == CANCEL) {
        if (!o->cancelled) cancel(h, o);
        return;
    }
    if (!o->shipped) ship(h, o);
    if (f == SHIP_AND_REFUND && !o->refunded) refund(h, o);
}

/* Books one order handed out by the library, acknowledges it and fulfils it. */
static void book(SellSync *h, const char *doc) {
    char id[32], by[16], list[160] = "";
    if (json_string(doc, "order_id", id, sizeof id) == NULL ||
        json_string(doc, "fulfilled_by", by, sizeof by) == NULL) {
        fprintf(stderr, "order document without order_id or fulfilled_by: %s\n", doc);
        exit(1);
    }
    const char *p = doc;
    char item[40];
    while ((p = json_string(p, "order_item_id", item, sizeof item)) != NULL) {
        const char *q = strstr(p, "\"quantity\":");
        if (q == NULL) break;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s:%ld", used ? "," : "", item, strtol(q + 11, NULL, 10));
    }
    if (list[0] == '\0') {
        fprintf(stderr, "order document without items: %s\n", doc);
        exit(1);
    }
    struct order *o = order(id);
    if (o->ref[0] == '\0') snprintf(o->ref, sizeof o->ref, "POS-%s", id);
    o->mfn = strcmp(by, "MERCHANT") == 0;
    snprintf(o->items, sizeof o->items, "%s", list);
    journal("took %s %s %c %s", o->id, o->ref, o->mfn ? 'M' : 'A', o->items);
    acknowledge(h, o);
    if (o->mfn) fulfil(h, o);
}

/* Takes every order ready; returns how many. */
static int take_orders(SellSync *h) {
    int n = 0;
    for (;;) {
        char *doc = NULL;
        sellsync_status st = sellsync_order_next(h, &doc);
        if (st != SELLSYNC_OK) die("sellsync_order_next", st);
        if (doc == NULL) return n;
        book(h, doc);
        sellsync_string_free(doc);
        n++;
    }
}

static void marker(const char *m) {
    printf("%s\n", m);
    fflush(stdout);
}

static void set_one(SellSync *h, int item, long on_hand) {
    char name[16];
    snprintf(name, sizeof name, "ITEM-%02d", item);
    journal("set %s %ld", name, on_hand);
    level[item] = on_hand;
    level_known[item] = 1;
    marker("> stock_set");
    sellsync_status st = sellsync_stock_set(h, name, on_hand);
    marker("< stock_set");
    if (st != SELLSYNC_OK) die("sellsync_stock_set", st);
    journal("setok %s %ld", name, on_hand);
}

/* Sets the levels of items first..first+count-1 (wrapping) in one batch; with random new
   levels unless keep. */
static void set_batch(SellSync *h, int first, int count, int keep) {
    static char doc[MAX_ITEMS * 64 + 32];
    strcpy(doc, "{\"levels\":[");
    int n = 0;
    for (int k = 0; k < count; k++) {
        int item = (first + k) % items;
        if (!mine(item) || (keep && !level_known[item])) continue;
        long on_hand = keep ? level[item] : (long)(next_random() % 21);
        journal("set ITEM-%02d %ld", item, on_hand);
        level[item] = on_hand;
        level_known[item] = 1;
        size_t used = strlen(doc);
        snprintf(doc + used, sizeof doc - used, "%s{\"host_item\":\"ITEM-%02d\",\"on_hand\":%ld}", n++ ? "," : "",
                 item, on_hand);
    }
    if (n == 0) return;
    strcat(doc, "]}");
    marker("> stock_set");
    sellsync_status st = sellsync_stock_set_batch(h, doc);
    marker("< stock_set");
    if (st != SELLSYNC_OK) die("sellsync_stock_set_batch", st);
    for (int k = 0; k < count; k++) {
        int item = (first + k) % items;
        if (mine(item) && level_known[item]) journal("setok ITEM-%02d %ld", item, level[item]);
    }
}

static void map_skus(SellSync *h) {
    static char doc[MAX_ITEMS * 96 + 64];
    strcpy(doc, "{\"mappings\":[");
    for (int i = 0; i < items + fba; i++) {
        size_t used = strlen(doc);
        if (i < items)
            snprintf(doc + used, sizeof doc - used, "%s{\"sku\":\"CRASH-%02d\",\"items\":[{\"host_item\":\"ITEM-%02d\"}]}",
                     i ? "," : "", i, i);
        else
            snprintf(doc + used, sizeof doc - used, ",{\"sku\":\"CRASH-FBA-%d\",\"fba\":true}", i - items);
    }
    strcat(doc, "]}");
    sellsync_status st = sellsync_sku_map(h, doc);
    if (st != SELLSYNC_OK) die("sellsync_sku_map", st);
}

/* What a POS does after a crash: finish what its book says it began, report its shelf. */
static void recover(SellSync *h) {
    map_skus(h);
    for (size_t i = 0; i < SLOTS; i++) {
        struct order *o = &orders[i];
        if (o->id[0] == '\0') continue;
        if (!o->acked) acknowledge(h, o);
        if (o->mfn) fulfil(h, o);
    }
    int unknown = 0;
    for (int i = 0; i < items; i++) unknown += mine(i) && !level_known[i];
    if (unknown > 0) set_batch(h, 0, items, 0); /* first start: every item gets a level */
    set_batch(h, 0, items, 1);
}

/* Waits up to wait_ms for an event and acknowledges it; returns whether there was one. */
static int acknowledge_event(SellSync *h, int32_t wait_ms) {
    char *ev = NULL;
    sellsync_status st = sellsync_event_next(h, wait_ms, &ev);
    if (st != SELLSYNC_OK) die("sellsync_event_next", st);
    if (ev == NULL) return 0;
    const char *p = strstr(ev, "\"seq\":");
    if (p == NULL) {
        fprintf(stderr, "event without seq: %s\n", ev);
        exit(1);
    }
    if (strstr(ev, "\"type\":\"adjustment.failed\"") != NULL) {
        char id[32];
        journal("failed %s adjustment.failed", json_string(ev, "order_id", id, sizeof id) ? id : "-");
    }
    if ((st = sellsync_event_ack(h, strtoll(p + 6, NULL, 10))) != SELLSYNC_OK) die("sellsync_event_ack", st);
    sellsync_string_free(ev);
    return 1;
}

static void run(SellSync *h) {
    sellsync_status st = sellsync_start(h);
    if (st != SELLSYNC_OK) die("sellsync_start", st);
    marker("running");
    for (;;) {
        take_orders(h);
        uint32_t r = next_random() % 100;
        if (r < 60)
            set_one(h, till_index + tills * (int)(next_random() % (uint32_t)own_items()), (long)(next_random() % 21));
        else if (r < 75)
            set_batch(h, (int)(next_random() % (uint32_t)items), 2 + (int)(next_random() % 6), 0);
        else if (r == 75)
            set_batch(h, 0, items, 0); /* a delivery: every item at once (bulk) */
        acknowledge_event(h, 20);
    }
}

/* Whether "key": in a JSON document is followed by the number 0. */
static int zero(const char *doc, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(doc, pattern);
    return p != NULL && p[strlen(pattern)] == '0' && (p[strlen(pattern) + 1] < '0' || p[strlen(pattern) + 1] > '9');
}

/* Nothing waits for the host or for Amazon. */
static int settled(SellSync *h) {
    char *state = NULL;
    sellsync_status st = sellsync_state(h, &state);
    if (st != SELLSYNC_OK) die("sellsync_state", st);
    const char *keys[] = {"out_of_step", "open_feeds", "in_flight", "shipments_queued", "shipments_uncertain",
                          "shipments_failed", "waiting_for_host", "pending", "adjustments_queued",
                          "adjustments_in_feeds"};
    int done = 1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) done = done && zero(state, keys[i]);
    if (!done) printf("state %s\n", state);
    sellsync_string_free(state);
    return done;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* sellsync_sync_now; with several tills, retried for up to 60 s while another process holds
   the lease (a killed leader's lease runs out within lease_seconds). */
static sellsync_status sync_now(SellSync *h, uint32_t flows) {
    double until = now_s() + 60;
    for (;;) {
        sellsync_status st = sellsync_sync_now(h, flows);
        if (st != SELLSYNC_ERR_INVALID_STATE || tills == 1 || now_s() > until) return st;
        printf("sync: %s: %s (retrying)\n", sellsync_status_str(st), sellsync_last_error());
        fflush(stdout);
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static int drain(SellSync *h) {
    double until = now_s() + 120;
    int quiet = 0;
    while (quiet < 2) {
        if (now_s() > until) {
            fprintf(stderr, "drain: no progress for 120 s\n");
            return 1;
        }
        sellsync_status st = sync_now(h, SELLSYNC_FLOW_ALL);
        if (st != SELLSYNC_OK) {
            printf("sync: %s: %s\n", sellsync_status_str(st), sellsync_last_error());
            quiet = 0;
            continue;
        }
        if (take_orders(h) > 0) {
            quiet = 0;
            until = now_s() + 120; /* a backlog may take a while: 120 s without progress */
        } else {
            quiet++;
        }
        while (acknowledge_event(h, 0)) {
        }
    }
    /* Every order is acknowledged: the shelf is reported once more after all of them. */
    set_batch(h, 0, items, 1);
    until = now_s() + 300;
    for (;;) {
        sellsync_status st = sync_now(h, SELLSYNC_FLOW_STOCK | SELLSYNC_FLOW_SHIPMENTS);
        if (st != SELLSYNC_OK) printf("sync: %s: %s\n", sellsync_status_str(st), sellsync_last_error());
        if (st == SELLSYNC_OK && settled(h)) break;
        if (now_s() > until) {
            fprintf(stderr, "drain: stock and shipments did not settle in 300 s\n");
            return 1;
        }
        acknowledge_event(h, 50); /* feeds take a while at Amazon */
    }
    journal("drained");
    marker("drained");
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 9) {
        fprintf(stderr, "usage: crash_host run|drain|recover CONFIG_JSON_FILE JOURNAL ITEMS FBA SEED [TILL_INDEX TILLS]\n");
        return 2;
    }
    const char *mode = argv[1];
    items = atoi(argv[4]);
    fba = atoi(argv[5]);
    if (argc == 9) {
        till_index = atoi(argv[7]);
        tills = atoi(argv[8]);
    }
    if (items < 1 || items > MAX_ITEMS || fba < 0 || fba > 9 || tills < 1 || tills > items || till_index < 0 ||
        till_index >= tills) {
        fprintf(stderr, "ITEMS must be 1 to %d, FBA 0 to 9, TILLS 1 to ITEMS and TILL_INDEX below TILLS\n", MAX_ITEMS);
        return 2;
    }
    rng = strtoull(argv[6], NULL, 10);
    orders = calloc(SLOTS, sizeof *orders);
    if (orders == NULL) fail("calloc");
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) fail(argv[2]);
    static char config[8192];
    size_t n = fread(config, 1, sizeof config - 1, f);
    fclose(f);
    config[n] = '\0';

    open_journal(argv[3]);
    journal("start %ld %s", (long)getpid(), mode);
    SellSync *h = NULL;
    sellsync_status st = sellsync_open(config, &h);
    if (st != SELLSYNC_OK) die("sellsync_open", st);
    recover(h);
    int code = 0;
    if (strcmp(mode, "run") == 0)
        run(h);
    else if (strcmp(mode, "drain") == 0)
        code = drain(h);
    else if (strcmp(mode, "recover") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        code = 2;
    }
    if ((st = sellsync_close(h)) != SELLSYNC_OK) die("sellsync_close", st);
    free(orders);
    return code;
}
