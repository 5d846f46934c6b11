/*
 * The shortest host: opens sellsync with a configuration file, takes the orders waiting on
 * Amazon, acknowledges each with the host's own reference, and closes.
 *
 * usage: hello CONFIG_JSON_FILE
 * build: cc hello.c $(pkg-config --cflags --libs sellsync) -o hello
 */
#include "sellsync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, sellsync_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hello CONFIG_JSON_FILE\n");
        return 2;
    }
    char config[65536] = {0};
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(config, 1, sizeof config - 1, f) == 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);

    SellSync *h = NULL;
    if (sellsync_open(config, &h) != SELLSYNC_OK) return fail("open");
    if (sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) != SELLSYNC_OK) return fail("sync");
    int taken = 0;
    char *order = NULL;
    while (sellsync_order_next(h, &order) == SELLSYNC_OK && order) {
        /* The document is compact JSON: "order_id":"...". */
        char id[64] = {0}, ref[80];
        const char *at = strstr(order, "\"order_id\":\"");
        if (at) sscanf(at + 12, "%63[^\"]", id);
        sellsync_string_free(order);
        snprintf(ref, sizeof ref, "POS-%d", ++taken);
        if (sellsync_order_ack(h, id, ref) != SELLSYNC_OK) return fail("ack");
        printf("order %s booked as %s\n", id, ref);
    }
    printf("took %d orders (sellsync %s)\n", taken, sellsync_version());
    return sellsync_close(h) == SELLSYNC_OK ? 0 : fail("close");
}
