package org.sellsync;

import com.sun.jna.Callback;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.io.File;

/**
 * The C functions of {@code include/sellsync.h}, one native method each (JNA direct mapping).
 * Strings in are NUL-terminated UTF-8 {@code byte[]}; strings out are raw pointers, read as
 * UTF-8 and freed with {@link #sellsync_string_free} by {@link SellSync}, never by JNA.
 */
final class LibSellSync {
    private LibSellSync() {}

    /** Major version of the C API this binding is written against. */
    static final int MAJOR = 0;

    /** {@code void (*cb)(void *user, const char *event_json)}. */
    interface EventCallback extends Callback {
        void invoke(Pointer user, Pointer eventJson);
    }

    /** {@code void (*cb)(void *user, int32_t level, const char *message)}. */
    interface LogCallback extends Callback {
        void invoke(Pointer user, int level, Pointer message);
    }

    /** {@code void (*free_user)(void *user)}. */
    interface FreeUser extends Callback {
        void invoke(Pointer user);
    }

    static native Pointer sellsync_version();

    static native int sellsync_version_number();

    static native Pointer sellsync_status_str(int code);

    static native Pointer sellsync_last_error();

    static native void sellsync_string_free(Pointer s);

    static native int sellsync_open(byte[] configJson, PointerByReference out);

    static native int sellsync_close(Pointer h);

    static native int sellsync_sync_now(Pointer h, int flows);

    static native int sellsync_start(Pointer h);

    static native int sellsync_stop(Pointer h);

    static native int sellsync_order_next(Pointer h, PointerByReference orderJson);

    static native int sellsync_order_ack(Pointer h, byte[] orderId, byte[] hostRef);

    static native int sellsync_event_next(Pointer h, int timeoutMs, PointerByReference eventJson);

    static native int sellsync_set_event_callback(
            Pointer h, EventCallback cb, Pointer user, FreeUser freeUser);

    static native int sellsync_stock_set(Pointer h, byte[] hostItem, long onHand);

    static native int sellsync_stock_set_batch(Pointer h, byte[] levelsJson);

    static native int sellsync_sku_map(Pointer h, byte[] mappingJson);

    static native int sellsync_listings(Pointer h, PointerByReference listingsJson);

    static native int sellsync_fba_stock(Pointer h, PointerByReference fbaJson);

    static native int sellsync_notifications_setup(Pointer h, PointerByReference setupJson);

    static native int sellsync_shipment_confirm(Pointer h, byte[] shipmentJson);

    static native int sellsync_shipments(Pointer h, byte[] orderId, PointerByReference shipmentsJson);

    static native int sellsync_order_cancel(Pointer h, byte[] orderId, byte[] reason);

    static native int sellsync_order_refund(Pointer h, byte[] refundJson);

    static native int sellsync_price_set(Pointer h, byte[] pricesJson);

    static native int sellsync_price_confirm(Pointer h, byte[] sku, byte[] marketplaceId);

    static native int sellsync_prices(Pointer h, PointerByReference pricesJson);

    static native int sellsync_metrics(Pointer h, byte[] queryJson, PointerByReference metricsJson);

    static native int sellsync_state(Pointer h, PointerByReference stateJson);

    static native int sellsync_order_cancel_items(Pointer h, byte[] cancelJson);

    static native int sellsync_event_ack(Pointer h, long seq);

    static native int sellsync_event_decline(Pointer h, long seq);

    static native int sellsync_set_log_callback(
            Pointer h, int level, LogCallback cb, Pointer user, FreeUser freeUser);

    static native int sellsync_set_credentials(Pointer h, byte[] credentialsJson);

    static native int sellsync_purge_buyer_data(Pointer h, byte[] orderId);

    // ---- loading ----------------------------------------------------------------------------

    private static boolean loaded;
    private static String failure;

    /**
     * Loads libsellsync once and binds the methods above: the file named by the environment
     * variable {@code SELLSYNC_LIBRARY} if set, else {@code sellsync} searched in
     * {@code jna.library.path}, then the system's library path. Refuses a library of another
     * major version. Every later call after a failure throws the same message again.
     */
    static synchronized void ensureLoaded() {
        if (loaded) {
            return;
        }
        if (failure != null) {
            throw new LibraryException(failure);
        }
        try {
            NativeLibrary library = find();
            try {
                com.sun.jna.Native.register(LibSellSync.class, library);
            } catch (UnsatisfiedLinkError e) {
                throw new LibraryException(library.getFile() + " is not a usable libsellsync: " + e.getMessage());
            }
            checkVersion(sellsync_version_number(), text(sellsync_version()), library.getFile());
            loaded = true;
        } catch (LibraryException e) {
            failure = e.getMessage();
            throw e;
        }
    }

    private static NativeLibrary find() {
        String explicit = System.getenv("SELLSYNC_LIBRARY");
        if (explicit != null && !explicit.isEmpty()) {
            if (!new File(explicit).isFile()) {
                throw new LibraryException(
                        "SELLSYNC_LIBRARY names " + explicit + ", which is not a file");
            }
            try {
                return NativeLibrary.getInstance(new File(explicit).getAbsolutePath());
            } catch (UnsatisfiedLinkError e) {
                throw new LibraryException(
                        "cannot load " + explicit + " (from SELLSYNC_LIBRARY): " + e.getMessage());
            }
        }
        try {
            return NativeLibrary.getInstance("sellsync");
        } catch (UnsatisfiedLinkError e) {
            throw new LibraryException(
                    "libsellsync not found: set SELLSYNC_LIBRARY to the library file, or the "
                            + "system property jna.library.path to its folder, or install it "
                            + "on the system's library path (" + e.getMessage() + ")");
        }
    }

    /** Refuses a library whose major version is not {@link #MAJOR}. */
    static void checkVersion(int number, String version, File file) {
        int major = number / 10000;
        if (major != MAJOR) {
            throw new LibraryException(
                    "libsellsync " + version + (file == null ? "" : " (" + file + ")")
                            + " has major version " + major + "; this binding needs major version "
                            + MAJOR);
        }
    }

    /** A borrowed, NUL-terminated UTF-8 string of the library (static or per-thread). */
    static String text(Pointer p) {
        return p == null ? null : p.getString(0, "UTF-8");
    }
}
