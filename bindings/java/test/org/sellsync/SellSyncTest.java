package org.sellsync;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Tests of the Java binding against the real libsellsync and a running sellsync-emulator
 * (its URL in SELLSYNC_EMULATOR_URL). Each test has its own seller on the emulator and its own
 * store, prints one line, and the run ends with "N passed, N failed".
 */
public final class SellSyncTest {
    static final String MARKETPLACE = "ATVPDKIKX0DER";
    static final String CLIENT_ID = "amzn1.application-oa2-client.emulator";
    static final String CLIENT_SECRET = "emulator-client-secret";

    static String emulatorUrl;
    static Path dir;
    static int sellers;
    static final String RUN = Long.toString(System.currentTimeMillis() % 2176782336L, 36).toUpperCase();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    // ---- a tiny runner ---------------------------------------------------------------------------

    interface Body {
        void run() throws Exception;
    }

    static int passed;
    static int failed;

    static void test(String name, Body body) {
        try {
            body.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL " + name + ": " + t);
            StackTraceElement[] at = t.getStackTrace();
            for (int i = 0; i < Math.min(at.length, 4); i++) {
                System.out.println("       at " + at[i]);
            }
        }
        System.out.flush();
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** Runs the call and returns the exception it must throw, of exactly that class. */
    static <T extends Throwable> T raises(Class<T> type, Call call) throws Exception {
        try {
            call.run();
        } catch (Throwable t) {
            if (t.getClass() == type) {
                return type.cast(t);
            }
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", nothing thrown");
    }

    /** Polls a condition until it holds, at most `seconds`; never a sleep as synchronisation. */
    static void waitFor(BooleanSupplier condition, double seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(20); // the polling interval of a bounded wait
        }
    }

    /** Runs `flows` again and again until the condition holds (each run waits on the library). */
    static void syncUntil(SellSync shop, int flows, BooleanSupplier condition, String what) throws InterruptedException {
        waitFor(() -> {
            shop.syncNow(flows);
            return condition.getAsBoolean();
        }, 60, what);
    }

    // ---- the emulator's control API and a seller per test ----------------------------------------

    @SuppressWarnings("unchecked")
    static Map<String, Object> control(String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(emulatorUrl + "/_emulator/" + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("content-type", "application/json");
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(Json.write(body)));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError(method + " " + path + ": " + r.statusCode() + " " + r.body());
            }
            return Json.object(r.body());
        } catch (IOException e) {
            throw new AssertionError("emulator: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A seller of its own on the emulator, with listings, and the configuration to reach it. */
    static final class Seller {
        final String id;
        final String refreshToken;
        final Map<String, Object> config;

        Seller(String... skus) {
            int n = ++sellers;
            id = "AJAVA" + RUN + "T" + n; // unique, so a run on an emulator used before still works
            refreshToken = "Atzr|java-test-" + RUN + "-" + n;
            control("POST", "sellers", Map.of(
                    "seller_id", id, "client_id", CLIENT_ID, "client_secret", CLIENT_SECRET,
                    "refresh_token", refreshToken, "marketplace_ids", List.of(MARKETPLACE)));
            List<Object> listings = new ArrayList<>();
            for (String sku : skus) {
                listings.add(Map.of("sku", sku, "quantity", 50, "price_cents", 1299));
            }
            control("POST", "listings", Map.of("seller_id", id, "listings", listings));
            config = new LinkedHashMap<>();
            config.put("store_path", dir.resolve(id + ".sqlite").toString());
            config.put("seller_id", id);
            config.put("marketplace_ids", List.of(MARKETPLACE));
            config.put("endpoint", emulatorUrl);
            config.put("http_allow_insecure_loopback", true);
            config.put("credentials", Map.of("client_id", CLIENT_ID, "client_secret", CLIENT_SECRET,
                    "refresh_token", refreshToken));
            config.put("http", Map.of("timeout_ms", 5000, "max_attempts", 8, "backoff_initial_ms", 5,
                    "backoff_max_ms", 50));
        }

        @SuppressWarnings("unchecked")
        List<String> placeOrders(int count, String sku, int quantity) {
            Map<String, Object> r = control("POST", "orders", Map.of("seller_id", id, "count", count,
                    "lines", List.of(List.of(sku, quantity)), "age_seconds", 600,
                    // Visible to searches at once: these tests are about the binding.
                    "search_lag_seconds", 0));
            List<String> ids = new ArrayList<>();
            for (Object o : (List<Object>) r.get("order_ids")) {
                ids.add((String) o);
            }
            return ids;
        }

        SellSync open() {
            return new SellSync(config);
        }

        @SuppressWarnings("unchecked")
        long quantity(String sku) {
            for (Object o : (List<Object>) control("GET", "state", null).get("listings")) {
                Map<String, Object> l = (Map<String, Object>) o;
                if (id.equals(l.get("seller_id")) && sku.equals(l.get("sku"))) {
                    return ((Number) l.get("quantity")).longValue();
                }
            }
            throw new AssertionError("no listing " + sku + " of " + id);
        }

        /** The emulator's records of one kind ("shipments", "cancellations") for this seller's orders. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> records(String kind, Set<String> orderIds) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Object o : (List<Object>) control("GET", "state", null).get(kind)) {
                Map<String, Object> r = (Map<String, Object>) o;
                if (orderIds.contains(r.get("order_id"))) {
                    out.add(r);
                }
            }
            return out;
        }
    }

    static Map<String, Object> obj(String json) {
        return Json.object(json);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value) {
        return (List<Object>) value;
    }

    static long num(Object value) {
        return ((Number) value).longValue();
    }

    static String orderId(String orderJson) {
        return (String) obj(orderJson).get("order_id");
    }

    /** Takes every order ready and acknowledges each; returns the documents. */
    static List<String> takeAndAck(SellSync shop) {
        List<String> orders = shop.ordersReady();
        for (String o : orders) {
            shop.orderAck(orderId(o), "POS-" + orderId(o));
        }
        return orders;
    }

    /** Every event waiting, each acknowledged. */
    static List<Map<String, Object>> drainEvents(SellSync shop) {
        List<Map<String, Object>> events = new ArrayList<>();
        for (String e = shop.eventNext(); e != null; e = shop.eventNext()) {
            events.add(obj(e));
            shop.eventAck(e);
        }
        return events;
    }

    static Set<String> ids(List<String> orders) {
        Set<String> s = new HashSet<>();
        for (String o : orders) {
            s.add(orderId(o));
        }
        return s;
    }

    // ---- the tests -------------------------------------------------------------------------------

    static void ordersTakenAndAcknowledged() throws Exception {
        Seller seller = new Seller("SKU-A");
        List<String> placed = seller.placeOrders(5, "SKU-A", 1);
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            List<String> first = shop.ordersReady();
            equal(new HashSet<>(placed), ids(first), "orders taken");
            Map<String, Object> one = obj(first.get(0));
            equal(MARKETPLACE, one.get("marketplace_id"), "marketplace");
            check(!list(one.get("items")).isEmpty(), "items in the order");
            equal(null, shop.orderNext(), "taken, not acknowledged: not handed again at once");
        }
        try (SellSync shop = seller.open()) { // a new process gets them again, at once
            List<String> again = takeAndAck(shop);
            equal(new HashSet<>(placed), ids(again), "orders again in a new handle");
            equal(null, shop.orderNext(), "nothing after the acks");
            String id = placed.get(0);
            shop.orderAck(id, "POS-" + id); // the same reference again: fine
            ConflictException e = raises(ConflictException.class, () -> shop.orderAck(id, "POS-OTHER"));
            equal(Status.CONFLICT, e.code(), "conflict code");
            check(!e.detail().isEmpty(), "conflict has a message");
            shop.syncNow(Flow.ORDERS);
            equal(null, shop.orderNext(), "acknowledged orders are not handed out after a sync");
            equal(5L, num(obj(obj(shop.state()).get("orders")).get("acknowledged")), "state: acknowledged");
        }
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            equal(Collections.emptyList(), shop.ordersReady(), "acknowledged orders in a new handle");
        }
    }

    /**
     * Whether every SKU's quantity is what the shelf says, with no feed open, and Amazon has
     * applied every change it accepted (it applies them seconds to minutes later).
     */
    static boolean stockInStep(SellSync shop) {
        Map<String, Object> s = obj(obj(shop.state()).get("stock"));
        return num(s.get("out_of_step")) == 0 && num(s.get("open_feeds")) == 0
                && num(control("GET", "state", null).get("landing")) == 0;
    }

    static void stockReachesListing() throws Exception {
        Seller seller = new Seller("MUG-1", "MUG-6", "KIT");
        try (SellSync shop = seller.open()) {
            shop.skuMap("{\"mappings\": ["
                    + "{\"sku\": \"MUG-1\", \"items\": [{\"host_item\": \"4711\"}]},"
                    + "{\"sku\": \"MUG-6\", \"items\": [{\"host_item\": \"4711\", \"units\": 6}]},"
                    + "{\"sku\": \"KIT\", \"items\": [{\"host_item\": \"0815\"}, {\"host_item\": \"4712\", \"units\": 2}]}]}");
            shop.stockSet("4711", 13);
            Map<String, Long> batch = new LinkedHashMap<>();
            batch.put("0815", 5L);
            batch.put("4712", 4L);
            shop.stockSetBatch(batch);
            BooleanSupplier inStep = () -> stockInStep(shop);
            syncUntil(shop, Flow.STOCK, inStep, "stock in step");
            equal(13L, seller.quantity("MUG-1"), "MUG-1 on Amazon");
            equal(2L, seller.quantity("MUG-6"), "MUG-6 on Amazon");
            equal(2L, seller.quantity("KIT"), "KIT on Amazon");
            shop.stockSetBatch("{\"levels\": [{\"host_item\": \"4711\", \"on_hand\": 0}]}");
            syncUntil(shop, Flow.STOCK, inStep, "stock in step again");
            equal(0L, seller.quantity("MUG-1"), "MUG-1 sold out on Amazon");
            raises(NotFoundException.class, () -> shop.stockSet("no-such-item", 1));
            raises(InvalidArgumentException.class, () -> shop.stockSet("4711", -1));
        }
    }

    static void stockByLocation() throws Exception {
        Seller seller = new Seller("LOC-1");
        seller.config.put("stock", Map.of("amazon_locations", List.of("STORE-1", "WAREHOUSE")));
        try (SellSync shop = seller.open()) {
            shop.skuMap("{\"mappings\": [{\"sku\": \"LOC-1\", \"items\": [{\"host_item\": \"4711\"}]}]}");
            shop.stockSetBatch("STORE-1", Map.of("4711", 3L));
            shop.stockSetBatch("WAREHOUSE", Map.of("4711", 4L));
            shop.stockSetBatch("OUTLET", Map.of("4711", 100L));
            syncUntil(shop, Flow.STOCK, () -> stockInStep(shop), "stock in step");
            equal(7L, seller.quantity("LOC-1"), "Amazon sells the store's and the warehouse's units, not the outlet's");
            shop.stockSetBatch("STORE-1", Map.of("4711", 0L));
            syncUntil(shop, Flow.STOCK, () -> stockInStep(shop), "stock in step again");
            equal(4L, seller.quantity("LOC-1"), "the store sold out: Amazon sells the warehouse's");
        }
    }

    static void pricesWithinTheGuardRails() throws Exception {
        Seller seller = new Seller("PRICE-J");
        try (SellSync shop = seller.open()) {
            shop.skuMap("{\"mappings\": [{\"sku\": \"PRICE-J\", \"items\": [{\"host_item\": \"P-1\"}]}]}");
            InvalidArgumentException e = raises(InvalidArgumentException.class, () -> shop.priceSet(
                    "{\"prices\": [{\"sku\": \"PRICE-J\", \"marketplace_id\": \"ATVPDKIKX0DER\", \"price\": \"9.99\", \"minimum\": \"10.00\"}]}"));
            check(e.getMessage().contains("below the seller's minimum"), e.getMessage());
            shop.priceSet("{\"prices\": [{\"sku\": \"PRICE-J\", \"marketplace_id\": \"ATVPDKIKX0DER\", \"price\": \"11.99\"}]}");
            BooleanSupplier applied = () -> "APPLIED".equals(
                    obj(list(obj(obj(shop.prices()).get("prices")).get("PRICE-J")).get(0)).get("state"));
            syncUntil(shop, Flow.STOCK, applied, "the price applied");
            Map<String, Object> p = obj(list(obj(obj(shop.prices()).get("prices")).get("PRICE-J")).get(0));
            equal("11.99", obj(p.get("amazon")).get("price"), "the price Amazon shows");
        }
    }

    static void fbaStockShown() throws Exception {
        Seller seller = new Seller("OWN-J");
        control("POST", "listings", Map.of("seller_id", seller.id, "listings", List.of(Map.of(
                "sku", "FBA-J", "quantity", 9, "fba", true, "fba_stock", Map.of("inbound_shipped", 3)))));
        try (SellSync shop = seller.open()) {
            equal(List.of(), list(obj(shop.fbaStock()).get("skus")), "nothing read before the listings");
            syncUntil(shop, Flow.LISTINGS, () -> obj(shop.fbaStock()).get("read_at") != null, "FBA stock read");
            Map<String, Object> fba = obj(list(obj(shop.fbaStock()).get("skus")).get(0));
            equal("FBA-J", fba.get("sku"), "the FBA SKU");
            equal(9L, ((Number) fba.get("fulfillable")).longValue(), "sellable at Amazon");
            equal(3L, ((Number) fba.get("inbound_shipped")).longValue(), "on its way in");
        }
    }

    static void orderChargesAddUp() throws Exception {
        Seller seller = new Seller("CHG-A");
        seller.placeOrders(6, "CHG-A", 2);
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            int n = 0;
            for (String doc = shop.orderNext(); doc != null; doc = shop.orderNext()) {
                Map<String, Object> order = obj(doc);
                java.math.BigDecimal sum = new java.math.BigDecimal((String) order.get("other_charges"));
                for (Object item : list(order.get("items"))) {
                    sum = sum.add(new java.math.BigDecimal((String) obj(obj(item).get("charges")).get("charged")));
                }
                equal(new java.math.BigDecimal((String) order.get("total")), sum, "lines and other charges add up");
                shop.orderAck(orderId(doc), "POS-" + (++n));
            }
            equal(6, n, "orders booked");
        }
    }

    static void shipmentConfirmedOnAmazon() throws Exception {
        Seller seller = new Seller("SHIP-A");
        List<String> placed = seller.placeOrders(2, "SHIP-A", 2);
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            List<String> orders = takeAndAck(shop);
            equal(2, orders.size(), "orders");
            int n = 0;
            for (String order : orders) {
                Map<String, Object> item = obj(list(obj(order).get("items")).get(0));
                shop.shipmentConfirm(Json.write(Map.of(
                        "order_id", orderId(order), "carrier_code", "UPS", "shipping_method", "Ground",
                        "tracking_number", "1Z" + (n++),
                        "items", List.of(Map.of("order_item_id", item.get("order_item_id"),
                                "quantity", item.get("quantity"))))));
            }
            String first = orders.get(0);
            Object firstItem = obj(list(obj(first).get("items")).get(0)).get("order_item_id");
            raises(InvalidArgumentException.class, () -> shop.shipmentConfirm(Json.write(Map.of(
                    "order_id", orderId(first), "carrier_code", "UPS", "tracking_number", "1Z-again",
                    "items", List.of(Map.of("order_item_id", firstItem, "quantity", 1))))));
            List<Object> waiting = list(obj(shop.shipments()).get("shipments"));
            equal(2, waiting.size(), "packages waiting");
            BooleanSupplier sent = () -> {
                int count = 0;
                for (String id : placed) {
                    for (Object p : list(obj(shop.shipments(id)).get("shipments"))) {
                        if (!"SENT".equals(obj(p).get("state"))) {
                            return false;
                        }
                        count++;
                    }
                }
                return count == 2;
            };
            syncUntil(shop, Flow.SHIPMENTS, sent, "packages sent");
            List<Map<String, Object>> atAmazon = seller.records("shipments", new HashSet<>(placed));
            equal(2, atAmazon.size(), "shipments on Amazon");
            for (Map<String, Object> s : atAmazon) {
                equal(1L, num(s.get("confirmations")), "confirmations of " + s.get("order_id"));
            }
            raises(NotFoundException.class, () -> shop.shipmentConfirm(Json.write(Map.of(
                    "order_id", "000-0000000-0000000", "carrier_code", "UPS", "tracking_number", "1Z",
                    "items", List.of(Map.of("order_item_id", firstItem, "quantity", 1))))));
        }
    }

    /** Takes the seller's orders, cancels the first and waits for adjustment.done; returns it. */
    static String cancelOne(Seller seller, SellSync shop, List<String> placed) throws Exception {
        shop.syncNow(Flow.ORDERS);
        equal(new HashSet<>(placed), ids(takeAndAck(shop)), "orders");
        String victim = placed.get(0);
        shop.orderCancel(victim, "NoInventory");
        shop.orderCancel(victim, "NoInventory"); // again: succeeds, sends nothing more
        List<Map<String, Object>> done = new ArrayList<>();
        syncUntil(shop, Flow.SHIPMENTS, () -> {
            for (Map<String, Object> e : drainEvents(shop)) {
                if ("adjustment.done".equals(e.get("type"))) {
                    done.add(e);
                }
            }
            return !done.isEmpty();
        }, "adjustment.done");
        equal("CANCEL", done.get(0).get("kind"), "adjustment kind");
        equal(victim, done.get(0).get("order_id"), "adjustment order");
        return victim;
    }

    static void cancellationReachesAmazon() throws Exception {
        Seller seller = new Seller("CAN-A");
        List<String> placed = seller.placeOrders(3, "CAN-A", 1);
        try (SellSync shop = seller.open()) {
            String victim = cancelOne(seller, shop, placed);
            List<Map<String, Object>> cancelled = seller.records("cancellations", new HashSet<>(placed));
            equal(1, cancelled.size(), "cancellations on Amazon");
            equal(victim, cancelled.get(0).get("order_id"), "cancelled order");
            raises(NotFoundException.class, () -> shop.orderCancel("000-0000000-0000000", "NoInventory"));
        }
    }

    static void metricsCountTheCancellation() throws Exception {
        Seller seller = new Seller("MET-A");
        List<String> placed = seller.placeOrders(4, "MET-A", 1);
        try (SellSync shop = seller.open()) {
            cancelOne(seller, shop, placed);
            Map<String, Object> metrics = obj(shop.metrics("{\"marketplace_ids\": [\"" + MARKETPLACE + "\"]}"));
            List<Object> markets = list(metrics.get("marketplaces"));
            equal(1, markets.size(), "marketplaces");
            Map<String, Object> market = obj(markets.get(0));
            equal(MARKETPLACE, market.get("marketplace_id"), "marketplace");
            Map<String, Object> rate = null;
            for (Object m : list(market.get("metrics"))) {
                if ("cancellation_rate".equals(obj(m).get("name"))) {
                    rate = obj(m);
                }
            }
            check(rate != null, "a cancellation_rate metric");
            equal(1L, num(rate.get("numerator")), "cancellations");
            equal(4L, num(rate.get("denominator")), "orders");
            equal("failing", rate.get("status"), "status");
            check(metrics.containsKey("at_risk"), "at_risk in the metrics");
            check(obj(shop.metrics()).containsKey("marketplaces"), "metrics with the default query");
            InvalidArgumentException e = raises(InvalidArgumentException.class,
                    () -> shop.metrics("{\"horizon_hours\": 100000}"));
            check(e.detail().contains("horizon_hours"), "the message names the setting: " + e.detail());
        }
    }

    static void eventsByPolling() throws Exception {
        Seller seller = new Seller("EV-A");
        List<String> placed = seller.placeOrders(3, "EV-A", 1);
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            Set<String> ready = new HashSet<>();
            for (String e = shop.eventNext(1000); e != null; e = shop.eventNext()) {
                Map<String, Object> event = obj(e);
                if ("order.ready".equals(event.get("type"))) {
                    ready.add((String) event.get("order_id"));
                }
                shop.eventAck(SellSync.eventSeq(e));
                shop.eventAck(SellSync.eventSeq(e)); // again: fine
            }
            equal(new HashSet<>(placed), ready, "order.ready events");
            equal(null, shop.eventNext(), "every event acknowledged");
            equal(0L, num(obj(obj(shop.state()).get("queues")).get("events_unread")), "events_unread");
            raises(InvalidArgumentException.class, () -> shop.eventAck(0));
            raises(NotFoundException.class, () -> shop.eventAck(Long.MAX_VALUE));
        }
        try (SellSync shop = seller.open()) { // acknowledged: not even a new handle gets them
            equal(null, shop.eventNext(50), "events in a new handle");
        }
    }

    static void eventsByCallback() throws Exception {
        Seller seller = new Seller("EVCB-A");
        List<String> placed = seller.placeOrders(3, "EVCB-A", 1);
        Set<String> seen = Collections.synchronizedSet(new HashSet<>());
        Set<String> types = Collections.synchronizedSet(new HashSet<>());
        List<Throwable> insideErrors = Collections.synchronizedList(new ArrayList<>());
        int before = SellSync.registeredListeners();
        try (SellSync shop = seller.open()) {
            shop.setEventListener(json -> {
                Map<String, Object> e = obj(json);
                types.add((String) e.get("type"));
                if ("order.ready".equals(e.get("type"))) {
                    seen.add((String) e.get("order_id"));
                    // The listener may call the library; replacing itself or closing is refused.
                    try {
                        shop.setEventListener(null);
                        insideErrors.add(new AssertionError("setEventListener inside the listener succeeded"));
                    } catch (InvalidStateException expected) {
                        // right
                    } catch (Throwable t) {
                        insideErrors.add(t);
                    }
                    shop.state();
                }
            });
            System.gc(); // the binding, not this test, keeps the listener alive
            equal(before + 1, SellSync.registeredListeners(), "listener registered");
            shop.syncNow(Flow.ORDERS);
            waitFor(() -> seen.size() >= 3 && types.contains("sync.completed"), 30,
                    "three order.ready events and the sync.completed in the listener");
            equal(new HashSet<>(placed), new HashSet<>(seen), "order.ready events");
            equal(Collections.emptyList(), insideErrors, "calls from inside the listener");
            shop.setEventListener(json -> { });
            equal(before + 1, SellSync.registeredListeners(), "replaced: the first is released");
            shop.setEventListener(null);
            waitFor(() -> SellSync.registeredListeners() == before, 10, "removed listener released");
            equal(null, shop.eventNext(), "delivered by the listener, so acknowledged");
            shop.setEventListener(json -> { });
        }
        equal(before, SellSync.registeredListeners(), "close releases the last listener");
    }

    static void eventDeclinedWhenListenerThrows() throws Exception {
        Seller seller = new Seller("EVDECL-A");
        List<String> placed = seller.placeOrders(1, "EVDECL-A", 1);
        seller.config.put("orders", Map.of("redelivery_seconds", 1));
        List<String> ready = Collections.synchronizedList(new ArrayList<>());
        try (SellSync shop = seller.open()) {
            Thread.UncaughtExceptionHandler quiet = (t, e) -> { };
            shop.setEventListener(json -> {
                Map<String, Object> e = obj(json);
                if ("order.ready".equals(e.get("type"))) {
                    ready.add((String) e.get("order_id"));
                    if (ready.size() == 1) {
                        Thread.currentThread().setUncaughtExceptionHandler(quiet);
                        throw new IllegalStateException("the POS database is locked");
                    }
                }
            });
            shop.syncNow(Flow.ORDERS);
            waitFor(() -> ready.size() >= 2, 30, "the event whose listener threw, again");
            shop.setEventListener(null);
            equal(List.of(placed.get(0), placed.get(0)), new ArrayList<>(ready), "order.ready deliveries");
        }
        try (SellSync shop = seller.open()) {
            for (String e = shop.eventNext(); e != null; e = shop.eventNext()) {
                check(!"order.ready".equals(obj(e).get("type")), "handled the second time, so acknowledged: " + e);
                shop.eventAck(e);
            }
        }
    }

    static void logListener() throws Exception {
        Seller seller = new Seller("LOG-A");
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        List<Integer> levels = Collections.synchronizedList(new ArrayList<>());
        try (SellSync shop = seller.open()) {
            int before = SellSync.registeredListeners();
            shop.setLogListener(LogLevel.DEBUG, (level, message) -> {
                levels.add(level);
                lines.add(message);
            });
            shop.syncNow(Flow.ORDERS);
            raises(InvalidArgumentException.class, () -> shop.setLogListener(9, (l, m) -> { }));
            equal(before + 1, SellSync.registeredListeners(), "the refused listener is not kept");
            shop.setLogListener(0, null);
            equal(before, SellSync.registeredListeners(), "removed: released before the call returns");
        }
        check(!lines.isEmpty(), "log lines at DEBUG");
        for (int level : levels) {
            check(level >= LogLevel.ERROR && level <= LogLevel.DEBUG, "level " + level);
        }
        for (String line : lines) {
            check(!line.contains("\n"), "one line each");
            check(!line.contains(CLIENT_SECRET) && !line.contains("Atzr|"), "no secret in " + line);
        }
    }

    static void errorsAreTheRightException() throws Exception {
        Seller seller = new Seller("ERR-A");
        try (SellSync shop = seller.open()) {
            InvalidArgumentException e = raises(InvalidArgumentException.class, () -> shop.skuMap("{not json"));
            equal(Status.INVALID_ARGUMENT, e.code(), "code");
            check(!e.detail().isEmpty(), "a message");
            check(e.getMessage().startsWith("INVALID_ARGUMENT: "), "message " + e.getMessage());
            check(e instanceof SellSyncException, "a SellSyncException");
            raises(InvalidArgumentException.class, () -> shop.stockSetBatch("[1, 2"));
            raises(InvalidArgumentException.class, () -> shop.skuMap(null));
            raises(InvalidArgumentException.class, () -> shop.stockSet("47\u000011", 1));
            NotFoundException nf = raises(NotFoundException.class, () -> shop.orderAck("000-0000000-0000000", "POS-1"));
            equal(Status.NOT_FOUND, nf.code(), "not found code");
            check(!nf.detail().isEmpty(), "not found message");
        }
        Map<String, Object> bad = new LinkedHashMap<>(seller.config);
        bad.put("http", Map.of("max_attempts", 0));
        ConfigException c = raises(ConfigException.class, () -> new SellSync(bad));
        check(c.detail().contains("max_attempts"), "the message names the setting: " + c.detail());
        raises(InvalidArgumentException.class, () -> new SellSync("{\"store_path\": "));
        equal(InvalidArgumentException.class, SellSyncException.of(1, "x").getClass(), "code 1");
        equal(ClosedException.class, SellSyncException.of(11, "x").getClass(), "code 11");
        equal(SellSyncException.class, SellSyncException.of(99, "x").getClass(), "an unknown code");
        equal("NOT_FOUND", Status.name(8), "status name");
        check(!Status.text(Status.CONFLICT).isEmpty(), "status text");
    }

    static void callAfterClose() throws Exception {
        Seller seller = new Seller("CLOSE-A");
        SellSync shop = seller.open();
        shop.close();
        check(shop.isClosed(), "closed");
        shop.close(); // again: nothing
        ClosedException e = raises(ClosedException.class, shop::state);
        equal(Status.CLOSED, e.code(), "code");
        check(!e.detail().isEmpty(), "a message");
        raises(ClosedException.class, () -> shop.orderNext());
        raises(ClosedException.class, () -> shop.syncNow(Flow.ORDERS));
        raises(ClosedException.class, () -> shop.setEventListener(json -> { }));
        raises(ClosedException.class, () -> shop.eventNext(-1));
    }

    static void closeWakesAWaiter() throws Exception {
        Seller seller = new Seller("WAKE-A");
        SellSync shop = seller.open();
        Throwable[] got = new Throwable[1];
        Thread waiter = new Thread(() -> {
            try {
                shop.eventNext(-1);
            } catch (Throwable t) {
                got[0] = t;
            }
        });
        waiter.start();
        shop.close();
        waiter.join(30_000);
        check(!waiter.isAlive(), "the waiter returned");
        equal(ClosedException.class, got[0] == null ? null : got[0].getClass(), "the waiter's exception");
    }

    static void stringsAreFreed() throws Exception {
        Seller seller = new Seller("STR-A");
        try (SellSync shop = seller.open()) {
            long received = SellSync.stringsReceived();
            for (int i = 0; i < 2000; i++) {
                shop.state();
                shop.listings();
            }
            equal(null, shop.orderNext(), "no order");
            equal(received + 4000, SellSync.stringsReceived(), "strings handed out");
            equal(0L, SellSync.stringsOutstanding(), "strings not freed");
        }
    }

    static long residentBytes() throws IOException {
        String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
        return Long.parseLong(statm[1]) * 4096;
    }

    /** The library's strings are really freed: 20,000 documents leave resident memory flat. */
    static void residentMemoryStaysFlat() throws Exception {
        Seller seller = new Seller("RSS-A");
        try (SellSync shop = seller.open()) {
            List<Object> mappings = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                mappings.add(Map.of("sku", "RSS-SKU-" + i, "items", List.of(Map.of("host_item", "RSS-ITEM-" + i))));
            }
            shop.skuMap(Json.write(Map.of("mappings", mappings)));
            int size = shop.listings().length();
            for (int i = 0; i < 5_000; i++) {
                shop.listings();
            }
            System.gc();
            long warm = residentBytes();
            // A document not freed would add about 60 MiB here.
            for (int i = 0; i < 20_000; i++) {
                shop.listings();
            }
            System.gc();
            long growth = residentBytes() - warm;
            check(growth < 16L << 20, "resident memory grew " + (growth >> 10) + " KiB over 20,000 documents of "
                    + size + " bytes");
        }
    }

    static void unicodeRoundTrip() throws Exception {
        Seller seller = new Seller("TASSE-Ä-☕");
        try (SellSync shop = seller.open()) {
            shop.skuMap(Json.write(Map.of("mappings", List.of(Map.of(
                    "sku", "TASSE-Ä-☕", "items", List.of(Map.of("host_item", "Kaffeebohnen-ß")))))));
            shop.stockSet("Kaffeebohnen-ß", 7);
            syncUntil(shop, Flow.STOCK, () -> stockInStep(shop), "stock in step");
            equal(7L, seller.quantity("TASSE-Ä-☕"), "the SKU with non-ASCII letters on Amazon");
            shop.syncNow(Flow.LISTINGS);
            syncUntil(shop, Flow.LISTINGS, () -> obj(shop.listings()).get("pulled_at") != null, "listings pulled");
            boolean found = false;
            for (Object l : list(obj(shop.listings()).get("listings"))) {
                found |= "TASSE-Ä-☕".equals(obj(l).get("sku"));
            }
            check(found, "the SKU read back as UTF-8 in the listings: " + shop.listings());
        }
    }

    static void workerInTheBackground() throws Exception {
        Seller seller = new Seller("BG-A");
        List<String> placed = seller.placeOrders(2, "BG-A", 1);
        seller.config.put("intervals", Map.of("orders_seconds", 0.2, "stock_seconds", 1));
        try (SellSync shop = seller.open()) {
            shop.start();
            shop.start(); // idempotent
            List<String> got = new ArrayList<>();
            waitFor(() -> {
                got.addAll(takeAndAck(shop));
                return got.size() >= 2;
            }, 60, "orders from the worker");
            shop.stop();
            shop.stop();
            equal(new HashSet<>(placed), ids(got), "orders");
        }
    }

    static void versionAndLoading() throws Exception {
        check(SellSync.version().matches("\\d+\\.\\d+\\.\\d+.*"), "version " + SellSync.version());
        String[] parts = SellSync.version().split("[.-]");
        int number = Integer.parseInt(parts[0]) * 10000 + Integer.parseInt(parts[1]) * 100 + Integer.parseInt(parts[2]);
        equal(number, SellSync.versionNumber(), "version number");
        LibSellSync.checkVersion(SellSync.versionNumber(), SellSync.version(), null);
        LibraryException e = raises(LibraryException.class, () -> LibSellSync.checkVersion(10203, "1.2.3", null));
        check(e.getMessage().contains("major version 1") && e.getMessage().contains("needs major version 0"),
                "message " + e.getMessage());
    }

    /** Loads the library in a JVM of its own; prints what happened, twice. */
    public static final class LoadProbe {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println("loaded " + SellSync.version());
                } catch (LibraryException e) {
                    System.out.println("LibraryException: " + e.getMessage());
                }
            }
        }
    }

    static String probe(String library, String jnaPath) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        if (jnaPath != null) {
            command.add("-Djna.library.path=" + jnaPath);
        }
        command.add(LoadProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("SELLSYNC_LIBRARY");
        if (library != null) {
            pb.environment().put("SELLSYNC_LIBRARY", library);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        check(p.waitFor() == 0, "the probe exited with " + p.exitValue() + ": " + out);
        return out;
    }

    static void libraryLookup() throws Exception {
        String lib = System.getenv("SELLSYNC_LIBRARY");
        String missing = probe("/nonexistent/libsellsync.so", null);
        check(missing.equals("LibraryException: SELLSYNC_LIBRARY names /nonexistent/libsellsync.so, which is not a file\n".repeat(2)),
                "a missing SELLSYNC_LIBRARY: " + missing);
        String byPath = probe(null, Path.of(lib).getParent().toString());
        equal(("loaded " + SellSync.version() + "\n").repeat(2), byPath, "found through jna.library.path");
        String nowhere = probe(null, "/nonexistent");
        check(nowhere.startsWith("loaded ") || nowhere.startsWith("LibraryException: libsellsync not found: set SELLSYNC_LIBRARY"),
                "not found anywhere: " + nowhere);
    }

    /** Every function of the header has its native method, and the major versions agree. */
    static void headerCoverage() throws Exception {
        String header = Files.readString(Path.of("include", "sellsync.h"));
        java.util.regex.Matcher major = java.util.regex.Pattern
                .compile("#define SELLSYNC_VERSION_MAJOR (\\d+)").matcher(header);
        check(major.find(), "SELLSYNC_VERSION_MAJOR in the header");
        equal(Integer.parseInt(major.group(1)), LibSellSync.MAJOR, "the binding's major version");
        Set<String> functions = new HashSet<>();
        java.util.regex.Matcher f = java.util.regex.Pattern.compile("\\b(sellsync_[a-z_]+)\\(").matcher(header);
        while (f.find()) {
            functions.add(f.group(1));
        }
        Set<String> bound = new HashSet<>();
        for (java.lang.reflect.Method m : LibSellSync.class.getDeclaredMethods()) {
            if (java.lang.reflect.Modifier.isNative(m.getModifiers())) {
                bound.add(m.getName());
            }
        }
        check(functions.size() >= 25, "functions found in the header: " + functions);
        equal(functions, bound, "native methods");
    }

    static void cleanerClosesAForgottenHandle() throws Exception {
        Seller seller = new Seller("GC-A");
        int before = SellSync.registeredListeners();
        forget(seller);
        equal(before + 1, SellSync.registeredListeners(), "listener of the forgotten handle");
        waitFor(() -> {
            System.gc();
            return SellSync.registeredListeners() == before;
        }, 30, "the cleaner closing the forgotten handle (its listener released)");
        try (SellSync shop = seller.open()) { // the store was closed and can be opened again
            shop.state();
        }
    }

    private static void forget(Seller seller) {
        SellSync shop = seller.open();
        shop.setEventListener(json -> { });
    }

    static void cleanerClosesASelfReferringHandle() throws Exception {
        Seller seller = new Seller("GC-B");
        int before = SellSync.registeredListeners();
        forgetSelfReferring(seller);
        equal(before + 2, SellSync.registeredListeners(), "listeners of the forgotten handle");
        waitFor(() -> {
            System.gc();
            return SellSync.registeredListeners() == before;
        }, 30, "the cleaner closing the handle its listeners refer to");
        try (SellSync shop = seller.open()) {
            shop.state();
        }
    }

    private static void forgetSelfReferring(Seller seller) {
        SellSync shop = seller.open();
        shop.setEventListener(json -> shop.eventAck(json));
        shop.setLogListener(LogLevel.ERROR, (level, line) -> shop.state());
    }

    static void helloExample() throws Exception {
        Seller seller = new Seller("HELLO-A");
        List<String> placed = seller.placeOrders(2, "HELLO-A", 1);
        Path config = dir.resolve("hello.json");
        Files.writeString(config, Json.write(seller.config));
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = System.out;
        System.setOut(new java.io.PrintStream(captured, true, "UTF-8"));
        try {
            Class.forName("Hello").getMethod("main", String[].class).invoke(null, (Object) new String[] {config.toString()});
        } finally {
            System.setOut(out);
        }
        String printed = captured.toString("UTF-8");
        for (String id : placed) {
            check(printed.contains("order " + id + " booked as POS-"), "Hello booked " + id + ": " + printed);
        }
        check(printed.contains("took 2 orders (sellsync " + SellSync.version() + ")"), "Hello's last line: " + printed);
        try (SellSync shop = seller.open()) {
            shop.syncNow(Flow.ORDERS);
            equal(null, shop.orderNext(), "Hello acknowledged every order");
        }
    }

    public static void main(String[] args) throws Exception {
        emulatorUrl = System.getenv("SELLSYNC_EMULATOR_URL");
        if (emulatorUrl == null || emulatorUrl.isEmpty()) {
            System.err.println("set SELLSYNC_EMULATOR_URL to a running sellsync-emulator (scripts/test-java does)");
            System.exit(2);
        }
        dir = Files.createTempDirectory("sellsync-java-test");
        test("version and loading: refuses another major version", SellSyncTest::versionAndLoading);
        test("library lookup: SELLSYNC_LIBRARY, jna.library.path, a clear error", SellSyncTest::libraryLookup);
        test("every function of the header is bound", SellSyncTest::headerCoverage);
        test("orders taken and acknowledged, never handed out after ack", SellSyncTest::ordersTakenAndAcknowledged);
        test("stock levels reach the emulator's listing quantity", SellSyncTest::stockReachesListing);
        test("stock by location: Amazon sells the configured locations", SellSyncTest::stockByLocation);
        test("FBA stock shown", SellSyncTest::fbaStockShown);
        test("prices within the guard rails", SellSyncTest::pricesWithinTheGuardRails);
        test("an order's lines and other charges add up to its total", SellSyncTest::orderChargesAddUp);
        test("shipment confirmed on Amazon exactly once", SellSyncTest::shipmentConfirmedOnAmazon);
        test("cancellation reaches Amazon", SellSyncTest::cancellationReachesAmazon);
        test("metrics count the cancellation", SellSyncTest::metricsCountTheCancellation);
        test("events by polling, acknowledged once", SellSyncTest::eventsByPolling);
        test("events by callback, listener kept until the library lets go", SellSyncTest::eventsByCallback);
        test("an event whose listener threw comes again", SellSyncTest::eventDeclinedWhenListenerThrows);
        test("log listener gets the library's lines", SellSyncTest::logListener);
        test("errors: the exception of each status, with its message", SellSyncTest::errorsAreTheRightException);
        test("a call after close throws ClosedException", SellSyncTest::callAfterClose);
        test("close wakes a thread waiting for events", SellSyncTest::closeWakesAWaiter);
        test("strings handed out are freed", SellSyncTest::stringsAreFreed);
        test("resident memory stays flat over 20,000 documents", SellSyncTest::residentMemoryStaysFlat);
        test("UTF-8 both ways", SellSyncTest::unicodeRoundTrip);
        test("background worker", SellSyncTest::workerInTheBackground);
        test("the cleaner closes a forgotten handle", SellSyncTest::cleanerClosesAForgottenHandle);
        test("the cleaner closes a forgotten handle its listeners refer to", SellSyncTest::cleanerClosesASelfReferringHandle);
        test("the README's Hello takes the orders", SellSyncTest::helloExample);
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
