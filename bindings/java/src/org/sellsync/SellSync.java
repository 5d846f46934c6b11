package org.sellsync;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One seller account kept in step by libsellsync: a {@code SellSync *} handle.
 *
 * <p>Every method calls the C function of the same name ({@code syncNow} is
 * {@code sellsync_sync_now}). Documents cross as JSON text (see the README), with small typed
 * helpers where natural. A failed call throws the {@link SellSyncException} subclass of its
 * status, carrying the library's message. The handle may be used from many threads at once.
 * {@link #close()} closes it (idempotent); a handle never closed is closed by a
 * {@link Cleaner} once unreachable (also when its own listeners refer to it: the binding holds
 * them weakly, the handle strongly), but close it yourself: an event that reaches a handle
 * being cleaned is declined and comes again in the next process.
 */
public final class SellSync implements AutoCloseable {

    /** Receives each event document (JSON) on the library's event thread. */
    @FunctionalInterface
    public interface EventListener {
        void onEvent(String eventJson);
    }

    /** Receives the library's log lines; called on several threads at once, so thread-safe. */
    @FunctionalInterface
    public interface LogListener {
        void onLog(int level, String message);
    }

    private static final Cleaner CLEANER = Cleaner.create();

    // ---- callbacks: listeners live here until the library calls free_user ---------------------

    /**
     * A listener the library may still call, with its handle. Held weakly: the handle object
     * holds its listeners, so a listener that refers to its handle does not keep it reachable.
     */
    private static final class Registration {
        final WeakReference<Object> listener;
        final Pointer h;

        Registration(Object listener, Pointer h) {
            this.listener = new WeakReference<>(listener);
            this.h = h;
        }
    }

    /** Listeners the library may still call, by the {@code user} number passed with them. */
    private static final Map<Long, Registration> REGISTERED = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_USER = new AtomicLong(1);

    private static final LibSellSync.EventCallback EVENT_TRAMPOLINE = new LibSellSync.EventCallback() {
        @Override
        public void invoke(Pointer user, Pointer eventJson) {
            Registration r = REGISTERED.get(Pointer.nativeValue(user));
            if (r == null) {
                return;
            }
            String event = LibSellSync.text(eventJson);
            Object listener = r.listener.get();
            try {
                if (!(listener instanceof EventListener)) {
                    // The handle is unreachable and being cleaned: nobody handles the event.
                    decline(r.h, event);
                    return;
                }
                ((EventListener) listener).onEvent(event);
            } catch (Throwable t) {
                decline(r.h, event);
                uncaught(t);
            }
        }
    };

    private static final LibSellSync.LogCallback LOG_TRAMPOLINE = new LibSellSync.LogCallback() {
        @Override
        public void invoke(Pointer user, int level, Pointer message) {
            Registration r = REGISTERED.get(Pointer.nativeValue(user));
            Object listener = r == null ? null : r.listener.get();
            if (listener instanceof LogListener) {
                try {
                    ((LogListener) listener).onLog(level, LibSellSync.text(message));
                } catch (Throwable t) {
                    uncaught(t);
                }
            }
        }
    };

    /** The library lets go of a listener: called once per registration. */
    private static final LibSellSync.FreeUser FREE_USER = new LibSellSync.FreeUser() {
        @Override
        public void invoke(Pointer user) {
            REGISTERED.remove(Pointer.nativeValue(user));
        }
    };

    /** The event was not handled: it comes again ({@code sellsync_event_decline}). */
    private static void decline(Pointer h, String eventJson) {
        int status = LibSellSync.sellsync_event_decline(h, eventSeq(eventJson));
        if (status != Status.OK) {
            uncaught(SellSyncException.of(status, lastError()));
        }
    }

    /** An exception thrown by a listener does not cross into the library: it goes here. */
    private static void uncaught(Throwable t) {
        Thread thread = Thread.currentThread();
        thread.getUncaughtExceptionHandler().uncaughtException(thread, t);
    }

    /** How many listeners (event and log, every handle) the library may still call. */
    public static int registeredListeners() {
        return REGISTERED.size();
    }

    // ---- owned strings ---------------------------------------------------------------------------

    private static final AtomicLong STRINGS_RECEIVED = new AtomicLong();
    private static final AtomicLong STRINGS_FREED = new AtomicLong();

    /** Strings the library handed out through {@code char **} and this binding has not freed yet. */
    public static long stringsOutstanding() {
        return STRINGS_RECEIVED.get() - STRINGS_FREED.get();
    }

    /** Strings the library handed out through {@code char **} so far. */
    public static long stringsReceived() {
        return STRINGS_RECEIVED.get();
    }

    // ---- the handle ------------------------------------------------------------------------------

    /** What the cleaner needs: the pointer (valid for ever: a closed handle is a tombstone). */
    private static final class State implements Runnable {
        final Pointer h;
        volatile boolean closed;

        State(Pointer h) {
            this.h = h;
        }

        @Override
        public void run() {
            if (!closed) {
                closed = true;
                LibSellSync.sellsync_close(h);
            }
        }
    }

    private final State state;
    private final Cleaner.Cleanable cleanable;
    /** The listeners set, held here (the library's references to them are weak). */
    private volatile Object eventListener;
    private volatile Object logListener;

    /**
     * Opens a handle ({@code sellsync_open}) with a configuration document (see the README).
     *
     * @throws LibraryException when libsellsync cannot be found or has another major version
     * @throws ConfigException when a setting is missing or out of range
     * @throws InvalidArgumentException when the document is not valid JSON
     */
    public SellSync(String configJson) {
        LibSellSync.ensureLoaded();
        PointerByReference out = new PointerByReference();
        check(LibSellSync.sellsync_open(utf8(configJson, "configJson"), out));
        state = new State(out.getValue());
        cleanable = CLEANER.register(this, state);
    }

    /** Opens a handle with a configuration given as a map (written as JSON). */
    public SellSync(Map<String, ?> config) {
        this(Json.write(config));
    }

    /**
     * Closes the handle ({@code sellsync_close}): stops the worker and the event thread, waits
     * for calls on other threads and flushes the store. Closing again does nothing. Every other
     * call afterwards throws {@link ClosedException}.
     *
     * @throws InvalidStateException when called from the event listener
     */
    @Override
    public void close() {
        if (state.closed) {
            return;
        }
        int status = LibSellSync.sellsync_close(state.h);
        if (status == Status.OK || status == Status.CLOSED) {
            state.closed = true;
            cleanable.clean();
            return;
        }
        check(status);
    }

    /** Whether {@link #close()} has closed this handle. */
    public boolean isClosed() {
        return state.closed;
    }

    /** Runs the flows ({@link Flow} bits) once each and returns when they are done. */
    public void syncNow(int flows) {
        try {
            check(LibSellSync.sellsync_sync_now(state.h, flows));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Runs every flow once ({@link Flow#ALL}). */
    public void syncNow() {
        syncNow(Flow.ALL);
    }

    /** Starts the background worker (idempotent). */
    public void start() {
        try {
            check(LibSellSync.sellsync_start(state.h));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Stops the background worker and waits for it (idempotent). */
    public void stop() {
        try {
            check(LibSellSync.sellsync_stop(state.h));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The oldest order ready for the host (an order document), or null when there is none. */
    public String orderNext() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_order_next(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Every order ready now ({@link #orderNext()} until null), not acknowledged. */
    public List<String> ordersReady() {
        List<String> orders = new ArrayList<>();
        for (String order = orderNext(); order != null; order = orderNext()) {
            orders.add(order);
        }
        return orders;
    }

    /** The host has the order under its own reference: it is never handed out again. */
    public void orderAck(String orderId, String hostRef) {
        try {
            check(LibSellSync.sellsync_order_ack(state.h, utf8(orderId, "orderId"), utf8(hostRef, "hostRef")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The oldest event not yet acknowledged (an event document), waiting up to
     * {@code timeoutMs} milliseconds (0: do not wait, -1: until one arrives or the handle
     * closes); null on timeout.
     */
    public String eventNext(int timeoutMs) {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_event_next(state.h, timeoutMs, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The oldest event not yet acknowledged, or null (does not wait). */
    public String eventNext() {
        return eventNext(0);
    }

    /** The host has acted on event {@code seq}: it is never handed out again. */
    public void eventAck(long seq) {
        try {
            check(LibSellSync.sellsync_event_ack(state.h, seq));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Acknowledges an event document by its {@code "seq"}. */
    public void eventAck(String eventJson) {
        eventAck(eventSeq(eventJson));
    }

    /** The {@code "seq"} number of an event document. */
    public static long eventSeq(String eventJson) {
        Object seq = Json.object(eventJson).get("seq");
        if (!(seq instanceof Number)) {
            throw new IllegalArgumentException("the event has no seq");
        }
        return ((Number) seq).longValue();
    }

    /**
     * Sends events to {@code listener} on the library's event thread instead of
     * {@link #eventNext}; null removes it. Each event is acknowledged when the listener returns;
     * when it throws, the event is declined ({@code sellsync_event_decline}: it comes again after
     * {@code orders.redelivery_seconds}) and the exception goes to the thread's uncaught
     * exception handler. The listener may call this handle, except {@link #close()} and this
     * method. The handle keeps the listener until it is replaced or the handle is closed.
     */
    public void setEventListener(EventListener listener) {
        try {
            if (listener == null) {
                check(LibSellSync.sellsync_set_event_callback(state.h, null, null, null));
                eventListener = null;
                return;
            }
            long user = register(listener, state.h);
            int status = LibSellSync.sellsync_set_event_callback(state.h, EVENT_TRAMPOLINE, new Pointer(user), FREE_USER);
            if (status != Status.OK) {
                String detail = lastError();
                REGISTERED.remove(user);
                throw SellSyncException.of(status, detail);
            }
            eventListener = listener;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Sets the absolute on-hand quantity of one host item. */
    public void stockSet(String hostItem, long onHand) {
        try {
            check(LibSellSync.sellsync_stock_set(state.h, utf8(hostItem, "hostItem"), onHand));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Sets several on-hand quantities at once, all or nothing: {@code {"levels": [...]}}. */
    public void stockSetBatch(String levelsJson) {
        try {
            check(LibSellSync.sellsync_stock_set_batch(state.h, utf8(levelsJson, "levelsJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Sets several on-hand quantities at once, all or nothing: host item to on hand. */
    public void stockSetBatch(Map<String, Long> onHand) {
        stockSetBatch(null, onHand);
    }

    /**
     * Sets several on-hand quantities at one location (a store or warehouse), all or nothing:
     * host item to on hand there. Amazon sells the sum over {@code stock.amazon_locations}.
     */
    public void stockSetBatch(String location, Map<String, Long> onHand) {
        if (onHand == null) {
            throw new NullPointerException("onHand");
        }
        List<Object> levels = new ArrayList<>();
        for (Map.Entry<String, Long> e : onHand.entrySet()) {
            Map<String, Object> level = new LinkedHashMap<>();
            level.put("host_item", e.getKey());
            level.put("on_hand", e.getValue());
            if (location != null) {
                level.put("location", location);
            }
            levels.add(level);
        }
        stockSetBatch(Json.write(Map.of("levels", levels)));
    }

    /** Creates, replaces or removes SKU mappings, all or nothing: {@code {"mappings": [...]}}. */
    public void skuMap(String mappingJson) {
        try {
            check(LibSellSync.sellsync_sku_map(state.h, utf8(mappingJson, "mappingJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The seller's listings as last pulled from Amazon, with their mapping state. */
    public String listings() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_listings(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The stock at Amazon of the SKUs it fulfils, as last read with the listings. */
    public String fbaStock() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_fba_stock(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Creates (or finds) the seller's notification destination and subscriptions for the
     * configured queue; returns their ids as JSON.
     */
    public String notificationsSetup() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_notifications_setup(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Confirms a shipped package (a shipment document); sent to Amazon exactly once. */
    public void shipmentConfirm(String shipmentJson) {
        try {
            check(LibSellSync.sellsync_shipment_confirm(state.h, utf8(shipmentJson, "shipmentJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The packages of one order, or with {@code orderId} null of every order with a package not yet at Amazon. */
    public String shipments(String orderId) {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_shipments(state.h, orderId == null ? null : utf8(orderId, "orderId"), out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The packages of every order with a package not yet at Amazon. */
    public String shipments() {
        return shipments(null);
    }

    /** Cancels a whole seller-fulfilled order not shipped yet, with one of Amazon's reasons. */
    public void orderCancel(String orderId, String reason) {
        try {
            check(LibSellSync.sellsync_order_cancel(state.h, utf8(orderId, "orderId"), utf8(reason, "reason")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Replaces the client secret (and, if given, the refresh token or client id) of the open
     * handle: {@code {"client_secret": "..."}}. The next token exchange uses them.
     */
    public void setCredentials(String credentialsJson) {
        try {
            check(LibSellSync.sellsync_set_credentials(state.h, utf8(credentialsJson, "credentialsJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Deletes one order's buyer data (the recipient) at once and for good. */
    public void purgeBuyerData(String orderId) {
        try {
            check(LibSellSync.sellsync_purge_buyer_data(state.h, utf8(orderId, "orderId")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Cancels the unshipped units of some items: {@code {"order_id", "reason", "items": [...]}}. */
    public void orderCancelItems(String cancelJson) {
        try {
            check(LibSellSync.sellsync_order_cancel_items(state.h, utf8(cancelJson, "cancelJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Refunds items of an order: {@code {"order_id", "reason", "items": [...]}}. */
    public void orderRefund(String refundJson) {
        try {
            check(LibSellSync.sellsync_order_refund(state.h, utf8(refundJson, "refundJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Sets prices per SKU and marketplace, all or nothing: {@code {"prices": [{"sku",
     * "marketplace_id", "price": "15.50", "minimum", "maximum", ...}]}}. A price outside the
     * seller's minimum and maximum throws {@link InvalidArgumentException}; a large change waits
     * for {@link #priceConfirm} (event {@code price.confirmation_needed}).
     */
    public void priceSet(String pricesJson) {
        try {
            check(LibSellSync.sellsync_price_set(state.h, utf8(pricesJson, "pricesJson")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Confirms the price of {@code sku} in {@code marketplaceId} that waits for it. */
    public void priceConfirm(String sku, String marketplaceId) {
        try {
            check(LibSellSync.sellsync_price_confirm(state.h, utf8(sku, "sku"), utf8(marketplaceId, "marketplaceId")));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Every price set and where it stands, by SKU. */
    public String prices() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_prices(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Seller performance against Amazon's targets; {@code queryJson} may be null. */
    public String metrics(String queryJson) {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_metrics(state.h, queryJson == null ? null : utf8(queryJson, "queryJson"), out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Seller performance against Amazon's targets, with the default query. */
    public String metrics() {
        return metrics(null);
    }

    /** Counts of orders, stock and every queue. */
    public String state() {
        PointerByReference out = new PointerByReference();
        try {
            return take(LibSellSync.sellsync_state(state.h, out), out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Sends the library's log lines at {@code level} ({@link LogLevel}) or more severe to
     * {@code listener}; null removes it (the library is silent by default). The listener runs on
     * whichever thread writes a line, possibly several at once; it must not call {@link #close()}
     * or this method.
     */
    public void setLogListener(int level, LogListener listener) {
        try {
            if (listener == null) {
                check(LibSellSync.sellsync_set_log_callback(state.h, level, null, null, null));
                logListener = null;
                return;
            }
            long user = register(listener, state.h);
            int status = LibSellSync.sellsync_set_log_callback(state.h, level, LOG_TRAMPOLINE, new Pointer(user), FREE_USER);
            if (status != Status.OK) {
                String detail = lastError();
                REGISTERED.remove(user);
                throw SellSyncException.of(status, detail);
            }
            logListener = listener;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ---- the library's own functions -------------------------------------------------------------

    /** The library's version, e.g. "0.1.0" ({@code sellsync_version}). */
    public static String version() {
        LibSellSync.ensureLoaded();
        return LibSellSync.text(LibSellSync.sellsync_version());
    }

    /** The library's version as MAJOR * 10000 + MINOR * 100 + PATCH ({@code sellsync_version_number}). */
    public static int versionNumber() {
        LibSellSync.ensureLoaded();
        return LibSellSync.sellsync_version_number();
    }

    /**
     * This thread's message of the last failed call ({@code sellsync_last_error}); the
     * exceptions carry it already, so a host rarely needs this.
     */
    public static String lastError() {
        LibSellSync.ensureLoaded();
        return LibSellSync.text(LibSellSync.sellsync_last_error());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static long register(Object listener, Pointer h) {
        long user = NEXT_USER.getAndIncrement();
        REGISTERED.put(user, new Registration(listener, h));
        return user;
    }

    /** Throws the exception of a failed status, with this thread's last error read at once. */
    private static void check(int status) {
        if (status != Status.OK) {
            throw SellSyncException.of(status, lastError());
        }
    }

    /** Checks the status, then reads the string handed out (if any) and frees it with the library. */
    private static String take(int status, PointerByReference out) {
        check(status);
        Pointer p = out.getValue();
        if (p == null) {
            return null;
        }
        STRINGS_RECEIVED.incrementAndGet();
        try {
            return p.getString(0, "UTF-8");
        } finally {
            LibSellSync.sellsync_string_free(p);
            STRINGS_FREED.incrementAndGet();
        }
    }

    /** A string as NUL-terminated UTF-8; a null or one with a NUL character is refused here. */
    private static byte[] utf8(String s, String name) {
        if (s == null) {
            throw new InvalidArgumentException(name + " is null");
        }
        if (s.indexOf('\0') >= 0) {
            throw new InvalidArgumentException(name + " contains a NUL character");
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }
}
