package org.sellsync;

/** Levels for {@link SellSync#setLogListener(int, SellSync.LogListener)} ({@code SELLSYNC_LOG_*}). */
public final class LogLevel {
    private LogLevel() {}

    /** Failures: a flow that failed, a call Amazon refused. */
    public static final int ERROR = 1;
    /** Retries, throttling, waits for Amazon's rate limits, things dropped. */
    public static final int WARN = 2;
    /** What each flow did per run, worker start and stop. */
    public static final int INFO = 3;
    /** Every SP-API call with its status and time, token refreshes. */
    public static final int DEBUG = 4;
}
