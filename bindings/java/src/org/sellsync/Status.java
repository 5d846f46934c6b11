package org.sellsync;

/** The status codes of {@code sellsync_status} ({@code SELLSYNC_OK}, {@code SELLSYNC_ERR_*}). */
public final class Status {
    private Status() {}

    public static final int OK = 0;
    public static final int INVALID_ARGUMENT = 1;
    public static final int CONFIG = 2;
    public static final int AUTH = 3;
    public static final int THROTTLED = 4;
    public static final int NETWORK = 5;
    public static final int AMAZON = 6;
    public static final int STORE = 7;
    public static final int NOT_FOUND = 8;
    public static final int CONFLICT = 9;
    public static final int TIMEOUT = 10;
    public static final int CLOSED = 11;
    public static final int INVALID_STATE = 12;
    public static final int FORKED = 13;
    public static final int INTERNAL = 14;

    private static final String[] NAMES = {
        "OK", "INVALID_ARGUMENT", "CONFIG", "AUTH", "THROTTLED", "NETWORK", "AMAZON", "STORE",
        "NOT_FOUND", "CONFLICT", "TIMEOUT", "CLOSED", "INVALID_STATE", "FORKED", "INTERNAL",
    };

    /** The constant's name without its prefix, e.g. "NOT_FOUND"; "STATUS_n" for an unknown code. */
    public static String name(int code) {
        return code >= 0 && code < NAMES.length ? NAMES[code] : "STATUS_" + code;
    }

    /** The library's static text for a status ({@code sellsync_status_str}). */
    public static String text(int code) {
        LibSellSync.ensureLoaded();
        return LibSellSync.text(LibSellSync.sellsync_status_str(code));
    }
}
