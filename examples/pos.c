/*
 * A small POS that takes its Amazon orders through libsellsync.
 *
 * usage: pos CONFIG_JSON_FILE SECONDS STOCK_FILE [STORE_SALES_PER_HOUR SPEED]
 *
 * It maps its items to the shop's Amazon SKUs and tells sellsync its stock, starts the
 * library's background worker, waits for events, and books every order that is ready into its
 * own (toy) order book with its own order number and every line's amounts (items, tax,
 * shipping, gift wrap, discounts), checking that they add up to what Amazon charged,
 * acknowledging each to sellsync and reporting the new stock. Meanwhile customers buy in the shop itself, STORE_SALES_PER_HOUR on average
 * (default 3) in emulated hours, which pass SPEED times faster than real ones (default 1).
 * Status changes after hand-over (cancellations) are printed as they come. At the end it
 * writes its stock to STOCK_FILE.
 */
#define _POSIX_C_SOURCE 200809L
#include "sellsync.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, sellsync_status st) {
    fprintf(stderr, "%s failed: %s: %s\n", what, sellsync_status_str(st), sellsync_last_error());
    exit(1);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(1);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Copies "key":"value" (the first one) of a JSON document into out; "" if absent. */
static void field(const char *doc, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    out[0] = '\0';
    const char *p = strstr(doc, pattern);
    if (p == NULL) return;
    p += strlen(pattern);
    if (*p == '"') {
        p++;
        const char *end = strchr(p, '"');
        if (end == NULL) return;
        size_t n = (size_t)(end - p) < cap - 1 ? (size_t)(end - p) : cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    } else {
        size_t n = strcspn(p, ",}");
        if (n > cap - 1) n = cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

/* An amount ("12.34", "-0.50", "5") in cents; 0 when absent. */
static long cents(const char *doc, const char *key) {
    char text[32];
    field(doc, key, text, sizeof text);
    if (text[0] == '\0' || strcmp(text, "null") == 0) return 0;
    int negative = text[0] == '-';
    const char *p = text + negative;
    long whole = strtol(p, NULL, 10), part = 0;
    const char *dot = strchr(p, '.');
    if (dot != NULL && dot[1] >= '0' && dot[1] <= '9') {
        part = (dot[1] - '0') * 10;
        if (dot[2] >= '0' && dot[2] <= '9') part += dot[2] - '0';
    }
    long v = whole * 100 + part;
    return negative ? -v : v;
}

#define MAX_LINES 16

/* One line of an order as the POS books it. */
struct line {
    char item_id[48], sku[64];
    long quantity;
    long items, tax, shipping, gift_wrap, discount, charged; /* cents */
};

/* Reads the order's lines: each item object runs from its "order_item_id" to the next. */
static int read_lines(const char *order, struct line *lines) {
    int n = 0;
    const char *p = strstr(order, "\"order_item_id\":");
    while (p != NULL && n < MAX_LINES) {
        const char *next = strstr(p + 1, "\"order_item_id\":");
        size_t len = next != NULL ? (size_t)(next - p) : strlen(p);
        char *item = malloc(len + 1);
        if (item == NULL) exit(1);
        memcpy(item, p, len);
        item[len] = '\0';
        struct line *l = &lines[n++];
        char qty[16];
        field(item, "order_item_id", l->item_id, sizeof l->item_id);
        field(item, "sku", l->sku, sizeof l->sku);
        field(item, "quantity", qty, sizeof qty);
        l->quantity = atol(qty);
        l->items = cents(item, "line_total");
        l->tax = cents(item, "item_tax") + cents(item, "shipping_tax") + cents(item, "gift_wrap_tax") -
                 cents(item, "discount_tax");
        l->shipping = cents(item, "shipping_price");
        l->gift_wrap = cents(item, "gift_wrap_price");
        l->discount = cents(item, "discount");
        l->charged = cents(item, "charged");
        free(item);
        p = next;
    }
    return n;
}

#define ITEMS 36 /* DEMO-001..DEMO-036 are the shop's own; DEMO-037..040 are fulfilled by Amazon */
static long stock[ITEMS + 1];

static void report_stock(SellSync *h, int item) {
    char name[16];
    snprintf(name, sizeof name, "ITEM-%03d", item);
    sellsync_status st = sellsync_stock_set(h, name, stock[item]);
    if (st != SELLSYNC_OK) die("sellsync_stock_set", st);
}

static void setup_stock(SellSync *h) {
    char mapping[8192] = "{\"mappings\":[";
    char levels[4096] = "{\"levels\":[";
    for (int i = 1; i <= 40; i++) {
        char one[128];
        if (i <= ITEMS)
            snprintf(one, sizeof one, "%s{\"sku\":\"DEMO-%03d\",\"items\":[{\"host_item\":\"ITEM-%03d\"}]}",
                     i > 1 ? "," : "", i, i);
        else
            snprintf(one, sizeof one, ",{\"sku\":\"DEMO-%03d\",\"fba\":true}", i);
        strcat(mapping, one);
    }
    strcat(mapping, "]}");
    sellsync_status st = sellsync_sku_map(h, mapping);
    if (st != SELLSYNC_OK) die("sellsync_sku_map", st);
    for (int i = 1; i <= ITEMS; i++) {
        char one[96];
        stock[i] = 3 + (i * 5) % 17; /* what is really on the shelf, not what Amazon shows */
        snprintf(one, sizeof one, "%s{\"host_item\":\"ITEM-%03d\",\"on_hand\":%ld}", i > 1 ? "," : "", i, stock[i]);
        strcat(levels, one);
    }
    strcat(levels, "]}");
    if ((st = sellsync_stock_set_batch(h, levels)) != SELLSYNC_OK) die("sellsync_stock_set_batch", st);
}

/* The shop's prices for three of its SKUs on Amazon.com, with the seller's floor: a price under
 * it is refused at the call; a change too large waits for the clerk's confirmation (an event). */
static void set_prices(SellSync *h) {
    const char *typo = "{\"prices\":[{\"sku\":\"DEMO-002\",\"marketplace_id\":\"ATVPDKIKX0DER\","
                       "\"price\":\"4.99\",\"minimum\":\"5.00\"}]}";
    sellsync_status st = sellsync_price_set(h, typo);
    if (st == SELLSYNC_OK) die("sellsync_price_set (a price under the floor was taken)", st);
    printf("POS: price refused at the till: %s\n", sellsync_last_error());
    const char *prices = "{\"prices\":["
                         "{\"sku\":\"DEMO-001\",\"marketplace_id\":\"ATVPDKIKX0DER\",\"price\":\"7.99\"},"
                         "{\"sku\":\"DEMO-002\",\"marketplace_id\":\"ATVPDKIKX0DER\",\"price\":\"8.99\","
                         "\"minimum\":\"5.00\",\"maximum\":\"20.00\"},"
                         "{\"sku\":\"DEMO-003\",\"marketplace_id\":\"ATVPDKIKX0DER\",\"price\":\"1.24\"}]}";
    if ((st = sellsync_price_set(h, prices)) != SELLSYNC_OK) die("sellsync_price_set", st);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What the events told the POS. */
static long cancelled = 0, cancel_requests = 0, syncs = 0, returns = 0, prices_applied = 0, prices_confirmed = 0;

/* Acts on one event, then acknowledges it (an event not acknowledged comes again, e.g. after
 * a crash), and frees it. */
static void handle_event(SellSync *h, char *event, double start) {
    sellsync_status st;
    char type[48], order_id[32], status[32];
    field(event, "type", type, sizeof type);
    field(event, "order_id", order_id, sizeof order_id);
    if (strcmp(type, "order.status_changed") == 0) {
        field(event, "new_status", status, sizeof status);
        printf("  ! Amazon order %s is now %s\n", order_id, status);
        if (strcmp(status, "CANCELLED") == 0) cancelled++;
    } else if (strcmp(type, "order.returned") == 0) {
        char sku[64], qty[16], reason[48], by[16];
        field(event, "sku", sku, sizeof sku);
        field(event, "quantity", qty, sizeof qty);
        field(event, "reason", reason, sizeof reason);
        field(event, "fulfilled_by", by, sizeof by);
        printf("  <- the buyer of Amazon order %s returns %sx %s (%s)", order_id, qty, sku, reason);
        /* The shop's own units come back to its shelf; FBA returns stay at Amazon. */
        int item = strncmp(sku, "DEMO-", 5) == 0 ? atoi(sku + 5) : 0;
        if (strcmp(by, "MERCHANT") == 0 && item >= 1 && item <= ITEMS) {
            stock[item] += atol(qty);
            report_stock(h, item);
            printf(": back on the shelf\n");
        } else {
            printf("\n");
        }
        returns++;
    } else if (strncmp(type, "price.", 6) == 0) {
        char sku[64], price[24], currency[8];
        field(event, "sku", sku, sizeof sku);
        field(event, "price", price, sizeof price);
        field(event, "currency", currency, sizeof currency);
        if (strcmp(type, "price.confirmation_needed") == 0) {
            char reference[24], change[24];
            field(event, "reference", reference, sizeof reference);
            field(event, "change_percent", change, sizeof change);
            /* A real till asks the clerk; the demo's clerk says yes. */
            printf("  ? %s to %s %s is a change of %s%% from %s: the clerk confirms it\n", sku, price, currency,
                   change, reference);
            if ((st = sellsync_price_confirm(h, sku, "ATVPDKIKX0DER")) != SELLSYNC_OK) die("sellsync_price_confirm", st);
            prices_confirmed++;
        } else if (strcmp(type, "price.applied") == 0) {
            printf("  $ Amazon sells %s at %s %s now\n", sku, price, currency);
            prices_applied++;
        } else if (strcmp(type, "price.refused") == 0) {
            char message[200];
            field(event, "message", message, sizeof message);
            printf("  ! price of %s refused: %s\n", sku, message);
        }
    } else if (strcmp(type, "order.buyer_cancel_requested") == 0) {
        printf("  ! buyer asks to cancel Amazon order %s\n", order_id);
        cancel_requests++;
    } else if (strcmp(type, "sync.completed") == 0) {
        char fresh[16], calls[16];
        field(event, "orders_new", fresh, sizeof fresh);
        field(event, "api_calls", calls, sizeof calls);
        syncs++;
        if (strcmp(fresh, "0") != 0)
            printf("[%5.1fs] sync: %s new orders, %s API calls\n", now_s() - start, fresh, calls);
    } else if (strcmp(type, "stock.synced") == 0) {
        char patched[16], messages[16], finished[16];
        field(event, "patched", patched, sizeof patched);
        field(event, "messages", messages, sizeof messages);
        field(event, "feeds_finished", finished, sizeof finished);
        printf("[%5.1fs] stock: %s quantities set directly, %s in a bulk feed, %s feeds confirmed\n",
               now_s() - start, patched, messages, finished);
    } else if (strcmp(type, "performance.at_risk") == 0) {
        char message[240];
        field(event, "message", message, sizeof message);
        printf("  ! performance: %s\n", message);
    } else if (strcmp(type, "sync.failed") == 0) {
        char message[200];
        field(event, "message", message, sizeof message);
        printf("[%5.1fs] sync failed (will retry): %s\n", now_s() - start, message);
    }
    /* Acted on: acknowledge it (an event not acknowledged comes again, e.g. after a crash). */
    char seq[24];
    field(event, "seq", seq, sizeof seq);
    if ((st = sellsync_event_ack(h, atoll(seq))) != SELLSYNC_OK) die("sellsync_event_ack", st);
    sellsync_string_free(event);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: pos CONFIG_JSON_FILE SECONDS STOCK_FILE [STORE_SALES_PER_HOUR SPEED]\n");
        return 2;
    }
    char *config = read_file(argv[1]);
    double seconds = atof(argv[2]);
    /* In-store sales per real second: a Poisson process at the shop's rate in emulated time. */
    double sales_per_second = (argc == 6 ? atof(argv[4]) * atof(argv[5]) : 3.0) / 3600.0;
    printf("POS: sellsync %s\n", sellsync_version());

    SellSync *h = NULL;
    sellsync_status st = sellsync_open(config, &h);
    if (st != SELLSYNC_OK) die("sellsync_open", st);
    setup_stock(h);
    set_prices(h);
    if ((st = sellsync_start(h)) != SELLSYNC_OK) die("sellsync_start", st);

    long next_pos_number = 1001, booked = 0, store_sales = 0;
    long shipped = 0, cancelled_by_shop = 0, lines_booked = 0, balanced = 0, unbalanced = 0;
    unsigned seed = 7;
    double start = now_s(), last_sale_check = start, sale_budget = 0, next_gap = 1;
    while (now_s() - start < seconds) {
        char *event = NULL;
        if ((st = sellsync_event_next(h, 100, &event)) != SELLSYNC_OK) die("sellsync_event_next", st);
        if (event != NULL) handle_event(h, event, start);
        /* Book every order that is ready. */
        for (;;) {
            char *order = NULL;
            if ((st = sellsync_order_next(h, &order)) != SELLSYNC_OK) die("sellsync_order_next", st);
            if (order == NULL) break;
            char id[32], city[64], by[16], ref[32], currency[8], included[8];
            struct line lines[MAX_LINES];
            field(order, "order_id", id, sizeof id);
            field(order, "city", city, sizeof city);
            field(order, "fulfilled_by", by, sizeof by);
            field(order, "currency", currency, sizeof currency);
            field(order, "tax_included", included, sizeof included);
            int n = read_lines(order, lines);
            /* The sale as the till books it: every line's items, shipping, gift wrap, less the
             * discounts, plus the taxes where prices exclude them, and what no line carries. */
            long items = 0, tax = 0, shipping = 0, discounts = 0, booked_total = cents(order, "other_charges");
            int lines_add_up = 1;
            for (int i = 0; i < n; i++) {
                struct line *l = &lines[i];
                long expect = l->items + l->shipping + l->gift_wrap - l->discount +
                              (strcmp(included, "true") == 0 ? 0 : l->tax);
                lines_add_up &= expect == l->charged;
                items += l->items + l->gift_wrap;
                tax += l->tax;
                shipping += l->shipping;
                discounts += l->discount;
                booked_total += l->charged;
            }
            long total = cents(order, "total");
            int adds_up = lines_add_up && booked_total == total;
            balanced += adds_up;
            unbalanced += !adds_up;
            lines_booked += n;
            snprintf(ref, sizeof ref, "POS-%ld", next_pos_number++);
            if ((st = sellsync_order_ack(h, id, ref)) != SELLSYNC_OK) die("sellsync_order_ack", st);
            printf("  %s <- Amazon %s: %d line%s (%ldx %s%s), items %ld.%02ld, shipping %ld.%02ld, "
                   "discounts -%ld.%02ld, tax %ld.%02ld%s: %s %ld.%02ld%s%s%s\n",
                   ref, id, n, n == 1 ? "" : "s", lines[0].quantity, lines[0].sku, n > 1 ? ", ..." : "",
                   items / 100, items % 100, shipping / 100, shipping % 100, discounts / 100, discounts % 100,
                   tax / 100, tax % 100, strcmp(included, "true") == 0 ? " (in the prices)" : "", currency,
                   total / 100, total % 100, adds_up ? "" : " DOES NOT ADD UP",
                   strcmp(by, "AMAZON") == 0 ? " (fulfilled by Amazon)" : ", ship to ",
                   strcmp(by, "AMAZON") == 0 ? "" : city);
            booked++;
            /* The POS takes the units off its shelf, packs and ships them, and reports the new
             * stock; an order it cannot fill is cancelled at once (it costs the seller's
             * cancellation rate, which the performance table at the end shows). */
            if (strcmp(by, "AMAZON") != 0) {
                int fillable = n > 0;
                for (int i = 0; i < n; i++) {
                    int item = atoi(lines[i].sku + 5);
                    fillable &= item >= 1 && item <= ITEMS && stock[item] >= lines[i].quantity;
                }
                if (fillable) {
                    char shipment[2048], one[96];
                    snprintf(shipment, sizeof shipment,
                             "{\"order_id\":\"%s\",\"carrier_code\":\"DHL\",\"tracking_number\":\"JJD%ld\","
                             "\"items\":[",
                             id, next_pos_number);
                    for (int i = 0; i < n; i++) {
                        int item = atoi(lines[i].sku + 5);
                        stock[item] -= lines[i].quantity;
                        report_stock(h, item);
                        snprintf(one, sizeof one, "%s{\"order_item_id\":\"%s\",\"quantity\":%ld}", i ? "," : "",
                                 lines[i].item_id, lines[i].quantity);
                        strcat(shipment, one);
                    }
                    strcat(shipment, "]}");
                    if ((st = sellsync_shipment_confirm(h, shipment)) != SELLSYNC_OK) die("sellsync_shipment_confirm", st);
                    shipped++;
                } else {
                    printf("  !! %s: the shelf is empty (sold in the shop at the same time): cancelling\n", lines[0].sku);
                    if ((st = sellsync_order_cancel(h, id, "NoInventory")) != SELLSYNC_OK) die("sellsync_order_cancel", st);
                    cancelled_by_shop++;
                }
            }
            sellsync_string_free(order);
        }
        /* Customers in the shop buy too: a Poisson process, its gaps drawn as exponential
         * amounts of expected sales and spent as time passes. */
        double now = now_s();
        sale_budget += (now - last_sale_check) * sales_per_second;
        last_sale_check = now;
        while (sale_budget >= next_gap) {
            sale_budget -= next_gap;
            seed = seed * 1103515245u + 12345u;
            next_gap = -log(((seed >> 8) + 1) / 16777217.0);
            seed = seed * 1103515245u + 12345u;
            int item = 1 + (int)((seed >> 16) % ITEMS);
            if (stock[item] == 0) continue; /* the customer finds the shelf empty */
            stock[item] -= 1;
            store_sales++;
            if (stock[item] == 0) printf("  shop sold its last ITEM-%03d: Amazon is told at once\n", item);
            report_stock(h, item);
        }
        fflush(stdout);
    }
    /* Last cycles so Amazon has the final stock and every confirmation before the POS closes:
     * first Amazon's reports (listings, FBA stock, returns) once more, a returned unit being
     * stock again. */
    if ((st = sellsync_stop(h)) != SELLSYNC_OK) die("sellsync_stop", st);
    for (int i = 0; i < 6; i++) {
        if ((st = sellsync_sync_now(h, SELLSYNC_FLOW_LISTINGS)) != SELLSYNC_OK) die("sellsync_sync_now", st);
        char *event = NULL;
        while (sellsync_event_next(h, 100, &event) == SELLSYNC_OK && event != NULL) handle_event(h, event, start);
    }
    double until = now_s() + 20;
    for (;;) {
        if ((st = sellsync_sync_now(h, SELLSYNC_FLOW_STOCK | SELLSYNC_FLOW_SHIPMENTS)) != SELLSYNC_OK) die("sellsync_sync_now", st);
        char *status = NULL, *event = NULL;
        if ((st = sellsync_state(h, &status)) != SELLSYNC_OK) die("sellsync_state", st);
        int settled = strstr(status, "\"out_of_step\":0,") != NULL && strstr(status, "\"open_feeds\":0") != NULL &&
                      strstr(status, "\"shipments_queued\":0,") != NULL;
        sellsync_string_free(status);
        if (settled || now_s() > until) break;
        /* Wait a little for Amazon (feeds take a while) while reading events. */
        while (sellsync_event_next(h, 50, &event) == SELLSYNC_OK && event != NULL) handle_event(h, event, start);
    }
    /* The shop's stock at Amazon's warehouses, beside its own shelf. */
    char *fba = NULL;
    if ((st = sellsync_fba_stock(h, &fba)) != SELLSYNC_OK) die("sellsync_fba_stock", st);
    printf("\nPOS: stock fulfilled by Amazon (as last read):\n");
    const char *list = strstr(fba, "\"skus\":[");
    /* Each SKU is one flat object: read its members within its braces. */
    for (const char *p = list ? strchr(list, '{') : NULL; p != NULL; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        char one[512], sku[64], sellable[16], inbound[16], reserved[16], damaged[16], total[16];
        size_t len = end != NULL && (size_t)(end - p) < sizeof one ? (size_t)(end - p) : sizeof one - 1;
        memcpy(one, p, len);
        one[len] = '\0';
        field(one, "sku", sku, sizeof sku);
        field(one, "fulfillable", sellable, sizeof sellable);
        field(one, "inbound_shipped", inbound, sizeof inbound);
        field(one, "reserved", reserved, sizeof reserved);
        field(one, "unfulfillable", damaged, sizeof damaged);
        field(one, "total", total, sizeof total);
        printf("  %s: %s sellable, %s on the way in, %s reserved, %s unfulfillable, %s in all\n", sku, sellable,
               inbound, reserved, damaged, total);
    }
    if (strstr(fba, "\"sku\":") == NULL) printf("  (not read yet: it comes with the listings report)\n");
    sellsync_string_free(fba);
    if ((st = sellsync_close(h)) != SELLSYNC_OK) die("sellsync_close", st);
    free(config);
    FILE *out = fopen(argv[3], "w");
    if (out == NULL) return 1;
    for (int i = 1; i <= ITEMS; i++) fprintf(out, "DEMO-%03d %ld\n", i, stock[i]);
    fclose(out);
    printf("\nPOS: %ld Amazon orders booked and acknowledged (%ld lines; %ld with totals adding up to what "
           "Amazon charged, %ld not), %ld shipped, %ld cancelled for lack of stock, "
           "%ld sales in the shop, %ld cancelled by buyers or Amazon after booking, %ld cancellation requests, "
           "%ld returns, %ld prices applied on Amazon (%ld after the clerk's confirmation), %ld sync cycles.\n",
           booked, lines_booked, balanced, unbalanced, shipped, cancelled_by_shop, store_sales, cancelled,
           cancel_requests, returns, prices_applied, prices_confirmed, syncs);
    return booked > 0 && unbalanced == 0 ? 0 : 1;
}
